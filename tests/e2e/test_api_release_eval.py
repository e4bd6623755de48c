"""The eval gate end to end: the answers golden set run through a release's bundle.

A tiny golden set (one document, one answerable and one unanswerable question) is the
configured ``RAGLINE_RELEASES__EVAL_GOLDEN``. Starting a release makes the controller
run it through the candidate's bundle and the current one's, on a scratch ragline,
in the background; a release whose answers get worse on it is rolled back before it
has served a single caller, and one that answers as well as the current keeps going.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from ragline.service import create_app
from releases.assignment import takes_candidate
from retrieval.access import Principal
from tests.conftest import ADMIN_KEY, make_settings
from tests.e2e.conftest import auth
from tests.llm_double import ChatDouble, serve

pytestmark = pytest.mark.e2e

HANDBOOK = (
    "# Leave policy\n\nFull-time employees receive 27 days of paid vacation per year. "
    "Unused days may be carried over until March.\n"
)
QUESTIONS = [
    {"id": "vacation", "question": "How many vacation days do full-time employees get?",
     "expected_source": "handbook.md", "expected_terms": ["27"], "unanswerable": False},
    {"id": "parking", "question": "What colour is the CEO's car?", "expected_source": None,
     "expected_terms": [], "unanswerable": True},
]  # fmt: skip


def _golden(root: Path) -> Path:
    folder = root / "golden"
    folder.mkdir()
    (folder / "handbook.md").write_text(HANDBOOK)
    buckets = [{"bucket": "golden-hr", "roles": ["hr"], "files": ["handbook.md"]}]
    (folder / "buckets.json").write_text(json.dumps(buckets))
    questions = folder / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n")
    return questions


def _grounded(messages: list[dict[str, Any]]) -> str:
    if "27 days" in str(messages[-1]["content"]) and "vacation" in str(messages[-1]["content"]):
        return "Full-time employees receive 27 days of paid vacation per year [1]."
    return "I could not find this in the documents you can access."


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("primary") as started:
        started["primary"].reply = _grounded
        yield started


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, doubles: dict[str, ChatDouble]
) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("release-eval")
    models_file = root / "models.yaml"
    primary = doubles["primary"]
    models_file.write_text(
        yaml.safe_dump(
            {
                "deployments": [
                    {
                        "name": "primary",
                        "model": "openai/primary-model",
                        "api_base": primary.api_base,
                        "api_key_env": "DOUBLE_KEY",
                        "timeout_s": 5,
                    },
                ],
                "routing": {"allowed_fails": 1000},
            }
        )
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("DOUBLE_KEY", "sk-double-not-a-secret")
    settings = make_settings(
        root / "data",
        models_file=models_file,
        refresh={"beat_interval_s": 300},
        releases={
            "hold_s": 0,
            "hold_requests": 0,
            "min_requests": 1,
            "latency_slack_s": 30,  # one answer a side: not what this tests
            "eval_golden": _golden(root),
        },
    )
    try:
        with TestClient(create_app(settings, dense=embedder)) as test_client:
            yield test_client
    finally:
        mp.undo()


def _tick(client: TestClient) -> list[str]:
    decisions: list[str] = client.app.state.services.releases.tick()  # type: ignore[attr-defined]
    return decisions


def _evaluated(client: TestClient, release: str, timeout_s: float = 300) -> dict[str, Any]:
    """The release once its eval has run (it runs in the controller's background)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/releases/{release}", headers=auth(ADMIN_KEY)).json()
        if body["eval"] and body["eval"]["state"] != "running":
            return body
        time.sleep(0.5)
    raise AssertionError(f"the eval of {release} did not finish within {timeout_s} s")


def _start(client: TestClient, **bundle: Any) -> str:
    resp = client.post("/releases", json=bundle, headers=auth(ADMIN_KEY))
    assert resp.status_code == 201, resp.text
    release: str = resp.json()["id"]
    assert client.post(f"/releases/{release}/start", headers=auth(ADMIN_KEY)).status_code == 200
    return release


def test_a_release_that_answers_worse_on_the_golden_set_is_rolled_back(
    client: TestClient,
) -> None:
    # Extractive answers that demand a perfect match find nothing: the answerable
    # question goes unanswered.
    worse = _start(client, prompt_version=1, route="extractive", settings={"min_relevance": 1.0})
    assert _tick(client) == []  # the eval starts; nothing is decided while it runs
    pending = client.get(f"/releases/{worse}", headers=auth(ADMIN_KEY)).json()
    gate = next(g for g in pending["gates"] if g["name"] == "answers_eval")
    assert pending["status"] == "staged"
    assert gate["passed"] is False and (gate["pending"] or pending["eval"]["state"] == "done")

    body = _evaluated(client, worse)
    assert body["eval"]["against"] == "baseline"
    assert "answerable.answered_rate" in body["eval"]["failed"]
    assert body["eval"]["candidate"]["answerable.answered_rate"] == 0.0
    assert body["eval"]["current"]["answerable.answered_rate"] == 1.0

    decisions = _tick(client)
    assert len(decisions) == 1 and decisions[0].startswith(f"{worse} rolled back: gate failed")
    rolled = client.get(f"/releases/{worse}", headers=auth(ADMIN_KEY)).json()
    assert rolled["status"] == "rolled_back" and "answers_eval" in rolled["reason"]
    entries = client.get(
        "/audit", params={"action": "release.eval"}, headers=auth(ADMIN_KEY)
    ).json()["entries"]
    assert entries[-1]["target"] == worse and entries[-1]["details"]["gate"]["passed"] is False


def test_a_release_that_answers_as_well_passes_the_eval_gate_and_advances(
    client: TestClient,
) -> None:
    same = _start(client, prompt_version=1, route="primary")
    _tick(client)
    body = _evaluated(client, same)
    assert body["eval"]["failed"] == [] and body["eval"]["gate"]["passed"] is True
    assert body["eval"]["candidate"] == body["eval"]["current"]
    # A caller of the candidate and one of the current, through the answer service.
    answers = client.app.state.services.answers  # type: ignore[attr-defined]
    callers = [f"caller-{n}" for n in range(400)]
    inside = next(k for k in callers if takes_candidate(same, k, 5))
    outside = next(k for k in callers if not takes_candidate(same, k, 5))
    for key in (inside, outside):
        answer = answers.ask(Principal(key_id=key, roles=frozenset({"public"})), "Who?")
        assert answer.release is None or answer.release.id == same
    assert _tick(client) == [f"{same} advanced to 25%"]
