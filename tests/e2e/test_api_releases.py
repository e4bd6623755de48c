"""Releases end to end: the embedded app, a models file on loopback model doubles.

The scenario of the issue: a healthy release rolls out 5 -> 25 -> 100 % on the gates
alone; then a release whose model starts failing (its deployment's double answers
500) is rolled back by the controller with no one acting, the audit log says which
gate failed with what numbers, and its callers are answered by the current release
again. The controller's tick is driven directly (the scheduler's own interval is set
long), so nothing here waits on a clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from governance.audit_answers import AuditedAnswers
from ragline.service import create_app
from releases.assignment import takes_candidate
from tests.conftest import ADMIN_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done
from tests.llm_double import ChatDouble, serve

pytestmark = pytest.mark.e2e

QUESTION = "How many vacation days do full-time employees get?"
CALLERS = [f"test-caller-{n:03d}" for n in range(200)]
KEYS: dict[str, Any] = {
    ADMIN_KEY: {"roles": ["admin", "public"], "team": "ops", "name": "admin"},
    **{key: {"roles": ["public"], "team": "search"} for key in CALLERS},
}
READER = CALLERS[0]
# A prompt whose answers the model double makes up: their grounding drops.
OVERCONFIDENT = "Answer confidently, even beyond the sources."
HANDBOOK = (
    b"# Leave policy\n\nFull-time employees receive 27 days of paid vacation per year. "
    b"Unused days may be carried over until March.\n"
)


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("primary", "flaky") as started:
        yield started


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, doubles: dict[str, ChatDouble]
) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("releases")
    models_file = root / "models.yaml"
    models_file.write_text(
        yaml.safe_dump(
            {
                "deployments": [_deployment(name, doubles) for name in ("primary", "flaky")],
                "routing": {"default_tier": "frontier", "allowed_fails": 1000},
            }
        )
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("DOUBLE_KEY", "sk-double-not-a-secret")
    settings = make_settings(
        root / "data",
        api_keys=json.dumps(KEYS),
        models_file=models_file,
        # Fixed, so the key ids and with them each stage's callers are the same every run.
        fingerprint_secret="releases-test-fingerprint-secret-not-a-real-one",
        # The controller is driven by the test; the scheduler's own tick stays out of it.
        refresh={"beat_interval_s": 300},
        releases={
            "hold_s": 0,
            "hold_requests": 4,
            "min_requests": 4,
            # Four answers a side: p95 is their slowest. Latency is not what this tests.
            "latency_slack_s": 30,
        },
    )
    try:
        with TestClient(create_app(settings, dense=embedder)) as test_client:
            resp = test_client.post(
                "/buckets", json={"name": "handbook", "roles": ["public"]}, headers=auth(ADMIN_KEY)
            )
            assert resp.status_code == 201, resp.text
            doc = upload(test_client, "handbook", "handbook.md", HANDBOOK)
            assert wait_done(test_client, doc["document_id"])["status"] == "indexed"
            yield test_client
    finally:
        mp.undo()


def _deployment(name: str, doubles: dict[str, ChatDouble]) -> dict[str, Any]:
    return {
        "name": name,
        "model": f"openai/{name}-model",
        "api_base": doubles[name].api_base,
        "api_key_env": "DOUBLE_KEY",
        "tier": "frontier",
        "region": "eu",
        "input_price_per_mtok": 0.15,
        "output_price_per_mtok": 0.60,
        "timeout_s": 5,
    }


def _grounded(messages: list[dict[str, Any]]) -> str:
    if OVERCONFIDENT in str(messages[0]["content"]):  # the prompt of a bad release
        return "The office closes every August and each employee is given a company car [1]."
    if "27 days" in str(messages[-1]["content"]):
        return "Full-time employees receive 27 days of paid vacation per year [1]."
    return "I could not find this in the documents you can access."


@pytest.fixture(autouse=True)
def healthy(doubles: dict[str, ChatDouble]) -> None:
    doubles["primary"].status, doubles["primary"].reply = 200, _grounded
    doubles["flaky"].status, doubles["flaky"].reply = 500, _grounded  # it always fails


def _ask(client: TestClient, key: str) -> dict[str, Any]:
    resp = client.post("/ask", json={"question": QUESTION}, headers=auth(key))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _key_id(client: TestClient, key: str) -> str:
    key_id: str = client.app.state.edge.keyring.from_key(key).key_id  # type: ignore[attr-defined]
    return key_id


def _split(client: TestClient, release: str, percent: int) -> tuple[list[str], list[str]]:
    """(callers the stage gives the candidate, callers it leaves on the current)."""
    inside = [k for k in CALLERS if takes_candidate(release, _key_id(client, k), percent)]
    return inside, [k for k in CALLERS if k not in inside]


def _metrics(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics", headers=auth(ADMIN_KEY))
    assert resp.status_code == 200, resp.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    }


def _tick(client: TestClient) -> list[str]:
    decisions: list[str] = client.app.state.services.releases.tick()  # type: ignore[attr-defined]
    return decisions


def _release(client: TestClient, release: str) -> dict[str, Any]:
    resp = client.get(f"/releases/{release}", headers=auth(ADMIN_KEY))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _create(client: TestClient, **body: Any) -> dict[str, Any]:
    resp = client.post("/releases", json=body, headers=auth(ADMIN_KEY))
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


def test_releases_are_admin_only_and_refuse_what_does_not_exist(client: TestClient) -> None:
    body = {"prompt_version": 1, "route": "primary"}
    assert client.get("/releases", headers=auth(READER)).status_code == 403
    assert client.post("/releases", json=body, headers=auth(READER)).status_code == 403
    assert client.get("/releases").status_code == 401
    for bad, says in (
        ({"prompt_version": 7, "route": "primary"}, "no version 7"),
        ({"prompt_version": 1, "route": "gpt-9"}, "unknown route 'gpt-9'"),
        ({"prompt_version": 1, "route": "primary", "settings": {"top_k": 0}}, "top_k"),
    ):
        resp = client.post("/releases", json=bad, headers=auth(ADMIN_KEY))
        assert resp.status_code == 422, resp.text
        assert says in resp.json()["error"]["message"]
    assert client.get("/releases/rel-99", headers=auth(ADMIN_KEY)).status_code == 404
    assert client.post("/releases/rel-99/start", headers=auth(ADMIN_KEY)).status_code == 404


def test_a_healthy_release_advances_then_a_failing_one_rolls_itself_back(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    # Before any release: the service's own settings answer, and say so.
    assert _ask(client, READER)["release"] is None
    assert client.get("/releases/current", headers=auth(ADMIN_KEY)).status_code == 404

    good = _create(client, prompt_version=1, route="primary", note="same model, pinned")
    assert (good["id"], good["version"], good["status"]) == ("rel-1", 1, "draft")
    assert good["bundle"] == {
        "prompt_name": "answer", "prompt_version": 1, "route": "primary", "settings": {},
    }  # fmt: skip
    conflict = client.post("/releases/rel-1/promote", headers=auth(ADMIN_KEY))
    assert conflict.status_code == 409 and "is draft" in conflict.json()["error"]["message"]
    started = client.post("/releases/rel-1/start", headers=auth(ADMIN_KEY)).json()
    assert (started["status"], started["stage_percent"]) == ("staged", 5)

    for percent, after in ((5, 25), (25, 100)):
        inside, outside = _split(client, "rel-1", percent)
        assert len(inside) >= 4, "the stage has too few callers among the test keys"
        for key in inside[:4] + outside[:4]:
            body = _ask(client, key)
            assert body["degraded"] is False
            assert body["release"] is None or body["release"]["id"] == "rel-1"
        arms = {_ask(client, k)["release"]["arm"] for k in inside[:1]}
        assert arms == {"candidate"}
        assert _tick(client) == [f"rel-1 advanced to {after}%"]
    current = client.get("/releases/current", headers=auth(ADMIN_KEY)).json()
    assert (current["id"], current["status"], current["stage_percent"]) == ("rel-1", "current", 100)
    assert _ask(client, CALLERS[7])["release"] == {"id": "rel-1", "version": 1, "arm": "current"}

    # A release whose model starts failing: every one of its answers is degraded.
    bad = _create(client, prompt_version=1, route="flaky", settings={"top_k": 4})
    assert bad["id"] == "rel-2"
    assert client.post("/releases/rel-2/start", headers=auth(ADMIN_KEY)).status_code == 200
    inside, outside = _split(client, "rel-2", 5)
    assert len(inside) >= 4
    for key in inside[:4]:
        body = _ask(client, key)
        assert body["release"] == {"id": "rel-2", "version": 2, "arm": "candidate"}
        assert body["degraded"] is True and body["model"] == "extractive"
    for key in outside[:4]:
        assert _ask(client, key)["release"]["id"] == "rel-1"
    staged = _release(client, "rel-2")
    gates = {g["name"]: g for g in staged["gates"]}
    assert gates["degraded_rate"]["passed"] is False
    assert gates["degraded_rate"]["candidate"] == 1.0 and gates["degraded_rate"]["current"] == 0.0
    assert staged["window"]["candidate"]["requests"] == 4

    assert _metrics(client)[("ragline_release_stage_percent", (("release", "rel-2"),))] == 5

    # Nobody acts: the controller's next tick rolls it back.
    decisions = _tick(client)
    assert len(decisions) == 1 and decisions[0].startswith("rel-2 rolled back: gate failed")
    rolled = _release(client, "rel-2")
    assert (rolled["status"], rolled["stage_percent"]) == ("rolled_back", 0)
    assert rolled["reason"].startswith("gate failed: degraded_rate: candidate 1 vs current 0")
    assert [e["action"] for e in rolled["events"]] == ["create", "start", "rollback"]
    assert rolled["events"][-1]["details"]["failed_gates"][0]["name"] == "degraded_rate"

    entries = client.get(
        "/audit", params={"action": "release.rollback"}, headers=auth(ADMIN_KEY)
    ).json()["entries"]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["target"], entry["identity"]) == ("rel-2", "ragline")
    details = entry["details"]
    assert details["automatic"] is True and details["traffic_to"] == "rel-1"
    assert details["from_percent"] == 5
    # Degraded answers fail the degraded gate (a slower p95 may fail beside it: timing).
    failed = {g["name"]: g for g in details["failed_gates"]}
    assert "degraded_rate" in failed and set(failed) <= {"degraded_rate", "p95_latency_s"}
    assert (failed["degraded_rate"]["candidate"], failed["degraded_rate"]["current"]) == (1.0, 0.0)

    # Prometheus sees it: the rollback (automatic), the candidate's degraded answers,
    # and no release staged any more.
    series = _metrics(client)
    assert series[("ragline_release_rollbacks_total", (("automatic", "true"),))] == 1
    assert series[("ragline_release_rollbacks_total", (("automatic", "false"),))] == 0
    answers = ("ragline_release_answers_total", (("arm", "candidate"), ("outcome", "degraded"),
                                                 ("release", "rel-2")))  # fmt: skip
    assert series[answers] == 4
    assert sum(
        v for (name, labels), v in series.items()
        if name == "ragline_release_answers_total" and ("release", "rel-1") in labels
    ) >= 8  # fmt: skip
    assert not any(name == "ragline_release_stage_percent" for name, _ in series)

    # The candidate's callers are answered by the current release again, not degraded.
    for key in inside[:4]:
        body = _ask(client, key)
        assert body["release"] == {"id": "rel-1", "version": 1, "arm": "current"}
        assert body["degraded"] is False and body["model"] == "primary"

    actions = [
        e["action"]
        for e in client.get("/audit", params={"kind": "event"}, headers=auth(ADMIN_KEY)).json()[
            "entries"
        ]
        if e["action"].startswith("release.")
    ]
    assert actions == [
        "release.create", "release.start", "release.advance", "release.advance",
        "release.create", "release.start", "release.rollback",
    ]  # fmt: skip

    listed = client.get("/releases", headers=auth(ADMIN_KEY)).json()
    assert (listed["current"], listed["staged"]) == ("rel-1", None)
    assert [(r["id"], r["status"]) for r in listed["releases"]] == [
        ("rel-2", "rolled_back"), ("rel-1", "current"),
    ]  # fmt: skip


def test_the_answer_record_names_the_release_that_answered(client: TestClient) -> None:
    body = _ask(client, CALLERS[3])
    services = client.app.state.services  # type: ignore[attr-defined]
    record = AuditedAnswers(services.audit, services.settings.audit).get_answer(body["answer_id"])
    assert record.retrieval["release"] == body["release"]


def test_a_release_whose_grounding_drops_is_rolled_back_too(client: TestClient) -> None:
    """After the scenario above: rel-1 is current. A new prompt version makes the
    model answer beyond its sources; the grounding gate catches it."""
    v1 = client.get("/prompts/answer/versions/1", headers=auth(ADMIN_KEY)).json()
    created = client.post(
        "/prompts/answer/versions",
        json={"system": OVERCONFIDENT + "\n" + v1["system"], "user": v1["user"]},
        headers=auth(ADMIN_KEY),
    )
    assert created.status_code == 201, created.text
    version = created.json()["version"]
    release = _create(client, prompt_version=version, route="primary")["id"]
    assert client.post(f"/releases/{release}/start", headers=auth(ADMIN_KEY)).status_code == 200
    inside, outside = _split(client, release, 5)
    made_up: list[float] = []
    for key in inside[:4]:
        body = _ask(client, key)
        assert body["release"]["id"] == release and body["degraded"] is False
        assert body["prompt"] == {"name": "answer", "version": version, "label": release}
        made_up.append(body["grounding"]["score"])
    grounded = [_ask(client, key)["grounding"]["score"] for key in outside[:4]]
    assert max(made_up) < min(grounded) - 0.2
    decisions = _tick(client)
    assert len(decisions) == 1 and f"{release} rolled back" in decisions[0]
    rolled = _release(client, release)
    assert rolled["status"] == "rolled_back"
    assert rolled["reason"].startswith("gate failed: mean_grounding: candidate")
    assert _ask(client, inside[0])["release"]["id"] == "rel-1"
