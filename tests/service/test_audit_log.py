"""The audit log on real databases: SQLite files and PostgreSQL (tests/postgres_db.py).

Each test gets a database made by the migrations, as production has it. Tampering
is done the way an intruder with database access would: plain SQL on the rows.
History (rows of past days) is appended through the chain writer with the times
given, since ``AuditLog.record`` always stamps now.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine

from governance.audit_answers import AuditedAnswers
from governance.audit_chain import locked_chain
from governance.audit_log import Actor, AuditFilter, AuditLog
from governance.audit_tables import AuditRow
from governance.retention import Retention
from kernel.errors import InvalidInputError, NotFoundError
from kernel.settings import AuditSettings
from ragline.schema import alembic_config, current_revision, ensure_schema, head_revision
from tests.postgres_db import database_url

pytestmark = pytest.mark.service

BACKENDS = ("sqlite", "postgresql")
ALICE = Actor(key_id="key-aaaaaaaaaaaa", team="search", identity="alice")
BOB = Actor(key_id="key-bbbbbbbbbbbb", team="legal", identity="bob")
NOW = datetime.now(UTC)


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    return create_engine(url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        ensure_schema(url, auto_upgrade=True)
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = _engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def audit(engine: Engine) -> AuditLog:
    return AuditLog(engine)


def _sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _seqs(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(AuditRow.seq).order_by(AuditRow.seq)).scalars())


def _answer_details(question: str | None = "what is x?") -> dict[str, object]:
    return {
        "model": "extractive",
        "retrieval": {"top_k": 3},
        "chunk_ids": ["c1", "c2"],
        "cited_chunk_ids": ["c1"],
        "grounding": 0.75,
        "latency_ms": 12.5,
        "generation": None,
        "question": question,
        "answer": "x is y [1]",
        "citations": [{"chunk_id": "c1", "title": "Doc"}],
        "degraded": False,
    }


def _history(engine: Engine, rows: list[tuple[int, str, str]]) -> None:
    """Append (days ago, kind, target) rows with those times, oldest first."""
    with locked_chain(engine) as chain:
        for days_ago, kind, target in rows:
            chain.append(
                ts=NOW - timedelta(days=days_ago),
                kind=kind,
                action="answer" if kind == "answer" else "document.upload",
                key_id=ALICE.key_id,
                team=ALICE.team,
                identity=ALICE.identity,
                target=target,
                details=_answer_details() if kind == "answer" else {"bucket": "b"},
            )


# -- appending, reading, verifying -------------------------------------------------


def test_rows_chain_and_read_back_filtered_and_paged(audit: AuditLog) -> None:
    first = audit.record(actor=ALICE, action="bucket.create", target="b", details={"roles": ["x"]})
    for n in range(4):
        audit.record(actor=BOB, action="document.upload", target=f"d{n}", details={"n": n})
    audit.record(actor=ALICE, action="answer", target="a1", kind="answer", details={"k": 1.5})

    everything = audit.query(limit=1000).entries
    assert [e.seq for e in everything] == [1, 2, 3, 4, 5, 6]
    assert everything[0].hash == first
    assert [e.prev_hash for e in everything[1:]] == [e.hash for e in everything[:-1]]
    assert everything[-1].details == {"k": 1.5} and everything[-1].kind == "answer"

    uploads = audit.query(AuditFilter(action="document.upload"), limit=3)
    assert [e.target for e in uploads.entries] == ["d0", "d1", "d2"]
    rest = audit.query(AuditFilter(action="document.upload"), limit=3, cursor=uploads.next_cursor)
    assert [e.target for e in rest.entries] == ["d3"] and rest.next_cursor is None
    assert [e.seq for e in audit.query(AuditFilter(team="search")).entries] == [1, 6]
    assert [e.seq for e in audit.query(AuditFilter(key_id=BOB.key_id, kind="event")).entries] == [
        2,
        3,
        4,
        5,
    ]
    assert audit.query(AuditFilter(since=NOW + timedelta(days=1))).entries == []
    assert len(audit.query(AuditFilter(until=NOW + timedelta(days=1))).entries) == 6
    with pytest.raises(InvalidInputError):
        audit.query(cursor="not-a-seq")

    result = audit.verify()
    assert (result.ok, result.rows_checked, result.first_bad_seq) == (True, 6, None)


def test_details_must_be_json_and_kind_known(audit: AuditLog) -> None:
    with pytest.raises(ValueError, match="JSON"):
        audit.record(actor=ALICE, action="x", details={"when": NOW})
    with pytest.raises(ValueError, match="kind"):
        audit.record(actor=ALICE, action="x", kind="gossip")
    assert audit.query().entries == [] and audit.verify().ok


def _five(audit: AuditLog) -> None:
    for n in range(1, 6):
        audit.record(actor=ALICE, action="document.upload", target=f"d{n}", details={"n": n})


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        ("UPDATE audit_log SET target = 'forged' WHERE seq = 3", 3, "edited"),
        ("UPDATE audit_log SET key_id = 'key-someone-else' WHERE seq = 1", 1, "edited"),
        ("UPDATE audit_log SET hash = prev_hash WHERE seq = 4", 4, "edited"),
        ("DELETE FROM audit_log WHERE seq = 3", 3, "deleted"),
        ("DELETE FROM audit_log WHERE seq >= 4", 4, "deleted"),
        ("DELETE FROM audit_log WHERE seq = 1", 1, "deleted"),
        # Renumbered after a deletion, so no seq is missing: the link still breaks.
        (
            "DELETE FROM audit_log WHERE seq = 3; UPDATE audit_log SET seq = seq - 1 WHERE seq > 3;"
            " UPDATE audit_head SET seq = seq - 1",
            3,
            "deleted",
        ),
        # Two rows swapped.
        (
            "UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE "
            "seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 100",
            2,
            "reordered",
        ),
        # Emptied as if by retention, though nothing purged it.
        (
            "UPDATE audit_log SET key_id = NULL, team = NULL, identity = NULL, target = NULL, "
            "details = NULL, purged_at = ts WHERE seq = 2",
            2,
            "edited",
        ),
    ],
)
def test_verify_names_the_first_row_tampered_with(
    audit: AuditLog, engine: Engine, tamper: str, seq: int, problem: str
) -> None:
    _five(audit)
    for statement in tamper.split(";"):
        _sql(engine, statement)

    result = audit.verify()

    assert (result.ok, result.first_bad_seq, result.problem) == (False, seq, problem), result
    assert result.rows_checked <= seq - 1  # intact before it (0: the newest rows are gone)


def test_appends_from_many_threads_never_fork_the_chain(audit: AuditLog, engine: Engine) -> None:
    threads, per_thread = 8, 25

    def work(n: int) -> None:
        for i in range(per_thread):
            audit.record(actor=ALICE, action="t", target=f"{n}-{i}")

    with ThreadPoolExecutor(threads) as pool:
        for done in [pool.submit(work, n) for n in range(threads)]:
            done.result()  # raises what the thread raised

    assert _seqs(engine) == list(range(1, threads * per_thread + 1))
    result = audit.verify()
    assert result.ok and result.rows_checked == threads * per_thread


def test_verify_while_others_append_sees_one_consistent_chain(audit: AuditLog) -> None:
    audit.record(actor=ALICE, action="first")
    stop = threading.Event()

    def append() -> int:
        n = 0
        while not stop.is_set() and n < 200:
            audit.record(actor=BOB, action="busy", target=str(n))
            n += 1
        return n

    with ThreadPoolExecutor(4) as pool:
        appenders = [pool.submit(append) for _ in range(4)]
        results = [audit.verify() for _ in range(15)]
        stop.set()
        appended = sum(a.result() for a in appenders)

    assert [r for r in results if not r.ok] == []
    final = audit.verify()
    assert final.ok and final.rows_checked == appended + 1


_APPENDER = """
import sys, time
from pathlib import Path
from sqlalchemy import create_engine
from governance.audit_log import Actor, AuditLog

url, ready, go, name, count = sys.argv[1:6]
args = {"timeout": 30} if url.startswith("sqlite") else {}
audit = AuditLog(create_engine(url, connect_args=args))
Path(ready).touch()
deadline = time.monotonic() + 120
while not Path(go).exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.005)
for i in range(int(count)):
    audit.record(actor=Actor(name, None, None), action="p", target=f"{name}-{i}")
"""


def test_appends_from_two_processes_never_fork_the_chain(
    audit: AuditLog, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    go, count = tmp_path / "go", 60
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _APPENDER,
                db_url,
                str(tmp_path / f"ready-{n}"),
                str(go),
                f"proc{n}",
                str(count),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"ready-{n}").exists() for n in range(2)):
            assert time.monotonic() < deadline, "the appenders did not start"
            time.sleep(0.02)
        go.touch()
        outcomes = [(child.communicate(timeout=300)[1], child.returncode) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()

    assert [code for _, code in outcomes] == [0, 0], outcomes
    assert _seqs(engine) == list(range(1, 2 * count + 1))
    targets = {e.target for e in audit.query(limit=1000).entries}
    assert targets == {f"proc{n}-{i}" for n in range(2) for i in range(count)}
    assert audit.verify().ok


# -- retention -----------------------------------------------------------------------

SETTINGS = AuditSettings(answers_days=30, question_text_days=10, events_days=365)


def test_purge_removes_exactly_what_retention_says_and_the_chain_still_verifies(
    audit: AuditLog, engine: Engine
) -> None:
    _history(
        engine,
        [
            (400, "event", "old-event"),  # 1: past events_days
            (40, "answer", "old-answer"),  # 2: past answers_days
            (40, "event", "kept-event"),  # 3
            (20, "answer", "mid-answer"),  # 4: past question_text_days only
            (5, "answer", "new-answer"),  # 5
        ],
    )
    answers = AuditedAnswers(audit, SETTINGS)
    assert answers.get_answer("mid-answer").question == "what is x?"

    report = Retention(audit, SETTINGS).purge(NOW)

    assert report.purged == {"answer": 1, "event": 1} and report.purged_seqs == (1, 2)
    assert report.questions_stripped == 1
    assert (report.deleted, report.deleted_seqs, report.checkpoint_seq) == (2, (1, 2), 6)
    # The two expired rows began the chain: they are gone, and the chain starts after them.
    assert _seqs(engine) == [3, 4, 5, 6]
    result = audit.verify()
    assert (result.ok, result.rows_checked, result.anchor_seq) == (True, 4, 2), result
    with pytest.raises(NotFoundError):
        answers.get_answer("old-answer")
    mid = answers.get_answer("mid-answer")
    assert mid.question is None and mid.answer == "x is y [1]" and mid.chunk_ids == ["c1", "c2"]
    assert answers.get_answer("new-answer").question == "what is x?"
    # The purge is itself in the chain, saying what it did.
    checkpoint = audit.query(AuditFilter(action="audit.purge")).entries
    assert [e.seq for e in checkpoint] == [6]
    details = checkpoint[0].details or {}
    assert details["purged"] == {"answer": 1, "event": 1}
    assert details["deleted"] == 2 and details["deleted_seqs"] == [1, 2]
    assert details["anchor"]["seq"] == 2 and checkpoint[0].key_id == "system"

    # A second purge finds nothing new; the chain keeps verifying.
    again = Retention(audit, SETTINGS).purge(NOW + timedelta(minutes=1))
    assert (again.purged, again.questions_stripped, again.deleted) == ({}, 0, 0)
    assert audit.verify().ok


def test_purge_empties_rows_in_the_middle_and_verify_still_links_across_them(
    audit: AuditLog, engine: Engine
) -> None:
    _history(engine, [(40, "event", "e1"), (40, "answer", "a1"), (1, "event", "e2")])

    report = Retention(audit, SETTINGS).purge(NOW)

    assert report.purged == {"answer": 1} and report.deleted == 0
    assert _seqs(engine) == [1, 2, 3, 4]
    emptied = audit.query(AuditFilter(kind="answer")).entries[0]
    assert emptied.purged and emptied.target is None and emptied.details is None
    assert audit.verify().ok


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        ("UPDATE audit_log SET target = 'forged' WHERE seq = 4", 4, "edited"),
        ("DELETE FROM audit_log WHERE seq = 3", 3, "deleted"),
        ("DELETE FROM audit_log WHERE seq = 5", 5, "deleted"),
        ("DELETE FROM audit_log WHERE seq = 6", 6, "deleted"),
        (
            "UPDATE audit_log SET key_id = NULL, team = NULL, identity = NULL, target = NULL, "
            "details = NULL, purged_at = ts WHERE seq = 5",
            5,
            "edited",
        ),
    ],
)
def test_tampering_after_a_purge_is_still_caught(
    audit: AuditLog, engine: Engine, tamper: str, seq: int, problem: str
) -> None:
    _history(
        engine,
        [(400, "event", "e"), (40, "answer", "a"), (40, "event", "k"), (20, "answer", "m")],
    )
    audit.record(actor=BOB, action="document.delete", target="d")  # 5
    Retention(audit, SETTINGS).purge(NOW)  # checkpoint: 6
    assert audit.verify().ok
    _sql(engine, tamper)

    result = audit.verify()

    assert (result.ok, result.first_bad_seq, result.problem) == (False, seq, problem), result


def test_purge_if_due_runs_once_per_interval_across_processes(audit: AuditLog) -> None:
    settings = AuditSettings(purge_interval_s=3600)
    first, other_process = Retention(audit, settings), Retention(audit, settings)

    assert first.purge_if_due(NOW) is not None
    assert first.purge_if_due(NOW + timedelta(minutes=5)) is None
    # Another process sees the purge in the chain and waits its turn too.
    assert other_process.purge_if_due(NOW + timedelta(minutes=10)) is None
    assert other_process.purge_if_due(NOW + timedelta(minutes=61)) is not None
    assert len(audit.query(AuditFilter(action="audit.purge")).entries) == 2
    assert audit.verify().ok


# -- answer records ------------------------------------------------------------------


def test_answer_records_round_trip_and_drop_the_question_when_told(audit: AuditLog) -> None:
    kept = AuditedAnswers(audit, AuditSettings())
    dropped = AuditedAnswers(audit, AuditSettings(question_text_days=0))
    common: dict[str, Any] = {
        "key_id": ALICE.key_id,
        "team": "search",
        "identity": "alice",
        "model": "gpt-x",
        "retrieval": {"top_k": 5},
        "chunk_ids": ["c1", "c2"],
        "cited_chunk_ids": ["c2"],
        "grounding": 0.5,
        "latency_ms": 8.0,
        "generation": {"prompt": "answer@3"},
        "answer": "It is <PERSON>.",
        "citations": [{"chunk_id": "c2"}],
        "degraded": True,
    }

    kept.record_answer(answer_id="a-1", question="Who is <PERSON>?", **common)
    dropped.record_answer(answer_id="a-2", question="Who is <PERSON>?", **common)
    # The call answer.service makes today: no team, identity or texts.
    kept.record_answer(
        answer_id="a-3",
        key_id="key-c",
        model="extractive",
        retrieval={},
        chunk_ids=[],
        cited_chunk_ids=[],
        grounding=0.0,
        latency_ms=1.0,
    )

    one = kept.get_answer("a-1")
    assert (one.question, one.answer, one.citations) == (
        "Who is <PERSON>?",
        "It is <PERSON>.",
        [{"chunk_id": "c2"}],
    )
    assert (one.team, one.identity, one.model, one.degraded) == ("search", "alice", "gpt-x", True)
    assert one.generation == {"prompt": "answer@3"} and one.cited_chunk_ids == ["c2"]
    assert kept.get_answer("a-2").question is None
    assert kept.get_answer("a-3").team is None and kept.get_answer("a-3").question is None
    with pytest.raises(NotFoundError):
        kept.get_answer("nope")
    assert audit.verify().ok


# -- migration 0004: the answers table moves into the chain ------------------------


_OLD_ANSWERS = Table(
    "answers",
    MetaData(),
    Column("id", String(36), primary_key=True),
    Column("key_id", String(32)),
    Column("model", String(64)),
    Column("retrieval", JSON),
    Column("chunk_ids", JSON),
    Column("cited_chunk_ids", JSON),
    Column("grounding", Float),
    Column("latency_ms", Float),
    Column("created_at", DateTime(timezone=True)),
    Column("generation", JSON),
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_moves_old_answer_records_into_the_chain(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        engine = _engine(url)
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), "0003")
            with engine.begin() as conn:
                for n, day in enumerate((3, 1, 2)):
                    conn.execute(
                        insert(_OLD_ANSWERS).values(
                            id=f"ans-{n}",
                            key_id="key-old",
                            model="extractive",
                            retrieval={"top_k": 3, "fusion": "convex"},
                            chunk_ids=["c1", "c2"],
                            cited_chunk_ids=["c1"],
                            grounding=0.1 + n / 3,
                            latency_ms=10.0 + n,
                            created_at=datetime(2026, 11, day, 8, 0, 0, 123456, tzinfo=UTC),
                            generation=None if n else {"cost_usd": 0.001},
                        )
                    )

            ensure_schema(url, auto_upgrade=True)

            assert current_revision(url) == head_revision()
            assert "answers" not in inspect(engine).get_table_names()
            audit = AuditLog(engine)
            rows = audit.query().entries
            assert [(e.seq, e.target) for e in rows] == [(1, "ans-1"), (2, "ans-2"), (3, "ans-0")]
            assert audit.verify().ok
            record = AuditedAnswers(audit, AuditSettings()).get_answer("ans-0")
            assert record.generation == {"cost_usd": 0.001} and record.grounding == 0.1
            assert record.created_at == datetime(2026, 11, 3, 8, 0, 0, 123456, tzinfo=UTC)
            assert record.key_id == "key-old" and record.question is None
            # The chain goes on from the migrated rows.
            audit.record(actor=ALICE, action="after", target="x")
            result = audit.verify()
            assert result.ok and result.rows_checked == 4
        finally:
            engine.dispose()
