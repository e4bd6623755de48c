"""The alerts, the dashboard and the runbooks agree with the metrics and the CLI.

``infra/prometheus`` (scrape config, alert rules and their unit tests),
``infra/grafana/ragline.json`` and ``docs/runbooks`` are read by Prometheus, Grafana and
people on call, none of which runs here. So a renamed metric, a missing runbook or a
runbook command the CLI no longer knows fails a test instead of an incident: promtool
checks and unit-tests the rules, every series an expression names must be one ragline
exports (``observability.metrics.METRIC_NAMES``), and every ``ragline`` command shown in
a runbook must parse.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from observability.metrics import METRIC_NAMES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
PROMETHEUS = ROOT / "infra" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
ALERTS_TEST = PROMETHEUS / "alerts_test.yml"
PROMETHEUS_CONFIG = PROMETHEUS / "prometheus.yml"
DASHBOARD = ROOT / "infra" / "grafana" / "ragline.json"
RUNBOOKS = ROOT / "docs" / "runbooks"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (scripts/bootstrap.sh installs it)"
)
RAGLINE_SERIES = re.compile(r"\bragline_[a-z_]+")
# Series a histogram adds to its name; counters are listed with their _total already.
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
SEVERITIES = {"page", "ticket"}


# --- reading the files ----------------------------------------------------------


@cache
def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


@cache
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel that shows data (rows only group them)."""
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def dashboard_expressions() -> list[str]:
    return [t["expr"] for p in dashboard_panels() for t in p["targets"]]


def runbooks() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(RUNBOOKS.glob("*.md"))}


def unknown_series(expression: str) -> list[str]:
    """The ``ragline_*`` names in a PromQL expression that ragline does not export."""
    unknown = []
    for name in RAGLINE_SERIES.findall(expression):
        base = next((name.removesuffix(s) for s in HISTOGRAM_SUFFIXES if name.endswith(s)), name)
        if name not in METRIC_NAMES and base not in METRIC_NAMES:
            unknown.append(name)
    return unknown


def code_spans(text: str) -> list[str]:
    """Inline code and the lines of fenced blocks: where a runbook shows what to type."""
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        spans += [line.split(" #")[0].strip() for line in joined.splitlines()]
    return spans


@cache
def cli_root() -> Any:
    import typer.main

    from ragline.cli import app

    return typer.main.get_command(app)


def resolve_command(argv: list[str]) -> str | None:
    """Why ``argv`` is not a ``ragline`` command line the CLI accepts, or None if it is."""
    node, words = cli_root(), list(argv[1:])
    while getattr(node, "commands", None) is not None:
        if not words or words[0] not in node.commands:
            return f"no command {' '.join(argv[: len(argv) - len(words) + 1])!r}"
        node = node.commands[words.pop(0)]
    known = {opt for param in node.params for opt in (*param.opts, *param.secondary_opts)}
    unknown = [w for w in words if w.startswith("--") and w.split("=")[0] not in known]
    return f"{' '.join(argv)}: no option {unknown}" if unknown else None


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


# --- promtool ------------------------------------------------------------------------


@needs_promtool
def test_the_alert_rules_are_valid() -> None:
    result = promtool("check", "rules", ALERTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


@needs_promtool
def test_the_alert_rules_pass_their_unit_tests() -> None:
    result = promtool("test", "rules", ALERTS_TEST.name)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_the_unit_tests_can_fail(tmp_path: Path) -> None:
    """An alert that should fire and does not is reported: the suite above is not vacuous."""
    shutil.copy(ALERTS, tmp_path / ALERTS.name)
    tests = yaml.safe_load(ALERTS_TEST.read_text())
    case = next(
        t
        for t in tests["tests"]
        if any(a["alertname"] == "BudgetExhausted" for a in t["alert_rule_test"])
    )
    for series in case["input_series"]:
        series["values"] = "0.5x10"  # nobody over budget any more
    tests["tests"] = [case]
    (tmp_path / ALERTS_TEST.name).write_text(yaml.safe_dump(tests))
    result = promtool("test", "rules", ALERTS_TEST.name, cwd=tmp_path)
    assert result.returncode != 0
    assert "BudgetExhausted" in result.stdout + result.stderr


@needs_promtool
def test_the_scrape_config_is_valid(tmp_path: Path) -> None:
    """promtool also opens the bearer token file, so the check points it at one made here."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    (api,) = [job for job in config["scrape_configs"] if job["job_name"] == "ragline-api"]
    token = tmp_path / "ragline-metrics-key"
    token.write_text("a-metrics-key\n")
    text = PROMETHEUS_CONFIG.read_text().replace(
        api["authorization"]["credentials_file"], str(token)
    )
    (tmp_path / PROMETHEUS_CONFIG.name).write_text(text)
    shutil.copy(ALERTS, tmp_path / ALERTS.name)
    result = promtool("check", "config", PROMETHEUS_CONFIG.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_scrape_config_scrapes_the_api_with_a_key_and_the_workers() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"ragline-api", "ragline-workers"}
    assert all(job["metrics_path"] == "/metrics" for job in jobs.values())
    # The API's /metrics needs a key (RAGLINE_METRICS__PUBLIC=false); a worker's port has none.
    assert jobs["ragline-api"]["authorization"]["type"] == "Bearer"
    assert "authorization" not in jobs["ragline-workers"]
    assert config["rule_files"] == [ALERTS.name]
    # TargetDown watches these job names.
    (target_down,) = [r for r in alert_rules() if r["alert"] == "TargetDown"]
    assert all(re.fullmatch("ragline-.*", job) for job in jobs)
    assert 'job=~"ragline-.*"' in target_down["expr"]


# --- metric names --------------------------------------------------------------------


def test_the_name_check_refuses_series_ragline_does_not_export() -> None:
    assert unknown_series("rate(ragline_answers_total[5m])") == []
    assert unknown_series("ragline_answer_grounding_score_bucket") == []
    assert unknown_series("rate(ragline_answers[5m])") == ["ragline_answers"]
    assert unknown_series("ragline_documents_total + ragline_nope") == [
        "ragline_documents_total",
        "ragline_nope",
    ]


def test_every_series_the_alerts_name_is_exported() -> None:
    expressions = [rule["expr"] for rule in alert_rules()]
    assert len(expressions) >= 11
    assert [(e, unknown_series(e)) for e in expressions if unknown_series(e)] == []


def test_every_series_the_dashboard_names_is_exported() -> None:
    expressions = dashboard_expressions()
    assert len(expressions) >= 20
    assert [(e, unknown_series(e)) for e in expressions if unknown_series(e)] == []


def test_the_dashboard_shows_every_metric_ragline_exports() -> None:
    shown = {
        name.removesuffix(s) if name.removesuffix(s) in METRIC_NAMES else name
        for e in dashboard_expressions()
        for name in RAGLINE_SERIES.findall(e)
        for s in ("", *HISTOGRAM_SUFFIXES)
        if name.endswith(s)
    }
    assert sorted(METRIC_NAMES - shown) == []


# --- alerts --------------------------------------------------------------------------


def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook() -> None:
    rules = alert_rules()
    assert {
        "AskLatencyP95OverSLA",
        "HighErrorRate",
        "ProviderDown",
        "DegradedAnswersHigh",
        "GroundingDropped",
        "BudgetNearLimit",
        "BudgetExhausted",
        "IndexLagOverSLA",
        "IngestionFailures",
        "QueueBacklog",
        "TargetDown",
    } <= {r["alert"] for r in rules}
    for rule in rules:
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        annotations = rule["annotations"]
        assert annotations["summary"].strip() and annotations["description"].strip(), rule["alert"]
        url = annotations["runbook_url"]
        assert url.startswith("docs/runbooks/") and (ROOT / url).is_file(), (rule["alert"], url)


def test_every_alert_has_a_unit_test() -> None:
    tested = {
        case["alertname"]
        for test in yaml.safe_load(ALERTS_TEST.read_text())["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert sorted({r["alert"] for r in alert_rules()} - tested) == []


# --- runbooks ------------------------------------------------------------------------


def test_every_runbook_is_indexed_and_reached_from_an_alert_or_a_named_signal() -> None:
    books = runbooks()
    index = books.pop("README.md")
    assert len(books) >= 7
    linked = {Path(r["annotations"]["runbook_url"]).name for r in alert_rules()}
    for name, text in books.items():
        assert f"]({name})" in index, f"{name} is missing from docs/runbooks/README.md"
        # Reached from an alert, or it names the alerts and signals that lead to it.
        assert name in linked or "you get here from" in text.lower(), name
    for rule in alert_rules():
        book = books[Path(rule["annotations"]["runbook_url"]).name]
        assert f"`{rule['alert']}`" in book, f"{rule['alert']} is not named in its runbook"


def test_every_runbook_has_the_four_parts_and_resolving_links() -> None:
    for name, text in runbooks().items():
        if name == "README.md":
            continue
        headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
        assert headings == ["See it", "Confirm it", "Fix it", "Verify recovery"], name
    for name, text in runbooks().items():
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if not target.startswith("http"):
                assert (RUNBOOKS / target).exists(), f"{name}: broken link {target}"


def test_every_ragline_command_in_the_runbooks_exists_in_the_cli() -> None:
    lines = [
        shlex.split(span)
        for text in runbooks().values()
        for span in code_spans(text)
        if span.startswith("ragline ")
    ]
    assert len(lines) >= 20
    assert {tuple(line[:2]) for line in lines} >= {
        ("ragline", "prompts"),
        ("ragline", "refresh"),
        ("ragline", "buckets"),
    }
    assert sorted({p for line in lines if (p := resolve_command(line))}) == []


def test_the_command_check_refuses_what_the_cli_does_not_know() -> None:
    assert resolve_command(["ragline", "prompts", "rollback", "answer"]) is None
    assert resolve_command(["ragline", "prompts", "rollbak", "answer"]) is not None
    assert resolve_command(["ragline", "refresh", "hr", "--sever", "x"]) is not None


def test_the_runbooks_ask_routes_the_api_has() -> None:
    from api.app import build_app

    def services_never_opened() -> Any:  # a double: routes are read, nothing starts
        raise AssertionError("the app's services were opened")

    paths = set(build_app(services_never_opened).openapi()["paths"])
    templates = {re.sub(r"\{[^}]+\}", "{}", p) for p in paths}
    asked = {
        path.split("?")[0]
        for text in runbooks().values()
        for path in re.findall(r'"\$URL(/[^"\s]*)"', text)
    }
    assert {"/ready", "/metrics", "/slo", "/budgets", "/ask"} <= asked
    concrete = {re.sub(r"/(hr|DOCUMENT_ID|answer)(?=/|$)", "/{}", p) for p in asked}
    assert sorted(concrete - templates) == []


# --- dashboard -----------------------------------------------------------------------


def test_the_dashboard_is_importable_and_every_panel_has_a_query() -> None:
    data = dashboard()
    assert data["schemaVersion"] >= 36
    (source,) = data["__inputs"]
    assert source["name"] == "DS_PROMETHEUS" and source["pluginId"] == "prometheus"
    panels = dashboard_panels()
    assert len(panels) >= 15
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip() and target["refId"], panel["title"]
