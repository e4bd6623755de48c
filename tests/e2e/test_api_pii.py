"""Personal data through /ask: what leaves for a model, what is stored, what the caller reads.

Checked on the wire (the OpenAI-compatible double records every request) and in the
audit log, not on our own bookkeeping: under the default policy a card number or an
e-mail address in a question or a source never reaches an external deployment and
never lands in the answer record; the caller still reads the real values.
"""

from __future__ import annotations

import json
import logging
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

READER_KEY = "test-pii-reader-key"
KEYS = {
    ADMIN_KEY: {"roles": ["admin", "public"], "team": "ops", "name": "admin"},
    READER_KEY: {"roles": ["public"], "team": "search", "name": "reader"},
}
EMAIL = "jane.miller@example.com"
CARD = "4111 1111 1111 1111"
PAYROLL = (
    b"# Payroll\n\nPayroll questions go to the payroll office at jane.miller@example.com. "
    b"Salaries are paid on the last working day of each month.\n"
)
QUESTION = f"Who answers payroll questions? My card {CARD} was charged twice."


def _echo_source_one(messages: list[dict[str, Any]]) -> str:
    """Repeat the first sentence of source [1] with its placeholder, as a model would."""
    user = str(messages[-1]["content"])
    start = user.find("Payroll questions go to")
    if start < 0:
        return "I could not find this in the documents you can access."
    sentence = user[start:].split(". ")[0].rstrip(".")
    return f"{sentence} [1]."


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("external", "inhouse") as started:
        yield started


def _client(
    root: Any, embedder: Any, doubles: dict[str, ChatDouble], **settings: Any
) -> Iterator[TestClient]:
    models_file = root / "models.yaml"
    models_file.write_text(
        yaml.safe_dump(
            {
                "deployments": [
                    _deployment("external", doubles, region="eu", pii="redact"),
                    _deployment("inhouse", doubles, region="onprem", pii="allow"),
                ],
                "routing": {"allowed_fails": 1000},
            }
        )
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("DOUBLE_KEY", "sk-double-not-a-secret")
    config = make_settings(
        root / "data", api_keys=json.dumps(KEYS), models_file=models_file, **settings
    )
    try:
        with TestClient(create_app(config, dense=embedder)) as test_client:
            for bucket, region, pii in (
                ("payroll", "eu", "allow"),
                ("payroll_onprem", "onprem", "allow"),
                ("payroll_redacted", "eu", "redact"),
            ):
                resp = test_client.post(
                    "/buckets",
                    json={"name": bucket, "roles": ["public"], "region": region, "pii": pii},
                    headers=auth(ADMIN_KEY),
                )
                assert resp.status_code == 201, resp.text
                assert resp.json()["pii"] == pii
                doc = upload(test_client, bucket, f"{bucket}.md", PAYROLL)
                assert wait_done(test_client, doc["document_id"])["status"] == "indexed"
            yield test_client
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, doubles: dict[str, ChatDouble]
) -> Iterator[TestClient]:
    yield from _client(
        tmp_path_factory.mktemp("pii"), embedder, doubles, pii={"names_and_locations": True}
    )


def _deployment(name: str, doubles: dict[str, ChatDouble], *, region: str, pii: str) -> Any:
    return {
        "name": name,
        "model": f"openai/{name}-model",
        "api_base": doubles[name].api_base,
        "api_key_env": "DOUBLE_KEY",
        "region": region,
        "pii": pii,
        "timeout_s": 5,
    }


@pytest.fixture(autouse=True)
def fresh(doubles: dict[str, ChatDouble]) -> None:
    for double in doubles.values():
        double.reply = _echo_source_one
        double.status = 200
        double.clear()


def _ask(client: TestClient, bucket: str, **extra: Any) -> Any:
    resp = client.post(
        "/ask",
        json={"question": QUESTION, "filters": {"bucket": [bucket]}, **extra},
        headers=auth(READER_KEY),
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def _sent(double: ChatDouble) -> str:
    requests = double.received()
    assert len(requests) == 1
    return json.dumps(requests[0]["messages"])


def test_an_external_deployment_gets_placeholders_and_the_caller_the_real_values(
    client: TestClient, doubles: dict[str, ChatDouble], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        body = _ask(client, "payroll")

    wire = _sent(doubles["external"])
    assert EMAIL not in wire and CARD not in wire and "4111" not in wire
    assert "<EMAIL_1>" in wire and "<CREDIT_CARD_1>" in wire
    assert body["model"] == "external"
    assert EMAIL in body["answer"] and "<EMAIL_1>" not in body["answer"]
    assert [c["source"] for c in body["citations"]] == ["payroll.md"]
    assert body["grounding"]["score"] >= 0.5
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert CARD not in logged and EMAIL not in logged


def test_the_answer_record_holds_placeholders_and_no_source_text(client: TestClient) -> None:
    body = _ask(client, "payroll")
    services = client.app.state.services  # type: ignore[attr-defined]
    record = AuditedAnswers(services.audit, services.settings.audit).get_answer(body["answer_id"])

    assert record.question is not None and "<CREDIT_CARD_1>" in record.question
    assert CARD not in record.question
    assert record.answer is not None and "<EMAIL_1>" in record.answer
    assert EMAIL not in record.answer
    assert record.citations is not None
    stored = json.dumps(record.citations)
    assert "Salaries are paid" not in stored
    assert [c["source"] for c in record.citations] == ["payroll.md"]


def test_a_deployment_that_allows_personal_data_gets_the_text_as_it_is(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    body = _ask(client, "payroll_onprem")

    wire = _sent(doubles["inhouse"])
    assert EMAIL in wire and CARD in wire
    assert doubles["external"].received() == []
    assert body["model"] == "inhouse"
    assert EMAIL in body["answer"]


def test_a_streamed_answer_shows_the_real_values(
    client: TestClient,
) -> None:
    with client.stream(
        "POST",
        "/ask",
        json={"question": QUESTION, "filters": {"bucket": ["payroll"]}, "stream": True},
        headers=auth(READER_KEY),
    ) as resp:
        assert resp.status_code == 200
        events = resp.read().decode()

    tokens = "".join(
        json.loads(line[len("data: ") :])["text"]
        for block in events.split("\n\n")
        if block.startswith("event: token")
        for line in block.splitlines()
        if line.startswith("data: ")
    )
    assert EMAIL in tokens
    assert "<EMAIL" not in tokens


def test_a_redacting_bucket_indexes_placeholders_and_nothing_finds_the_value(
    client: TestClient, doubles: dict[str, ChatDouble]
) -> None:
    body = _ask(client, "payroll_redacted")

    cited = " ".join(c["text"] for c in body["citations"])
    assert "<EMAIL_1>" in cited and EMAIL not in cited
    assert EMAIL not in body["answer"]
    assert EMAIL not in _sent(doubles["external"])
    doubles["external"].clear()
    by_value = client.post(
        "/ask",
        json={"question": "jane.miller", "filters": {"bucket": ["payroll_redacted"]}},
        headers=auth(READER_KEY),
    ).json()
    assert all(EMAIL not in c["text"] for c in by_value["citations"])


def test_a_file_name_holding_an_address_is_masked_in_the_audit_log(client: TestClient) -> None:
    doc = upload(client, "payroll", f"notes-from-{EMAIL}.md", b"# Notes\n\nNothing personal.\n")
    assert wait_done(client, doc["document_id"], timeout_s=600)["status"] == "indexed"

    page = client.get(
        "/audit", params={"action": "document.upload", "limit": 1000}, headers=auth(ADMIN_KEY)
    )
    assert page.status_code == 200, page.text
    uploads = [e for e in page.json()["entries"] if e["target"] == doc["document_id"]]
    assert len(uploads) == 1
    assert EMAIL not in json.dumps(uploads[0])
    assert "<EMAIL>" in uploads[0]["details"]["key"]
    asked = _ask(client, "payroll")["answer_id"]
    answers = client.get(
        "/audit", params={"kind": "answer", "limit": 1000}, headers=auth(ADMIN_KEY)
    ).json()["entries"]
    assert asked in {e["target"] for e in answers}
    assert all(CARD not in json.dumps(e) and EMAIL not in json.dumps(e) for e in answers)


def test_a_blocking_bucket_refuses_a_document_with_personal_data_and_keeps_the_rest(
    client: TestClient,
) -> None:
    created = client.post(
        "/buckets",
        json={"name": "no_pii", "roles": ["public"], "pii": "block"},
        headers=auth(ADMIN_KEY),
    )
    assert created.status_code == 201, created.text

    refused = upload(client, "no_pii", "contacts.md", PAYROLL)
    clean = upload(client, "no_pii", "hours.md", b"# Hours\n\nThe office opens at nine.\n")
    failed = wait_done(client, refused["document_id"], timeout_s=600)
    indexed = wait_done(client, clean["document_id"], timeout_s=600)

    assert failed["status"] == "failed"
    assert failed["error_code"] == "personal_data_refused"
    assert "EMAIL" in failed["error"] and EMAIL not in failed["error"]
    assert failed["chunks"] in (None, 0)
    assert indexed["status"] == "indexed" and indexed["chunks"] == 1
