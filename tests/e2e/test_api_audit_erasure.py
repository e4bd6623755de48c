"""Deleting a document erases it from the answer records that cite it, and proves it.

Against the real app (extractive answers, no models file): an answer quoting an
uploaded document is recorded with its text; ``DELETE /documents/{id}`` leaves the
record without the answer, the question or the document's title, an admin reads the
``audit.erase`` event naming the document in ``GET /audit``, and the chain still
verifies. ``ragline audit erase`` does the same by hand, for an erasure the server
logged as pending.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from typer.testing import CliRunner

from governance.audit_answers import AuditedAnswers
from governance.audit_log import AuditLog
from governance.audit_port import Actor
from governance.erasure_port import ErasureResult
from ingest.answer_erasure import erase_answer_records
from kernel.errors import DependencyUnavailableError
from kernel.settings import get_settings
from ragline.audit_cli import audit_app
from ragline.schema import ensure_schema
from tests.conftest import ADMIN_KEY, ENG_KEY
from tests.e2e.conftest import auth, upload, wait_done

pytestmark = pytest.mark.e2e

ADMIN = auth(ADMIN_KEY)
KAYAK = b"The kayak session starts at 14:00 on the north dock. Bring a towel and a hat."
HIKE = b"The mountain hike leaves from the village square at dawn. Wear boots."


def _ask(client: TestClient, question: str) -> dict[str, Any]:
    asked = client.post("/ask", json={"question": question}, headers=auth(ENG_KEY))
    assert asked.status_code == 200, asked.text
    body: dict[str, Any] = asked.json()
    return body


def test_deleting_a_document_erases_the_answer_records_citing_it(client: TestClient) -> None:
    made = client.post("/buckets", json={"name": "outings", "roles": ["public"]}, headers=ADMIN)
    assert made.status_code == 201, made.text
    kayak = upload(client, "outings", "kayak-trip.txt", KAYAK)["document_id"]
    hike = upload(client, "outings", "hike-trip.txt", HIKE)["document_id"]
    assert wait_done(client, kayak)["status"] == "indexed"
    assert wait_done(client, hike)["status"] == "indexed"
    services = client.app.state.services  # type: ignore[attr-defined]
    answers = AuditedAnswers(services.audit, services.settings.audit)

    about_kayak = _ask(client, "When does the kayak session start?")
    about_hike = _ask(client, "Where does the mountain hike leave from?")
    assert kayak in [c["document_id"] for c in about_kayak["citations"]]
    assert kayak not in [c["document_id"] for c in about_hike["citations"]]
    before = answers.get_answer(about_kayak["answer_id"])
    assert before.answer is not None and "14:00" in before.answer
    assert before.question is not None and "kayak" in before.question
    assert before.citations is not None
    assert [c["title"] for c in before.citations if c["document_id"] == kayak] != [None]
    hike_before = answers.get_answer(about_hike["answer_id"])

    assert client.delete(f"/documents/{kayak}", headers=ADMIN).status_code == 204

    after = answers.get_answer(about_kayak["answer_id"])
    assert (after.answer, after.question) == (None, None)
    assert after.citations is not None
    erased = [c for c in after.citations if c["document_id"] == kayak]
    assert erased and all((c["title"], c["source"], c["section"]) == (None,) * 3 for c in erased)
    assert [c["chunk_id"] for c in after.citations] == after.cited_chunk_ids
    assert "kayak" not in json.dumps(after.citations) and "north dock" not in str(after)
    assert answers.get_answer(about_hike["answer_id"]) == hike_before

    listed = client.get("/audit", params={"action": "audit.erase"}, headers=ADMIN)
    assert listed.status_code == 200, listed.text
    (event,) = listed.json()["entries"]
    record_seq = services.audit.find(kind="answer", target=about_kayak["answer_id"]).seq
    assert event["target"] == kayak and event["details"]["document_id"] == kayak
    assert event["details"]["erased_seqs"] == [record_seq] and event["details"]["erased"] == 1
    actions = [e["action"] for e in client.get("/audit", headers=ADMIN).json()["entries"]]
    assert actions[-2:] == ["document.delete", "audit.erase"]

    verified = client.get("/audit/verify", headers=ADMIN).json()
    assert verified["ok"] is True, verified
    assert services.audit.verify().ok


class _DatabaseDown:
    """The erasure port with its database gone (it cannot be taken down mid-request here)."""

    def erase_document(
        self, document_id: str, *, actor: Actor, attachment_ids: Sequence[str] = ()
    ) -> ErasureResult:
        raise DependencyUnavailableError("the database is unavailable")


def test_with_the_database_down_the_erasure_is_logged_as_pending(
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = Actor(key_id="key-admin", team="ops", identity="admin")
    with caplog.at_level(logging.WARNING):
        erase_answer_records(_DatabaseDown(), "doc-1", ["att-2"], admin)

    (logged,) = [r.getMessage() for r in caplog.records]
    assert "pending" in logged
    assert "ragline audit erase --document doc-1 --attachment att-2" in logged


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("RAGLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAGLINE_MODE", raising=False)
    get_settings.cache_clear()
    app = typer.Typer()
    app.add_typer(audit_app, name="audit")
    yield app
    get_settings.cache_clear()


def test_ragline_audit_erase_erases_by_hand_and_says_what(shell: typer.Typer) -> None:
    settings = get_settings()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    ensure_schema(settings.registry_url, auto_upgrade=True)
    engine = create_engine(settings.registry_url)
    try:
        audit = AuditLog(engine)
        answers = AuditedAnswers(audit, settings.audit)
        for n, document_id in enumerate(("doc-gone", "doc-kept", "doc-gone"), start=1):
            answers.record_answer(
                answer_id=f"a{n}",
                key_id="key-reader",
                model="extractive",
                retrieval={},
                chunk_ids=[f"c{n}"],
                cited_chunk_ids=[f"c{n}"],
                grounding=1.0,
                latency_ms=1.0,
                question="When?",
                answer="At 14:00 [1]",
                citations=[{"n": 1, "chunk_id": f"c{n}", "document_id": document_id, "title": "T"}],
            )

        ran = CliRunner().invoke(shell, ["audit", "erase", "--document", "doc-gone"])

        assert ran.exit_code == 0, ran.output
        assert (
            "Audit erase of document doc-gone: 2 answer records erased (rows: 1, 3)" in ran.output
        )
        assert "recorded as row 4" in ran.output
        assert answers.get_answer("a1").answer is None
        assert answers.get_answer("a2").answer == "At 14:00 [1]"
        (event,) = [e for e in audit.query().entries if e.action == "audit.erase"]
        assert event.key_id == "cli" and (event.identity or "").startswith("cli")
        verified = CliRunner().invoke(shell, ["audit", "verify"])
        assert verified.exit_code == 0 and "Audit chain OK: 4 rows checked" in verified.output
    finally:
        engine.dispose()
