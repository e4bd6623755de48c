"""Generated answers through the API, against OpenAI-compatible doubles on loopback.

The user's path from the issue: a models file pointing at two endpoints, generated
and cited answers with usage and cost, the fallback when the primary dies, extractive
answers marked degraded when both die, residency on the wire, streaming, a budget
hit, and a prompt rolled back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from governance.audit_answers import AuditedAnswers
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done
from tests.llm_double import ChatDouble, serve

pytestmark = pytest.mark.e2e

READER_KEY = "test-reader-key"  # team "search", no budget trouble
TIGHT_KEY = "test-tight-key"  # team "tight": a hard budget it spends on its first answer
HR_ONLY_KEY = "test-hr-only-key"  # reads no bucket of this module
KEYS = {
    HR_ONLY_KEY: {"roles": ["hr"]},
    ADMIN_KEY: {"roles": ["admin", "public"], "team": "ops", "name": "admin"},
    READER_KEY: {"roles": ["public"], "team": "search", "name": "reader"},
    TIGHT_KEY: {"roles": ["public"], "team": "tight", "name": "tight"},
}
HANDBOOK = (
    b"# Leave policy\n\nFull-time employees receive 27 days of paid vacation per year. "
    b"Unused days may be carried over until March.\n"
)
US_POLICY = (
    b"# Travel policy\n\nTravel to the Denver office is booked through the travel desk "
    b"at least fourteen days ahead.\n"
)


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("primary", "backup", "usbox") as started:
        yield started


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, doubles: dict[str, ChatDouble]
) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("generation")
    models_file = root / "models.yaml"
    models_file.write_text(
        yaml.safe_dump(
            {
                "deployments": [
                    _deployment("primary", doubles, "frontier", "eu", 0.15, 0.60),
                    _deployment("backup", doubles, "fast", "eu", 0.02, 0.02),
                    _deployment("usbox", doubles, "frontier", "us", 1.0, 1.0),
                ],
                "routing": {
                    "default_tier": "frontier",
                    "fallbacks": {"primary": ["backup"]},
                    # No cooldown here: these tests switch deployments off and on.
                    "allowed_fails": 1000,
                },
                "budgets": {"teams": {"tight": {"daily_hard_usd": 0.000001}}},
            }
        )
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("DOUBLE_KEY", "sk-double-not-a-secret")
    settings = make_settings(root / "data", api_keys=json.dumps(KEYS), models_file=models_file)
    try:
        with TestClient(create_app(settings, dense=embedder)) as test_client:
            for name, roles, region, content in (
                ("handbook", ["public"], "eu", HANDBOOK),
                ("uspolicy", ["public"], "us", US_POLICY),
            ):
                resp = test_client.post(
                    "/buckets",
                    json={"name": name, "roles": roles, "region": region},
                    headers=auth(ADMIN_KEY),
                )
                assert resp.status_code == 201, resp.text
                assert resp.json()["region"] == region
                doc = upload(test_client, name, f"{name}.md", content)
                assert wait_done(test_client, doc["document_id"])["status"] == "indexed"
            yield test_client
    finally:
        mp.undo()


def _deployment(
    name: str, doubles: dict[str, ChatDouble], tier: str, region: str, pin: float, pout: float
) -> dict[str, Any]:
    return {
        "name": name,
        "model": f"openai/{name}-model",
        "api_base": doubles[name].api_base,
        "api_key_env": "DOUBLE_KEY",
        "tier": tier,
        "region": region,
        "input_price_per_mtok": pin,
        "output_price_per_mtok": pout,
        "timeout_s": 5,
    }


@pytest.fixture(autouse=True)
def healthy(doubles: dict[str, ChatDouble]) -> Iterator[None]:
    for double in doubles.values():
        double.status, double.delay_s = 200, 0.0
        double.reply = _answer_from_source_one
        double.clear()
    yield


def _answer_from_source_one(messages: list[dict[str, Any]]) -> str:
    user = str(messages[-1]["content"])
    if "27 days" in user:
        return "Full-time employees receive 27 days of paid vacation per year [1]."
    if "fourteen days" in user:
        return "Denver travel is booked through the travel desk fourteen days ahead [1]."
    return "I could not find this in the documents you can access."


def _ask(client: TestClient, question: str, key: str = READER_KEY, **extra: Any) -> Any:
    resp = client.post("/ask", json={"question": question, **extra}, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_a_generated_answer_cites_its_source_and_says_what_it_cost(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    body = _ask(client, "How many vacation days do full-time employees get?")
    assert body["model"] == "primary"
    assert body["answer"] == "Full-time employees receive 27 days of paid vacation per year [1]."
    assert body["degraded"] is False
    assert body["citations"][0]["source"] == "handbook.md"
    assert body["prompt"] == {"name": "answer", "version": 1, "label": "production"}
    usage = body["usage"]
    expected = (usage["prompt_tokens"] * 0.15 + usage["completion_tokens"] * 0.60) / 1e6
    assert usage["completion_tokens"] == 11
    assert usage["cost_usd"] == pytest.approx(expected, rel=1e-6)
    assert body["grounding"]["score"] >= 0.5
    sent = doubles["primary"].received()
    assert len(sent) == 1
    assert "27 days of paid vacation" in sent[0]["messages"][-1]["content"]
    assert "How many vacation days" in sent[0]["messages"][-1]["content"]


def test_the_answer_record_keeps_what_made_the_answer(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    doubles["primary"].status = 500
    body = _ask(client, "How many vacation days do full-time employees get?")
    services = client.app.state.services  # type: ignore[attr-defined]
    record = AuditedAnswers(services.audit, services.settings.audit).get_answer(body["answer_id"])
    model, cited, generation = record.model, record.cited_chunk_ids, record.generation
    assert generation is not None
    assert model == "backup"
    assert cited == [c["chunk_id"] for c in body["citations"]]
    assert generation["team"] == "search"
    assert generation["prompt"] == {"name": "answer", "version": 1, "label": "production"}
    assert generation["failed_deployments"] == ["primary"]
    assert generation["usage"] == body["usage"] | {
        "cost_usd": pytest.approx(body["usage"]["cost_usd"])
    }
    # What made the answer holds no text; the question is kept (redacted) on its own.
    assert "vacation" not in json.dumps(generation)
    assert record.question == "How many vacation days do full-time employees get?"


def test_the_fallback_answers_when_the_primary_fails(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    doubles["primary"].status = 500
    body = _ask(client, "How many vacation days do full-time employees get?")
    assert body["model"] == "backup"
    assert body["failed_deployments"] == ["primary"]
    assert body["degraded"] is False
    assert body["usage"]["cost_usd"] == pytest.approx(
        (body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]) * 0.02 / 1e6
    )


def test_with_every_model_down_the_answer_is_extractive_and_marked_degraded(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    doubles["primary"].status = 500
    doubles["backup"].status = 429
    body = _ask(client, "How many vacation days do full-time employees get?")
    assert body["model"] == "extractive"
    assert body["degraded"] is True
    assert "primary, backup" in body["degraded_reason"]
    assert "27 days" in body["answer"]
    assert body["citations"][0]["source"] == "handbook.md"
    assert body["usage"] is None
    # Residency held while failing over: the eu text never went to the us deployment.
    assert doubles["usbox"].received() == []


def test_us_bucket_text_goes_only_to_the_us_deployment(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    body = _ask(
        client,
        "How is travel to the Denver office booked?",
        filters={"bucket": ["uspolicy"]},
    )
    assert body["model"] == "usbox"
    assert doubles["primary"].received() == [] and doubles["backup"].received() == []
    assert "fourteen days" in doubles["usbox"].received()[0]["messages"][-1]["content"]


def test_a_citation_to_a_source_that_does_not_exist_is_removed_and_counted(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    doubles["primary"].reply = lambda _: (
        "Full-time employees receive 27 days of paid vacation per year [1][7]. "
        "Managers get a car [9]."
    )
    body = _ask(client, "How many vacation days do full-time employees get?")
    assert body["citations_removed"] == 2
    assert "[7]" not in body["answer"] and "[9]" not in body["answer"]
    assert len(body["citations"]) == 1
    # "Managers get a car" is in no source: it is listed, and the policy flags it.
    assert "Managers get a car." in body["grounding"]["unsupported"]
    assert body["grounding_action"] in (None, "flagged")


def test_streaming_sends_tokens_then_the_whole_answer(client: TestClient) -> None:
    with client.stream(
        "POST",
        "/ask",
        json={"question": "How many vacation days do full-time employees get?", "stream": True},
        headers=auth(READER_KEY),
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = "".join(resp.iter_text())
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("\n")[1][6:]))
        for block in raw.strip().split("\n\n")
    ]
    tokens = [data["text"] for name, data in events if name == "token"]
    assert len(tokens) > 3
    assert events[-1][0] == "answer"
    final = events[-1][1]
    assert "".join(tokens) == final["answer"]
    assert final["model"] == "primary" and final["citations"]


def test_a_team_over_its_hard_budget_is_refused_with_429(client: TestClient) -> None:
    first = _ask(client, "How many vacation days do full-time employees get?", key=TIGHT_KEY)
    assert first["usage"]["cost_usd"] > 0.000001
    resp = client.post(
        "/ask",
        json={"question": "How many vacation days do full-time employees get?"},
        headers=auth(TIGHT_KEY),
    )
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "budget_exceeded"
    assert "tight" in resp.json()["error"]["message"]
    # Other teams keep answering.
    assert _ask(client, "How many vacation days do full-time employees get?")["model"]
    budgets = client.get("/budgets", headers=auth(ADMIN_KEY)).json()
    tight = next(b for b in budgets["budgets"] if b["subject"] == "tight")
    assert tight["state"] == "hard"


def test_a_managed_key_over_its_own_hard_budget_is_refused_and_its_team_is_not(
    client: TestClient,
) -> None:
    created = client.post(
        "/keys",
        json={"team": "search", "roles": ["public"], "budget": {"daily_hard_usd": 0.000001}},
        headers=auth(ADMIN_KEY),
    )
    assert created.status_code == 201, created.text
    managed = created.json()["key"]
    question = {"question": "How many vacation days do full-time employees get?"}

    first = client.post("/ask", json=question, headers=auth(managed))
    assert first.status_code == 200, first.text
    assert first.json()["usage"]["cost_usd"] > 0.000001
    second = client.post("/ask", json=question, headers=auth(managed))
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "budget_exceeded"
    # The team's other key is not held to the managed key's own limit.
    assert _ask(client, question["question"])["model"]


def test_a_new_prompt_version_answers_and_one_rollback_restores_the_old(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    created = client.post(
        "/prompts/answer/versions",
        json={
            "system": "You are terse. Cite sources as [n].",
            "user": "{% for s in sources %}[{{ s.n }}] {{ s.text }}\n{% endfor %}Q: {{ question }}",
            "labels": ["production"],
        },
        headers=auth(ADMIN_KEY),
    )
    assert created.status_code == 201, created.text
    version = created.json()["version"]
    body = _ask(client, "How many vacation days do full-time employees get?")
    assert body["prompt"]["version"] == version
    assert doubles["primary"].received()[-1]["messages"][0]["content"].startswith("You are terse")

    back = client.post("/prompts/answer/rollback", json={}, headers=auth(ADMIN_KEY))
    assert back.status_code == 200, back.text
    body = _ask(client, "How many vacation days do full-time employees get?")
    assert body["prompt"]["version"] == version - 1


def test_keys_without_the_role_get_nothing_generated(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    # A key whose roles read nothing: no sources, so no model call at all.
    body = _ask(client, "How many vacation days do full-time employees get?", key=HR_ONLY_KEY)
    assert body["found"] is False
    assert body["citations"] == [] and body["usage"] is None
    assert "27" not in body["answer"]
    assert all(d.received() == [] for d in doubles.values())


def test_killed_endpoints_fall_back_then_degrade(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    # Last in the module: the servers stay dead.
    doubles["primary"].kill()
    body = _ask(client, "How many vacation days do full-time employees get?")
    assert (body["model"], body["degraded"]) == ("backup", False)
    doubles["backup"].kill()
    body = _ask(client, "How many vacation days do full-time employees get?")
    assert (body["model"], body["degraded"]) == ("extractive", True)
    assert "27 days" in body["answer"] and body["citations"]
