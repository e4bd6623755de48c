"""The audit log against the real app: what admin actions and answers write, ``GET /audit``.

Changes made through the API land in the chain as events, answers as answer
records, and an admin pages through them; a row edited in the database behind
the service's back shows in ``GET /audit/verify``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import ADMIN_KEY, ENG_KEY, HR_KEY
from tests.e2e.conftest import auth, upload, wait_done

pytestmark = pytest.mark.e2e

ADMIN = auth(ADMIN_KEY)
DOC_TEXT = b"The kayak session starts at 14:00 on the north dock. Bring a towel."
SYSTEM = "Answer only from the sources, citing them as [n]."
USER = "{% for s in sources %}[{{ s.n }}] {{ s.text }}\n{% endfor %}Question: {{ question }}"


def _entries(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    resp = client.get("/audit", params=params, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    entries: list[dict[str, Any]] = resp.json()["entries"]
    return entries


def test_admin_changes_and_answers_are_in_the_chain(client: TestClient) -> None:
    made = client.post("/buckets", json={"name": "trips", "roles": ["public"]}, headers=ADMIN)
    assert made.status_code == 201, made.text
    doc_id = upload(client, "trips", "kayak.txt", DOC_TEXT)["document_id"]
    assert wait_done(client, doc_id)["status"] == "indexed"
    asked = client.post(
        "/ask", json={"question": "When does the kayak session start?"}, headers=auth(ENG_KEY)
    )
    assert asked.status_code == 200, asked.text
    prompt = {"system": SYSTEM, "user": USER, "labels": ["production"]}
    assert client.post("/prompts/trip/versions", json=prompt, headers=ADMIN).status_code == 201
    assert client.post("/prompts/trip/versions", json=prompt, headers=ADMIN).status_code == 201
    assert client.post("/prompts/trip/rollback", headers=ADMIN).status_code == 200
    split = {"weights": {"production": 50, "canary": 50}}
    client.post("/prompts/trip/versions", json={**prompt, "labels": ["canary"]}, headers=ADMIN)
    assert client.put("/prompts/trip/split", json=split, headers=ADMIN).status_code == 200
    assert client.delete(f"/documents/{doc_id}", headers=ADMIN).status_code == 204

    events = [e for e in _entries(client, kind="event") if e["action"] != "audit.purge"]
    assert [(e["action"], e["target"]) for e in events] == [
        ("config.change", "settings"),  # the service's start
        ("bucket.create", "trips"),
        ("document.upload", doc_id),
        ("prompt.create", "trip"),
        ("prompt.create", "trip"),
        ("prompt.rollback", "trip"),
        ("prompt.create", "trip"),
        ("prompt.split", "trip"),
        ("document.delete", doc_id),
        ("audit.erase", doc_id),
    ]
    assert events[0]["key_id"] == "system" and events[0]["details"]["changed"] == []
    events = events[1:]
    assert events[1]["details"] == {"bucket": "trips", "key": "kayak.txt", "changed": True}
    assert events[4]["details"] == {"label": "production", "from_version": 2, "to_version": 1}
    admin_key_id = events[0]["key_id"]
    assert admin_key_id.startswith("key-") and all(e["key_id"] == admin_key_id for e in events)
    listed = str(_entries(client))
    assert ADMIN_KEY not in listed and ENG_KEY not in listed
    assert "north dock" not in str(events)  # no document text in events

    (answer,) = _entries(client, kind="answer")
    assert answer["target"] == asked.json()["answer_id"] and answer["action"] == "answer"
    assert answer["key_id"] != admin_key_id and answer["team"] == "default"
    cited = [c["chunk_id"] for c in asked.json()["citations"]]
    assert answer["details"]["cited_chunk_ids"] == cited
    assert set(cited) <= set(answer["details"]["chunk_ids"])

    by_key = _entries(client, key_id=admin_key_id, action="prompt.create")
    assert len(by_key) == 3
    first = client.get("/audit", params={"limit": 2}, headers=ADMIN).json()
    second = client.get(
        "/audit", params={"limit": 2, "cursor": first["next_cursor"]}, headers=ADMIN
    ).json()
    assert [e["seq"] for e in first["entries"] + second["entries"]] == [1, 2, 3, 4]

    verified = client.get("/audit/verify", headers=ADMIN)
    assert verified.status_code == 200
    assert verified.json()["ok"] is True and verified.json()["rows_checked"] >= 10


def test_only_admins_read_the_audit_log(client: TestClient) -> None:
    for path in ("/audit", "/audit/verify"):
        assert client.get(path, headers=auth(HR_KEY)).status_code == 403
        assert client.get(path).status_code == 401
    bad = client.get("/audit", params={"cursor": "nope"}, headers=ADMIN)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"


def test_a_row_edited_behind_the_service_shows_in_verify(client: TestClient) -> None:
    (bucket_row,) = _entries(client, action="bucket.create")
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.audit.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET target = 'elsewhere' WHERE seq = :seq"),
            {"seq": bucket_row["seq"]},
        )

    body = client.get("/audit/verify", headers=ADMIN).json()

    assert (body["ok"], body["first_bad_seq"], body["problem"]) == (
        False,
        bucket_row["seq"],
        "edited",
    )
