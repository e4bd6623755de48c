"""The shipped Prometheus config, alerts and Grafana dashboard against a real Prometheus.

The on-call promise of issue 17 is that the shipped dashboard shows p50/p95/p99, cost
per team and index lag, and that an alert links a runbook. Static checks and
``promtool`` cannot tell whether a panel's query returns anything for the series the
code really exports; this test runs Debian's ``prometheus`` against a real ragline app
on loopback (generated answers from the loopback model double, two teams, uploads, a
bucket behind its freshness SLA), then evaluates every panel query of
``infra/grafana/ragline.json`` through Prometheus' HTTP API and reads the index-lag
alert from ``/api/v1/alerts``.

The Prometheus config is the shipped one with only what cannot hold on a test machine
rewritten: the API job's target (loopback instead of Compose DNS), the bearer token
file's path, 1 s scrape and evaluation intervals, and an absolute path to the shipped
``alerts.yml``. The workers job is dropped: in embedded mode the ingestion workers are
threads of the API process, whose ``/metrics`` carries their series too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ragline.service import create_app
from tests.conftest import make_settings
from tests.e2e.console_harness import free_port, serving
from tests.llm_double import ChatDouble, serve

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="Debian's prometheus package (/usr/bin/prometheus) is not installed",
    ),
]

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_YML = REPO / "infra" / "prometheus" / "prometheus.yml"
ALERTS_YML = REPO / "infra" / "prometheus" / "alerts.yml"
DASHBOARD = REPO / "infra" / "grafana" / "ragline.json"

ADMIN_KEY = "live-admin-key"
SEARCH_KEY = "live-search-key"  # team "search"
SUPPORT_KEY = "live-support-key"  # team "support"
METRICS_KEY = "live-metrics-key"  # what Prometheus sends, from its token file
KEYS = {
    ADMIN_KEY: {"roles": ["admin", "public"], "team": "ops", "name": "admin"},
    SEARCH_KEY: {"roles": ["public"], "team": "search", "name": "search-reader"},
    SUPPORT_KEY: {"roles": ["public"], "team": "support", "name": "support-reader"},
    METRICS_KEY: {"roles": ["metrics"], "name": "prometheus"},
}
TEAMS = {"search": SEARCH_KEY, "support": SUPPORT_KEY}
STALE_BUCKET = "stale"
STALE_SLA_S = 60
STALE_AGE = timedelta(minutes=10)

HANDBOOK = (
    b"# Leave policy\n\nFull-time employees receive 27 days of paid vacation per year. "
    b"Unused days may be carried over until March.\n\n# Remote work\n\n"
    b"Employees may work remotely up to three days a week.\n"
)
HR = b"# Parental leave\n\nParents receive sixteen weeks of paid leave.\n"
TRAVEL = b"# Travel\n\nTravel to the Denver office is booked fourteen days ahead.\n"
BROKEN_PDF = b"%PDF-1.7\nthis is not a PDF body at all\n"

# Grafana's built-in variables, as concrete values. 5 m keeps the rates of this test's
# traffic above zero however long the busy machine takes between asking and querying.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "15s", "$__range": "5m"}

# Panels with no series in this run, and why; any other empty panel fails the test.
EXPECTED_EMPTY = {
    # No request answered 5xx; the share divides an empty sum.
    "5xx responses per route": "no 5xx response in this run",
    # The release router counts answers, and the stage gauge exists, only while a release
    # is staged or current; this run creates none (tests/e2e/test_api_releases.py does).
    "Staged release: stage percent": "no release is being rolled out",
    "Answers per release and arm": "no release is staged or current",
}


@dataclass
class Live:
    prometheus: str
    query: Callable[[str], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("primary") as started:
        yield started


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, doubles: dict[str, ChatDouble]
) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("prometheus-live")
    models_file = root / "models.yaml"
    models_file.write_text(yaml.safe_dump(_models(doubles["primary"])))
    mp = pytest.MonkeyPatch()
    mp.setenv("DOUBLE_KEY", "sk-double-not-a-secret")
    settings = make_settings(root / "data", api_keys=json.dumps(KEYS), models_file=models_file)
    app = create_app(settings, dense=embedder)
    try:
        with serving(app) as base, httpx.Client(base_url=base, timeout=120) as api:
            _seed(api)
            _register_stale_change(app)
            port = free_port()
            config = _prometheus_config(root, base.removeprefix("http://"))
            with _Prometheus(root, config, port) as prometheus:
                query = _querier(prometheus)
                _wait(lambda: _values(query('up{job="ragline-api"}')) == [1.0], "API scraped")
                # A counter's series is born at its first increment, and a rate needs
                # two samples of it: a first round creates the series, and once
                # Prometheus holds them a second round makes every rate positive.
                _drive(api, doubles["primary"], QUESTIONS[0])
                assert _settled(api, _upload(api, "handbook", "travel.md", TRAVEL)) == "indexed"
                assert _settled(api, _upload(api, "handbook", "broken.pdf", BROKEN_PDF)) == (
                    "failed"
                )
                _wait(lambda: _scraped(query), "the first round's series")
                _drive(api, doubles["primary"], QUESTIONS[1])
                assert _settled(api, _upload(api, "handbook", "hr.md", HR)) == "indexed"
                assert _settled(api, _upload(api, "handbook", "broken2.pdf", BROKEN_PDF)) == (
                    "failed"
                )
                _wait(lambda: _teams_with_cost(query) == set(TEAMS), "cost of both teams")
                yield Live(prometheus, query)
    finally:
        mp.undo()


def _models(primary: ChatDouble) -> dict[str, Any]:
    return {
        "deployments": [
            {
                "name": "primary",
                "model": "openai/primary-model",
                "api_base": primary.api_base,
                "api_key_env": "DOUBLE_KEY",
                "tier": "frontier",
                "input_price_per_mtok": 2.5,
                "output_price_per_mtok": 10.0,
                "timeout_s": 5,
            }
        ],
        "routing": {"default_tier": "frontier", "allowed_fails": 1000},
        # A generous limit, so the budget panel has a series and nothing is refused.
        "budgets": {"teams": {"search": {"daily_hard_usd": 100}}},
    }


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _upload(api: httpx.Client, bucket: str, name: str, content: bytes) -> str:
    resp = api.post(
        f"/buckets/{bucket}/documents", files={"file": (name, content)}, headers=_auth(ADMIN_KEY)
    )
    assert resp.status_code == 202, resp.text
    document_id: str = resp.json()["document_id"]
    return document_id


def _settled(api: httpx.Client, document_id: str) -> str:
    status = ""

    def done() -> bool:
        nonlocal status
        resp = api.get(f"/documents/{document_id}", headers=_auth(ADMIN_KEY))
        status = resp.json()["status"]
        return status in ("indexed", "failed")

    _wait(done, f"document {document_id} processed")
    return status


def _seed(api: httpx.Client) -> None:
    for body in (
        {"name": "handbook", "roles": ["public"]},
        {"name": STALE_BUCKET, "roles": ["public"], "max_lag_s": STALE_SLA_S},
    ):
        resp = api.post("/buckets", json=body, headers=_auth(ADMIN_KEY))
        assert resp.status_code == 201, resp.text
    assert _settled(api, _upload(api, "handbook", "handbook.md", HANDBOOK)) == "indexed"


def _register_stale_change(app: Any) -> None:
    """A change the bucket has and search does not show, seen ten minutes ago.

    As a refresh records an object it listed: registered (queued) with the time it
    changed in the source. Nothing enqueues it, so it stays unsearchable and the
    bucket's lag (its age) is far over the bucket's 60 s SLA for the whole test.
    """
    registry = app.state.services.registry
    registration = registry.register(
        bucket=STALE_BUCKET,
        key="changed-upstream.md",
        content_hash="hash-of-the-new-version",
        size_bytes=42,
        roles=["public"],
        doc_type=None,
        title=None,
        changed_at=datetime.now(UTC) - STALE_AGE,
    )
    assert registration.document.status == "queued"


QUESTIONS = (
    "How many vacation days do full-time employees get?",
    "How many days a week may employees work remotely?",
)


def _drive(api: httpx.Client, primary: ChatDouble, question: str) -> None:
    """One round of traffic: a generated answer per team, and a degraded extractive one."""
    for team, key in TEAMS.items():
        body = _ask(api, key, question)
        assert body["model"] == "primary", (team, body)
        assert body["usage"]["cost_usd"] > 0, (team, body)
    # The provider fails once: an extractive answer, degraded for provider_error.
    primary.status = 500
    try:
        body = _ask(api, SEARCH_KEY, question)
    finally:
        primary.status = 200
    assert body["model"] == "extractive" and body["degraded"] is True, body


def _ask(api: httpx.Client, key: str, question: str) -> dict[str, Any]:
    resp = api.post("/ask", json={"question": question}, headers=_auth(key))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _prometheus_config(root: Path, target: str) -> Path:
    """The shipped prometheus.yml, with only targets, token path and intervals rewritten."""
    shipped = yaml.safe_load(PROMETHEUS_YML.read_text())
    token = root / "ragline-metrics-key"
    token.write_text(METRICS_KEY)
    token.chmod(0o400)
    shipped["global"].update(scrape_interval="1s", evaluation_interval="1s")
    assert shipped["rule_files"] == ["alerts.yml"]
    shipped["rule_files"] = [str(ALERTS_YML)]
    jobs = {job["job_name"]: job for job in shipped["scrape_configs"]}
    assert set(jobs) == {"ragline-api", "ragline-workers"}
    api_job = jobs["ragline-api"]
    assert api_job["authorization"]["type"] == "Bearer"
    api_job["authorization"]["credentials_file"] = str(token)
    del api_job["dns_sd_configs"]
    api_job["static_configs"] = [{"targets": [target]}]
    shipped["scrape_configs"] = [api_job]
    path = root / "prometheus.yml"
    path.write_text(yaml.safe_dump(shipped, sort_keys=False))
    return path


class _Prometheus:
    def __init__(self, root: Path, config: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = root / "prometheus.log"
        self._args = [
            str(shutil.which("prometheus")),
            f"--config.file={config}",
            f"--storage.tsdb.path={root / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]

    def __enter__(self) -> str:
        self._out = self.log.open("wb")
        self._process = subprocess.Popen(self._args, stdout=self._out, stderr=subprocess.STDOUT)
        try:
            _wait(self._ready, "Prometheus ready")
        except BaseException:
            self.__exit__()
            raise
        return self.url

    def _ready(self) -> bool:
        assert self._process.poll() is None, self.log.read_text()[-3000:]
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def __exit__(self, *_: object) -> None:
        self._process.terminate()
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(30)
        self._out.close()


def _querier(prometheus: str) -> Callable[[str], list[dict[str, Any]]]:
    def query(expr: str) -> list[dict[str, Any]]:
        resp = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=30)
        body = resp.json()
        assert resp.status_code == 200 and body["status"] == "success", (expr, body)
        assert body["data"]["resultType"] == "vector", (expr, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    return query


def _values(result: list[dict[str, Any]]) -> list[float]:
    return [float(sample["value"][1]) for sample in result]


def _scraped(query: Callable[[str], list[dict[str, Any]]]) -> bool:
    costs = query("ragline_llm_cost_usd_total")
    asks = query('ragline_http_request_duration_seconds_count{route="/ask"}')
    ingested = query("ragline_ingest_documents_total")
    outcomes = {s["metric"].get("outcome") for s in ingested}
    return (
        {s["metric"]["team"] for s in costs} >= set(TEAMS)
        and bool(asks)
        and ({"indexed", "failed"} <= outcomes)
    )


def _teams_with_cost(query: Callable[[str], list[dict[str, Any]]]) -> set[str]:
    result = query("sum by (team) (rate(ragline_llm_cost_usd_total[5m]))")
    return {s["metric"]["team"] for s in result if float(s["value"][1]) > 0}


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(0.5)


def _panels() -> Iterator[dict[str, Any]]:
    def walk(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in panels:
            yield panel
            yield from walk(panel.get("panels", []))

    yield from walk(json.loads(DASHBOARD.read_text())["panels"])


def _expand(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"an unknown Grafana variable in {expr!r}"
    return expr


def _panel_results(live: Live) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per panel title, per target refId, what Prometheus answers to its query now."""
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for panel in _panels():
        targets = panel.get("targets", [])
        if targets:
            results[panel["title"]] = {t["refId"]: live.query(_expand(t["expr"])) for t in targets}
    return results


def _panel(live: Live, title: str) -> dict[str, list[dict[str, Any]]]:
    return _panel_results(live)[title]


def test_every_panel_query_runs_and_only_the_expected_ones_are_empty(live: Live) -> None:
    results = _panel_results(live)
    assert len(results) >= 18
    empty = {title for title, targets in results.items() if not any(targets.values())}
    assert empty == set(EXPECTED_EMPTY), {
        "unexpectedly empty": {t: results[t] for t in sorted(empty - set(EXPECTED_EMPTY))},
        "expected empty but not": sorted(set(EXPECTED_EMPTY) - empty),
    }


def test_every_shipped_rule_evaluates_without_error(live: Live) -> None:
    shipped = {
        r["alert"]
        for g in yaml.safe_load(ALERTS_YML.read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    health: dict[str, tuple[str, str]] = {}

    def evaluated() -> bool:
        body = httpx.get(f"{live.prometheus}/api/v1/rules", timeout=30).json()
        for group in body["data"]["groups"]:
            for rule in group["rules"]:
                health[rule["name"]] = (rule["health"], rule.get("lastError", ""))
        return set(health) >= shipped and all(h != "unknown" for h, _ in health.values())

    _wait(evaluated, "every rule evaluated once", timeout_s=60)
    assert set(health) == shipped
    assert {name: h for name, h in health.items() if h[0] != "ok"} == {}


def test_latency_panel_shows_p50_p95_p99_of_the_ask_route(live: Live) -> None:
    panel = _panel(live, "Latency p50 / p95 / p99 per route")
    assert set(panel) == {"A", "B", "C"}
    ask = {
        ref: {float(s["value"][1]) for s in result if s["metric"].get("route") == "/ask"}
        for ref, result in panel.items()
    }
    for ref in ("A", "B", "C"):
        (value,) = ask[ref]
        assert 0 < value <= 30, (ref, value)  # a finite quantile, not NaN or +Inf
    assert ask["A"].pop() <= ask["B"].pop() <= ask["C"].pop()


def test_cost_panel_shows_both_teams_spending(live: Live) -> None:
    (result,) = _panel(live, "Cost per team").values()
    per_team = {s["metric"]["team"]: float(s["value"][1]) for s in result}
    assert set(per_team) >= set(TEAMS)
    assert all(per_team[team] > 0 for team in TEAMS), per_team


def test_lag_panel_shows_the_stale_bucket_over_its_sla(live: Live) -> None:
    panel = _panel(live, "Index lag vs SLA per bucket")
    lag = {s["metric"]["bucket"]: float(s["value"][1]) for s in panel["A"]}
    sla = {s["metric"]["bucket"]: float(s["value"][1]) for s in panel["B"]}
    assert sla[STALE_BUCKET] == STALE_SLA_S
    assert lag[STALE_BUCKET] >= STALE_AGE.total_seconds() > STALE_SLA_S
    assert lag["handbook"] == 0
    assert sla["handbook"] > 0


def test_index_lag_alert_is_pending_with_its_bucket_and_runbook(live: Live) -> None:
    rules = yaml.safe_load(ALERTS_YML.read_text())
    (rule,) = (
        r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "IndexLagOverSLA"
    )
    # Its `for:` (minutes) is longer than this test, so the alert is pending, not firing.
    assert rule["for"].endswith(("m", "h")), rule["for"]
    alerts: list[dict[str, Any]] = []

    def seen() -> bool:
        nonlocal alerts
        resp = httpx.get(f"{live.prometheus}/api/v1/alerts", timeout=30).json()
        alerts = [
            a for a in resp["data"]["alerts"] if a["labels"]["alertname"] == "IndexLagOverSLA"
        ]
        return bool(alerts)

    _wait(seen, "IndexLagOverSLA pending", timeout_s=60)
    (alert,) = alerts
    assert alert["state"] == "pending"
    assert alert["labels"] == {
        "alertname": "IndexLagOverSLA",
        "bucket": STALE_BUCKET,
        "severity": rule["labels"]["severity"],
    }
    assert float(alert["value"]) >= STALE_AGE.total_seconds()
    runbook = alert["annotations"]["runbook_url"]
    assert runbook.startswith("docs/runbooks/")
    assert (REPO / runbook).is_file()
    assert STALE_BUCKET in alert["annotations"]["summary"]
