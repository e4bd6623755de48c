"""Answer records written behind the answer: the real runtime, SQLite, index and model.

The writer thread is held by a job the test controls, so each test decides whether a
record has been written when the next step runs. What must hold: the answer returns
before its record is written; no audit read, and no erasure, runs ahead of a record
of an answer already given; what is written is redacted as before.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from governance.audit_answers import AuditedAnswers
from governance.audit_port import Actor
from governance.audit_tables import AuditRow
from ingest.answer_erasure import erase_answer_records
from ingest.pipeline import delete_document, ingest_document
from ingest.registration import register_object
from ragline.runtime import Runtime, open_runtime
from retrieval.access import Principal
from retrieval.encoders import DenseEncoder
from tests.conftest import make_settings
from tests.held_writer import WAIT_S, hold

pytestmark = pytest.mark.service
POLICY = (
    b"# Harbour access\n\nThe harbour gate code is changed every Monday by the port office. "
    b"Questions about the gate go to the harbour master.\n"
)
QUESTION = "How often is the harbour gate code changed? Reply to anna.berg@example.com"
PUBLIC = Principal("key-public", frozenset({"public"}))
ADMIN = Actor(key_id="key-admin", team="ops", identity="admin")


@pytest.fixture
def runtime(tmp_path: Path, embedder: DenseEncoder) -> Iterator[Runtime]:
    runtime = open_runtime(make_settings(tmp_path / "data"), dense=embedder)
    try:
        yield runtime
    finally:
        runtime.close()


def add_policy(runtime: Runtime) -> str:
    deps = runtime.ingestion
    deps.buckets.create_bucket("harbour", ["public"], None, None)
    stored = deps.store.write("harbour", None, "gate.md", io.BytesIO(POLICY), max_bytes=1_000_000)
    registration = register_object(
        deps,
        bucket="harbour",
        key=stored.key,
        content_hash=stored.content_hash,
        size_bytes=stored.size_bytes,
        roles=["public"],
        doc_type=None,
        title=None,
    )
    assert ingest_document(deps, registration.document.id).outcome == "indexed"
    return registration.document.id


def rows_about(runtime: Runtime, answer_id: str) -> int:
    """Audit rows for the answer, read with plain SQL (no settle): what is on disk."""
    with runtime.registry.engine.connect() as conn:
        return len(conn.execute(select(AuditRow.seq).where(AuditRow.target == answer_id)).all())


def test_the_answer_returns_before_its_record_and_a_read_waits_for_it(
    runtime: Runtime,
) -> None:
    add_policy(runtime)
    assert runtime.records is not None
    release = hold(runtime.records)
    answer = runtime.answers.ask(PUBLIC, QUESTION)
    assert answer.found and "every Monday" in answer.text
    assert rows_about(runtime, answer.answer_id) == 0  # given, not yet recorded

    # Released only after the read has begun: without the read barrier the read would
    # find nothing (NotFoundError); with it, it waits for the record.
    threading.Timer(0.3, release.set).start()
    record = AuditedAnswers(runtime.audit, runtime.settings.audit).get_answer(answer.answer_id)
    assert record.question == ("How often is the harbour gate code changed? Reply to <EMAIL_1>")
    assert record.answer == answer.text
    assert record.cited_chunk_ids == [c.chunk_id for c in answer.citations]
    assert rows_about(runtime, answer.answer_id) == 1


def test_an_erasure_never_runs_ahead_of_a_queued_record(runtime: Runtime) -> None:
    doc_id = add_policy(runtime)
    assert runtime.records is not None
    release = hold(runtime.records)
    answer = runtime.answers.ask(PUBLIC, QUESTION)
    assert [c.document_id for c in answer.citations] == [doc_id]

    delete_document(runtime.ingestion, doc_id)
    erasing = threading.Thread(
        target=erase_answer_records, args=(runtime.ingestion.erasure, doc_id, [], ADMIN)
    )
    erasing.start()
    # Without the barrier the erasure finds no record, ends, and the record written
    # after it keeps the deleted document's answer text and title.
    threading.Timer(0.3, release.set).start()
    erasing.join(WAIT_S)
    assert not erasing.is_alive()
    record = AuditedAnswers(runtime.audit, runtime.settings.audit).get_answer(answer.answer_id)
    assert record.answer is None and record.question is None
    assert record.citations is not None
    assert [c.get("title") for c in record.citations] == [None]
    assert [c["document_id"] for c in record.citations] == [doc_id]


def test_closing_the_runtime_writes_the_queued_records(
    tmp_path: Path, embedder: DenseEncoder
) -> None:
    settings = make_settings(tmp_path / "data")
    runtime = open_runtime(settings, dense=embedder)
    try:
        add_policy(runtime)
        assert runtime.records is not None
        release = hold(runtime.records)
        answers = [runtime.answers.ask(PUBLIC, QUESTION) for _ in range(3)]
        threading.Timer(0.3, release.set).start()
    finally:
        runtime.close()
    reopened = open_runtime(settings, dense=embedder)
    try:
        records = AuditedAnswers(reopened.audit, settings.audit)
        assert [records.get_answer(a.answer_id).answer for a in answers] == [
            a.text for a in answers
        ]
    finally:
        reopened.close()
