"""Erasing a deleted document from the answer records, on SQLite and PostgreSQL.

An erasure must touch exactly the records whose citations name the document, leave
the chain verifiable on the strength of its ``audit.erase`` event, and leave every
other way of emptying or editing a row as detectable as before. Tampering is plain
SQL on the rows, as an intruder with database access would do it; history (rows
of past days) is appended through the chain writer with the times given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import Engine

from governance.audit_answers import AuditedAnswers
from governance.audit_chain import locked_chain
from governance.audit_hashing import stripped, text_digest
from governance.audit_log import Actor, AuditFilter, AuditLog
from governance.audit_tables import AuditRow
from governance.erasure import AnswerErasure, erase_document
from governance.retention import Retention
from kernel.settings import AuditSettings
from ragline.schema import ensure_schema
from tests.postgres_db import database_url

pytestmark = pytest.mark.service

BACKENDS = ("sqlite", "postgresql")
ADMIN = Actor(key_id="key-adminadmin", team="ops", identity="admin")
ALICE = Actor(key_id="key-aaaaaaaaaaaa", team="search", identity="alice")
NOW = datetime.now(UTC)
DOC_A = "0b7e0a4c-1111-5aaa-8aaa-aaaaaaaaaaaa"
DOC_B = "0b7e0a4c-2222-5bbb-8bbb-bbbbbbbbbbbb"
ATTACHMENT = "0b7e0a4c-3333-5ccc-8ccc-cccccccccccc"
SETTINGS = AuditSettings(answers_days=30, question_text_days=10, events_days=365)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with database_url(request.param, tmp_path) as url:
        ensure_schema(url, auto_upgrade=True)
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def audit(engine: Engine) -> AuditLog:
    return AuditLog(engine)


def _citation(n: int, document_id: str, title: str) -> dict[str, object]:
    return {
        "n": n,
        "chunk_id": f"chunk-{document_id[-4:]}-{n}",
        "document_id": document_id,
        "title": title,
        "source": f"{title.lower()}.txt",
        "section": "Terms",
        "page": n,
    }


def _answer(answer: str, *cited: tuple[str, str], question: str = "q?") -> dict[str, object]:
    citations = [_citation(n, doc, title) for n, (doc, title) in enumerate(cited, start=1)]
    return {
        "model": "extractive",
        "retrieval": {"top_k": 3},
        "chunk_ids": [str(c["chunk_id"]) for c in citations] + ["chunk-other"],
        "cited_chunk_ids": [str(c["chunk_id"]) for c in citations],
        "grounding": 0.75,
        "latency_ms": 12.5,
        "generation": None,
        "question": question,
        "answer": answer,
        "citations": citations,
        "degraded": False,
    }


def _history(engine: Engine, rows: list[tuple[int, str, dict[str, object]]]) -> None:
    """Append (days ago, target, details) rows: answers, or events where the target says so."""
    with locked_chain(engine) as chain:
        for days_ago, target, details in rows:
            event = target.startswith("event:")
            chain.append(
                ts=NOW - timedelta(days=days_ago),
                kind="event" if event else "answer",
                action="document.upload" if event else "answer",
                key_id=ALICE.key_id,
                team=ALICE.team,
                identity=ALICE.identity,
                target=target.removeprefix("event:"),
                details=details,
            )


def _standard_history(engine: Engine) -> None:
    _history(
        engine,
        [
            (5, f"event:{DOC_A}", {"bucket": "b", "key": "alpha.txt"}),  # 1: names A, an event
            (5, "cites-a", _answer("Alpha says 14:00 [1]", (DOC_A, "Alpha"))),  # 2
            (4, "cites-b", _answer("Beta says no [1]", (DOC_B, "Beta"))),  # 3
            (4, "cites-both", _answer("Both [1][2]", (DOC_B, "Beta"), (DOC_A, "Alpha"))),  # 4
            (3, "asks-about-a", _answer("Beta [1]", (DOC_B, "Beta"), question=DOC_A)),  # 5
            (2, "cites-attachment", _answer("Annex [1]", (ATTACHMENT, "Annex"))),  # 6
        ],
    )


def _rows(engine: Engine) -> dict[int, Any]:
    with engine.connect() as conn:
        return {int(r.seq): r.details for r in conn.execute(select(AuditRow.seq, AuditRow.details))}


def _sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_erase_touches_exactly_the_records_citing_the_document(
    audit: AuditLog, engine: Engine
) -> None:
    _standard_history(engine)
    before = _rows(engine)
    answers = AuditedAnswers(audit, SETTINGS)

    result = erase_document(audit, DOC_A, actor=ADMIN, attachment_ids=[ATTACHMENT])

    assert (result.erased_seqs, result.erased, result.event_seq) == ((2, 4, 6), 3, 7)
    after = _rows(engine)
    # The event naming A, the record citing only B and the one merely asking about A's id:
    # untouched, byte for byte.
    assert [after[s] == before[s] for s in (1, 3, 5)] == [True, True, True]
    only_a = answers.get_answer("cites-a")
    assert (only_a.answer, only_a.question) == (None, None)
    assert only_a.citations == [
        {"n": 1, "chunk_id": only_a.cited_chunk_ids[0], "document_id": DOC_A, "page": 1}
        | {"title": None, "source": None, "section": None}
    ]
    assert only_a.chunk_ids == before[2]["chunk_ids"] and only_a.grounding == 0.75
    both = answers.get_answer("cites-both")
    assert both.answer is None
    assert [(c["document_id"], c["title"], c["source"]) for c in both.citations or []] == [
        (DOC_B, "Beta", "beta.txt"),
        (DOC_A, None, None),
    ]
    assert answers.get_answer("cites-attachment").answer is None
    assert answers.get_answer("cites-b").answer == "Beta says no [1]"
    stored = json.dumps([after[s] for s in (2, 4, 6)])
    assert not any(word in stored.lower() for word in ("alpha", "14:00", "annex", "q?"))

    (event,) = audit.query(AuditFilter(action="audit.erase")).entries
    assert (event.seq, event.target, event.key_id, event.kind) == (7, DOC_A, ADMIN.key_id, "event")
    assert event.details is not None
    assert event.details["document_id"] == DOC_A
    assert event.details["attachment_ids"] == [ATTACHMENT]
    assert (event.details["erased"], event.details["erased_seqs"]) == (3, [2, 4, 6])
    assert len(event.details["sealed"]) == 3

    verified = audit.verify()
    assert (verified.ok, verified.rows_checked) == (True, 7), verified


def test_erasing_again_or_another_cited_document_keeps_the_chain_verifiable(
    audit: AuditLog, engine: Engine
) -> None:
    _standard_history(engine)
    erasure = AnswerErasure(audit)
    erasure.erase_document(DOC_A, actor=ADMIN)

    again = erasure.erase_document(DOC_A, actor=ADMIN)
    assert (again.erased_seqs, again.event_seq) == ((), 8)
    assert audit.verify().ok

    # Row 4 cites both: erased again, now sealed by B's erasure.
    b = erasure.erase_document(DOC_B, actor=ADMIN)
    assert b.erased_seqs == (3, 4, 5)
    both = AuditedAnswers(audit, SETTINGS).get_answer("cites-both")
    assert [c["title"] for c in both.citations or []] == [None, None]
    assert [c["document_id"] for c in both.citations or []] == [DOC_B, DOC_A]
    result = audit.verify()
    assert (result.ok, result.rows_checked) == (True, 9), result


def _strip_answer_by_hand(engine: Engine, seq: int) -> None:
    """Strip an answer text as an erasure would (digest kept), with no erase event."""
    with engine.begin() as conn:
        details = conn.execute(select(AuditRow.details).where(AuditRow.seq == seq)).scalar_one()
        details["answer"] = stripped(text_digest(details["answer"]))
        conn.execute(update(AuditRow).where(AuditRow.seq == seq).values(details=details))


def _restore_title(engine: Engine, seq: int) -> None:
    with engine.begin() as conn:
        details = conn.execute(select(AuditRow.details).where(AuditRow.seq == seq)).scalar_one()
        details["citations"]["entries"][0]["title"] = "Alpha"
        conn.execute(update(AuditRow).where(AuditRow.seq == seq).values(details=details))


def _drop_from_erase_event(engine: Engine, seq: int) -> None:
    with engine.begin() as conn:
        event = conn.execute(select(AuditRow.details).where(AuditRow.seq == 7)).scalar_one()
        at = event["erased_seqs"].index(seq)
        del event["erased_seqs"][at], event["sealed"][at]
        conn.execute(update(AuditRow).where(AuditRow.seq == 7).values(details=event))


EMPTY = (
    "UPDATE audit_log SET key_id = NULL, team = NULL, identity = NULL, target = NULL, "
    "details = NULL, purged_at = ts WHERE seq = :seq"
)


@pytest.mark.parametrize(
    ("tamper", "seq"),
    [
        # A record citing only B, emptied as retention would, though nothing purged it.
        (lambda engine: _sql(engine, EMPTY, seq=3), 3),
        # Its answer stripped as an erasure would, though no erasure names it.
        (lambda engine: _strip_answer_by_hand(engine, 3), 3),
        # An erased record edited afterwards: the document's title put back.
        (lambda engine: _restore_title(engine, 2), 2),
        # An erased record whose erase event no longer names it.
        (lambda engine: _drop_from_erase_event(engine, 4), 4),
        # The erase event rewritten to name a record it did not erase.
        (lambda engine: _sql(engine, "UPDATE audit_log SET target = 'x' WHERE seq = 7"), 7),
    ],
)
def test_tampering_around_an_erasure_is_still_caught(
    audit: AuditLog, engine: Engine, tamper: Any, seq: int
) -> None:
    _standard_history(engine)
    erase_document(audit, DOC_A, actor=ADMIN, attachment_ids=[ATTACHMENT])
    assert audit.verify().ok
    tamper(engine)

    result = audit.verify()

    assert (result.ok, result.first_bad_seq, result.problem) == (False, seq, "edited"), result


def test_a_purge_after_an_erasure_still_verifies(audit: AuditLog, engine: Engine) -> None:
    _history(
        engine,
        [
            (40, "old", _answer("Alpha old [1]", (DOC_A, "Alpha"))),  # 1: past answers_days
            (20, "mid", _answer("Alpha mid [1]", (DOC_A, "Alpha"))),  # 2: question past its days
            (20, "other", _answer("Beta [1]", (DOC_B, "Beta"))),  # 3: question past its days
            (5, "new", _answer("Alpha new [1]", (DOC_A, "Alpha"))),  # 4
        ],
    )
    assert erase_document(audit, DOC_A, actor=ADMIN).erased_seqs == (1, 2, 4)

    report = Retention(audit, SETTINGS).purge(NOW)

    # Row 2's question went with the erasure; only row 3's is left to strip.
    assert report.purged == {"answer": 1} and report.questions_stripped == 1
    assert report.deleted_seqs == (1, 1)
    result = audit.verify()
    assert (result.ok, result.anchor_seq) == (True, 1), result
    answers = AuditedAnswers(audit, SETTINGS)
    assert answers.get_answer("new").answer is None and answers.get_answer("other").question is None


def test_an_erase_event_outlives_events_days_while_its_records_live(
    audit: AuditLog, engine: Engine
) -> None:
    short_events = AuditSettings(answers_days=30, question_text_days=10, events_days=1)
    _history(engine, [(5, "new", _answer("Alpha [1]", (DOC_A, "Alpha")))])
    erase_document(audit, DOC_A, actor=ADMIN)  # 2
    audit.record(actor=ADMIN, action="document.delete", target=DOC_A)  # 3

    # Two days on, events are past retention; the erased record is not, nor its proof.
    report = Retention(audit, short_events).purge(NOW + timedelta(days=2))

    assert report.purged == {"event": 1} and report.purged_seqs == (3, 3)
    assert [e.seq for e in audit.query(AuditFilter(action="audit.erase")).entries] == [2]
    assert not audit.query(AuditFilter(action="audit.erase")).entries[0].purged
    assert audit.verify().ok

    # Once the record itself expires, both go.
    report = Retention(audit, short_events).purge(NOW + timedelta(days=40))
    assert report.purged.get("answer") == 1 and report.purged.get("event", 0) >= 1
    assert audit.verify().ok
