"""The HTTP API as a user drives it, against the real embedded stack."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from answer.extractive import NOT_FOUND
from governance.audit_answers import AuditedAnswers
from kernel.settings import AuditSettings
from tests.conftest import ADMIN_KEY, ENG_KEY, HR_KEY, NOBODY_KEY
from tests.e2e.conftest import auth, listed_children, upload, wait_done

pytestmark = pytest.mark.e2e

HANDBOOK = b"""# Handbook

## Vacation

Full-time employees receive 25 vacation days per calendar year. Up to 5 unused days
may be carried over into the next year.

## Equipment

Every employee receives a laptop and a monitor on the first day.
"""

SALARY = b"""# Compensation bands

The zircon salary band for senior engineers ranges from 91,000 to 118,000 EUR.
Bonuses in the zircon band are paid every March.
"""


@pytest.fixture(scope="module")
def corpus(client: TestClient) -> dict[str, str]:
    for name, roles in (("handbook", ["public"]), ("hr-only", ["hr"])):
        resp = client.post("/buckets", json={"name": name, "roles": roles}, headers=auth(ADMIN_KEY))
        assert resp.status_code == 201, resp.text
    ids = {
        "handbook": upload(client, "handbook", "handbook.md", HANDBOOK)["document_id"],
        "salary": upload(client, "hr-only", "salary.md", SALARY)["document_id"],
    }
    for doc_id in ids.values():
        assert wait_done(client, doc_id)["status"] == "indexed"
    return ids


def ask(client: TestClient, key: str, question: str, **extra: object) -> dict:  # type: ignore[type-arg]
    resp = client.post("/ask", json={"question": question, **extra}, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}]
)
def test_missing_or_wrong_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    resp = client.post("/ask", json={"question": "hi"}, headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthenticated"


def test_only_admin_manages_buckets(client: TestClient) -> None:
    resp = client.post("/buckets", json={"name": "x", "roles": ["eng"]}, headers=auth(ENG_KEY))
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "permission_denied"
    resp = client.post(
        "/buckets/handbook/documents", files={"file": ("a.txt", b"x")}, headers=auth(HR_KEY)
    )
    assert resp.status_code == 403


def test_indexed_document_reports_version_and_chunks(
    client: TestClient, corpus: dict[str, str]
) -> None:
    body = client.get(f"/documents/{corpus['handbook']}", headers=auth(ADMIN_KEY)).json()
    assert body["status"] == "indexed"
    assert body["version"] == 1
    assert body["chunks"] >= 1
    assert body["format"] == "md"
    assert body["source"] == "handbook.md"


def test_ask_answers_extractively_with_matching_citations(
    client: TestClient, corpus: dict[str, str]
) -> None:
    body = ask(client, ENG_KEY, "How many vacation days do full-time employees get?")
    assert body["found"] is True
    assert "25 vacation days" in body["answer"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])}
    assert markers == set(range(1, len(body["citations"]) + 1))
    first = body["citations"][0]
    assert first["document_id"] == corpus["handbook"]
    assert first["section"] and "Vacation" in first["section"]
    assert "25 vacation days" in first["text"]
    assert body["grounding"]["score"] >= 0.9
    assert body["grounding"]["unsupported"] == []
    assert body["latency_ms"] > 0
    # No models file: extractive by design, so not degraded, and free.
    assert (body["model"], body["degraded"], body["usage"]) == ("extractive", False, None)


def test_nothing_relevant_says_so_instead_of_guessing(
    client: TestClient, corpus: dict[str, str]
) -> None:
    body = ask(client, ENG_KEY, "What is the boiling point of liquid nitrogen on Mars?")
    assert body["found"] is False
    assert body["answer"] == NOT_FOUND
    assert body["citations"] == []


def test_roles_isolate_documents(client: TestClient, corpus: dict[str, str]) -> None:
    question = "What is the zircon salary band for senior engineers?"
    hr = ask(client, HR_KEY, question)
    assert hr["found"] and "zircon" in hr["answer"]
    assert {c["document_id"] for c in hr["citations"]} == {corpus["salary"]}
    for key in (ENG_KEY, NOBODY_KEY):
        other = ask(client, key, question)
        assert corpus["salary"] not in {c["document_id"] for c in other["citations"]}
        assert "118,000" not in other["answer"]
    nobody = ask(client, NOBODY_KEY, "vacation days")
    assert nobody["citations"] == [] and nobody["found"] is False


def test_request_filters_narrow_but_never_widen(client: TestClient, corpus: dict[str, str]) -> None:
    widened = ask(client, ENG_KEY, "zircon salary band", filters={"bucket": ["hr-only"]})
    assert widened["citations"] == []
    narrowed = ask(client, HR_KEY, "vacation days", filters={"bucket": ["hr-only"]})
    assert corpus["handbook"] not in {c["document_id"] for c in narrowed["citations"]}


def test_document_status_is_hidden_from_keys_without_its_roles(
    client: TestClient, corpus: dict[str, str]
) -> None:
    assert client.get(f"/documents/{corpus['salary']}", headers=auth(ENG_KEY)).status_code == 404
    assert client.get(f"/documents/{corpus['salary']}", headers=auth(HR_KEY)).status_code == 200


def test_reupload_is_idempotent_and_a_change_replaces_chunks(
    client: TestClient, corpus: dict[str, str]
) -> None:
    client.post("/buckets", json={"name": "versions", "roles": ["public"]}, headers=auth(ADMIN_KEY))
    v1 = b"# Parking\n\nThe staff car park opens at 06:30 every weekday morning.\n"
    doc_id = upload(client, "versions", "parking.md", v1)["document_id"]
    assert wait_done(client, doc_id)["version"] == 1
    again = upload(client, "versions", "parking.md", v1)
    assert again == {"document_id": doc_id, "status": "indexed"}
    v2 = b"# Parking\n\nThe staff car park opens at 07:15 every weekday morning.\n"
    upload(client, "versions", "parking.md", v2)
    after = wait_done(client, doc_id)
    assert after["version"] == 2
    body = ask(client, ENG_KEY, "When does the staff car park open?")
    texts = " ".join(c["text"] for c in body["citations"])
    assert "07:15" in texts and "06:30" not in texts


def test_delete_removes_document_and_its_chunks(client: TestClient, corpus: dict[str, str]) -> None:
    client.post("/buckets", json={"name": "temp", "roles": ["public"]}, headers=auth(ADMIN_KEY))
    doc_id = upload(
        client, "temp", "canteen.md", b"# Canteen\n\nThe canteen serves quokka stew on Fridays.\n"
    )["document_id"]
    wait_done(client, doc_id)
    assert ask(client, ENG_KEY, "quokka stew canteen")["found"]
    assert client.delete(f"/documents/{doc_id}", headers=auth(ADMIN_KEY)).status_code == 204
    assert client.get(f"/documents/{doc_id}", headers=auth(ADMIN_KEY)).status_code == 404
    after = ask(client, ENG_KEY, "quokka stew canteen")
    assert doc_id not in {c["document_id"] for c in after["citations"]}


def test_oversized_upload_is_413(client: TestClient, corpus: dict[str, str]) -> None:
    resp = client.post(
        "/buckets/handbook/documents",
        files={"file": ("big.txt", b"a" * 2_000_000)},
        headers=auth(ADMIN_KEY),
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_failed_document_is_listed_with_reason_and_can_be_retried(
    client: TestClient, corpus: dict[str, str]
) -> None:
    doc_id = upload(client, "handbook", "empty.txt", b"   \n")["document_id"]
    failed = wait_done(client, doc_id)
    assert failed["status"] == "failed"
    assert failed["error_code"] == "empty_document"
    assert failed["error"]
    listed = client.get("/documents", params={"status": "failed"}, headers=auth(ADMIN_KEY)).json()
    assert doc_id in {d["document_id"] for d in listed["documents"]}
    retry = client.post(f"/documents/{doc_id}/retry", headers=auth(ADMIN_KEY))
    assert retry.status_code == 202
    assert wait_done(client, doc_id)["status"] == "failed"


def test_unknown_doc_type_and_bucket_are_clear_errors(
    client: TestClient, corpus: dict[str, str]
) -> None:
    resp = client.post(
        "/buckets/handbook/documents",
        files={"file": ("a.txt", b"hello")},
        data={"doc_type": "poetry"},
        headers=auth(ADMIN_KEY),
    )
    assert resp.status_code == 422 and "poetry" in resp.json()["error"]["message"]
    # The other door: a bucket may not be created with a type no chunker has.
    resp = client.post(
        "/buckets",
        json={"name": "poems", "roles": ["public"], "doc_type": "poetry"},
        headers=auth(ADMIN_KEY),
    )
    assert resp.status_code == 422 and "poetry" in resp.json()["error"]["message"]
    assert client.get("/buckets/poems", headers=auth(ADMIN_KEY)).status_code == 404
    resp = client.post(
        "/buckets/nope/documents", files={"file": ("a.txt", b"x")}, headers=auth(ADMIN_KEY)
    )
    assert resp.status_code == 404


def test_question_in_a_wrong_encoding_is_a_clear_400(client: TestClient) -> None:
    body = '{"question": "caf\xe9"}'.encode("latin-1")
    resp = client.post(
        "/ask",
        content=body,
        headers={**auth(ENG_KEY), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == {
        "code": "invalid_input",
        "message": "the request body is not valid JSON in UTF-8",
    }


def test_empty_and_overlong_questions_are_refused(client: TestClient) -> None:
    assert client.post("/ask", json={"question": ""}, headers=auth(ENG_KEY)).status_code == 422
    blank = client.post("/ask", json={"question": "   "}, headers=auth(ENG_KEY))
    assert blank.status_code == 422 and blank.json()["error"]["message"] == "question is empty"
    long = client.post("/ask", json={"question": "x" * 5000}, headers=auth(ENG_KEY))
    assert long.status_code == 422


def test_openapi_states_the_contract(client: TestClient) -> None:
    """The published contract: methods, auth, error shape, the /ask bodies, date formats."""
    import typing
    from datetime import datetime

    from pydantic import BaseModel

    from api import schemas

    spec = client.get("/openapi.json").json()
    ref = "#/components/schemas/"
    components = spec["components"]["schemas"]
    public = {"/health": {"get"}, "/ready": {"get"}}
    protected = {
        "/ask": {"post"},
        "/buckets": {"get", "post"},
        "/buckets/{name}": {"get"},
        "/buckets/{name}/documents": {"post"},
        "/buckets/{name}/refresh": {"post"},
        "/buckets/{name}/refreshes": {"get"},
        "/buckets/{name}/refreshes/{refresh_id}": {"get"},
        "/buckets/{name}/schedule": {"get", "put", "delete"},
        "/documents": {"get"},
        "/documents/{document_id}": {"get", "delete"},
        "/documents/{document_id}/retry": {"post"},
        "/reindex": {"get", "post"},
        "/reindex/{reindex_id}": {"get"},
        "/budgets": {"get"},
        "/prompts": {"get"},
        "/prompts/{name}": {"get"},
        "/prompts/{name}/versions": {"post"},
        "/prompts/{name}/versions/{version}": {"get"},
        "/prompts/{name}/labels/{label}": {"put"},
        "/prompts/{name}/rollback": {"post"},
        "/prompts/{name}/split": {"put", "delete"},
        "/releases": {"get", "post"},
        "/releases/current": {"get"},
        "/releases/{release_id}": {"get"},
        "/releases/{release_id}/start": {"post"},
        "/releases/{release_id}/promote": {"post"},
        "/releases/{release_id}/rollback": {"post"},
        "/keys": {"get", "post"},
        "/keys/{key_id}": {"get", "delete"},
        "/keys/{key_id}/rotate": {"post"},
        "/keys/{key_id}/revoke": {"post"},
        "/audit": {"get"},
        "/audit/verify": {"get"},
        "/feedback": {"post"},
        "/review": {"get"},
        "/review/{item_id}": {"get", "post"},
        "/metrics": {"get"},
        "/slo": {"get"},
    }
    assert {path: set(ops) for path, ops in spec["paths"].items()} == public | protected

    bearer = [
        name
        for name, s in spec["components"]["securitySchemes"].items()
        if s["type"] == "http" and s["scheme"] == "bearer"
    ]
    assert len(bearer) == 1
    for path, methods in protected.items():
        for method in methods:
            op = spec["paths"][path][method]
            assert {bearer[0]: []} in op.get("security", []), (method, path)
            unauthorized = op["responses"]["401"]["content"]["application/json"]["schema"]
            assert unauthorized == {"$ref": ref + "ErrorOut"}, (method, path)
    for path, methods in public.items():
        for method in methods:
            assert not spec["paths"][path][method].get("security"), (method, path)
    assert components["ErrorOut"]["required"] == ["error"]
    assert components["ErrorOut"]["properties"]["error"] == {"$ref": ref + "ErrorBody"}
    assert set(components["ErrorBody"]["required"]) == {"code", "message"}

    ask = spec["paths"]["/ask"]["post"]
    body = ask["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": ref + "AskRequest"}
    assert components["AskRequest"]["required"] == ["question"]
    assert components["AskRequest"]["properties"]["question"]["type"] == "string"
    ok = ask["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": ref + "AskResponse"}
    readme_fields = {
        "answer_id",
        "answer",
        "found",
        "citations",
        "grounding",
        "model",
        "latency_ms",
    }
    # What a generated (or degraded) answer adds: README, "What /ask returns".
    generation_fields = {
        "degraded",
        "degraded_reason",
        "usage",
        "prompt",
        "failed_deployments",
        "citations_removed",
        "grounding_action",
        "budget_warnings",
    }
    # The release that answered: README, "Releases".
    release_fields = {"release"}
    answer = components["AskResponse"]
    assert set(answer["properties"]) == readme_fields | generation_fields | release_fields
    assert set(answer["required"]) == readme_fields
    assert answer["properties"]["citations"]["items"] == {"$ref": ref + "Citation"}
    assert answer["properties"]["grounding"] == {"$ref": ref + "GroundingOut"}

    def holds_datetime(annotation: object) -> bool:
        return annotation is datetime or any(
            holds_datetime(arg) for arg in typing.get_args(annotation)
        )

    dated = {
        (name, field)
        for name, model in vars(schemas).items()
        if isinstance(model, type) and issubclass(model, BaseModel) and model is not BaseModel
        for field, info in model.model_fields.items()
        if holds_datetime(info.annotation)
    }
    assert {("DocumentOut", "updated_at"), ("DocumentOut", "indexed_at")} <= dated
    for name, field in dated:
        prop = components[name]["properties"][field]
        formats = {
            alt.get("format") for alt in prop.get("anyOf", [prop]) if alt.get("type") == "string"
        }
        assert formats == {"date-time"}, (name, field, prop)


def test_table_rows_answer_with_their_header(client: TestClient, corpus: dict[str, str]) -> None:
    csv = (
        b"Year,Winner,Runner-up\n"
        b"1994,New York Rangers,Vancouver Canucks\n"
        b"1995,New Jersey Devils,Detroit Red Wings\n"
        b"1996,Colorado Avalanche,Florida Panthers\n"
    )
    doc_id = upload(client, "handbook", "finals.csv", csv)["document_id"]
    done = wait_done(client, doc_id)
    assert (done["status"], done["doc_type"], done["format"]) == ("indexed", "tables", "csv")
    body = ask(client, ENG_KEY, "Who was the runner-up in 1995?")
    assert body["citations"][0]["document_id"] == doc_id
    assert "Year: 1995; Winner: New Jersey Devils; Runner-up: Detroit Red Wings" in body["answer"]


def test_email_attachments_become_linked_documents(
    client: TestClient, corpus: dict[str, str]
) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "ops@example.org"
    msg["To"] = "team@example.org"
    msg["Subject"] = "Offsite logistics"
    msg["Date"] = "Mon, 02 Mar 2026 09:00:00 +0000"
    msg.set_content("Hi all,\n\nThe agenda for the offsite is attached. Bring walking shoes.\n")
    msg.add_attachment(
        b"Offsite agenda: the kayak session on the fjord starts at 14:00 on Tuesday.\n",
        maintype="text",
        subtype="plain",
        filename="agenda.txt",
    )
    parent_id = upload(client, "handbook", "offsite.eml", bytes(msg))["document_id"]
    parent = wait_done(client, parent_id)
    assert (parent["status"], parent["doc_type"], parent["format"]) == ("indexed", "email", "eml")
    children = list(listed_children(client, "handbook", parent_id).values())
    assert [c["source"] for c in children] == ["offsite.eml#agenda.txt"]
    child = wait_done(client, children[0]["document_id"])
    assert child["status"] == "indexed"
    assert child["declared_type"] == "text/plain"
    assert parent["declared_type"] is None
    body = ask(client, ENG_KEY, "When does the kayak session start?")
    assert body["citations"][0]["document_id"] == child["document_id"]
    assert "14:00" in body["answer"]
    # Deleting the email deletes what it carried.
    assert client.delete(f"/documents/{parent_id}", headers=auth(ADMIN_KEY)).status_code == 204
    gone = client.get(f"/documents/{child['document_id']}", headers=auth(ADMIN_KEY))
    assert gone.status_code == 404


def test_every_answer_records_what_made_it(client: TestClient, corpus: dict[str, str]) -> None:
    body = ask(client, ENG_KEY, "How many vacation days do full-time employees get?", top_k=3)
    services = client.app.state.services  # type: ignore[attr-defined]
    record = AuditedAnswers(services.audit, AuditSettings()).get_answer(body["answer_id"])
    assert record.model == "extractive"
    assert record.retrieval["top_k"] == 3 and record.retrieval["fusion"] == "convex"
    cited = [c["chunk_id"] for c in body["citations"]]
    assert record.cited_chunk_ids == cited
    # A citation can only point at a chunk retrieved for this answer.
    assert set(cited) <= set(record.chunk_ids) and len(record.chunk_ids) <= 3
    assert record.key_id.startswith("key-") and "test-eng-key" not in record.key_id
