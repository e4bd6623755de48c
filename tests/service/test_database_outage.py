"""A database outage is a 503 (``DependencyUnavailableError``) for every store, never a 500,
and the stores recover by themselves when the database is back.

A PostgreSQL cluster of the test's own (tests/private_services.py) is stopped and
started under a registry, a bucket catalog, refresh runs, schedules and answer
records that share one engine, as in a running process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from governance.audit_answers import AuditedAnswers
from governance.audit_log import AuditLog
from ingest.bucket_catalog import BucketCatalog
from ingest.refresh_log import RefreshRuns
from ingest.registry import Registry
from ingest.schedule_book import ScheduleBook
from kernel.errors import ConflictError, DependencyUnavailableError
from kernel.settings import AuditSettings
from ragline.schema import ensure_schema
from tests.private_services import PrivatePostgres

pytestmark = pytest.mark.service

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    with PrivatePostgres.create() as server:
        ensure_schema(server.url, auto_upgrade=True)
        yield server


@pytest.fixture
def registry(postgres: PrivatePostgres) -> Iterator[Registry]:
    registry = Registry(postgres.url)
    try:
        yield registry
    finally:
        registry.close()


def _register(registry: Registry, key: str) -> str:
    registration = registry.register(
        bucket="docs",
        key=key,
        content_hash=f"hash-{key}",
        size_bytes=10,
        roles=["public"],
        doc_type=None,
        title=None,
    )
    return registration.document.id


def test_every_store_reports_the_outage_as_dependency_unavailable(
    postgres: PrivatePostgres, registry: Registry
) -> None:
    engine = registry.engine
    catalog = BucketCatalog(engine)
    if catalog.find_bucket("docs") is None:
        catalog.create_bucket("docs", ["public"], None, None)
    doc_id = _register(registry, "outage.md")
    runs, schedules = RefreshRuns(engine), ScheduleBook(engine)
    records = AuditedAnswers(AuditLog(engine), AuditSettings())
    assert registry.served([doc_id]) == {}  # warm the pool: its connections go stale below

    calls: dict[str, Callable[[], object]] = {
        "registry.get": lambda: registry.get(doc_id),
        "registry.list_documents": lambda: registry.list_documents(status="queued"),
        "registry.served": lambda: registry.served([doc_id]),
        "registry.register": lambda: _register(registry, "new.md"),
        "registry.requeue": lambda: registry.requeue(doc_id),
        "catalog.list_buckets": catalog.list_buckets,
        "catalog.create_bucket": lambda: catalog.create_bucket("other", ["hr"], None, None),
        "runs.request": lambda: runs.request("docs", "api", NOW),
        "schedules.find": lambda: schedules.find("docs"),
        "records.get_answer": lambda: records.get_answer("nope"),
    }
    postgres.stop()
    try:
        for name, call in calls.items():
            with pytest.raises(DependencyUnavailableError) as caught:
                call()
            assert caught.value.message == "The database is unavailable; try again shortly.", name
            assert caught.value.retry_after_s == 5, name
            # The driver's words (host, port) stay out of the message, in the cause.
            assert "127.0.0.1" not in caught.value.message
            assert "Connection refused" in str(caught.value.__cause__), name
    finally:
        postgres.start()

    # Back: the same objects work again, nothing reopened (stale connections replaced).
    assert registry.get(doc_id).status == "queued"
    assert [b.name for b in catalog.list_buckets()] == ["docs"]
    assert runs.request("docs", "api", NOW)[1] is True


def test_a_statement_cut_by_a_shutdown_is_an_outage_too(
    postgres: PrivatePostgres, registry: Registry
) -> None:
    import threading

    started = threading.Event()

    def stop_when_started() -> None:
        started.wait(30)
        postgres.stop()

    stopper = threading.Thread(target=stop_when_started)
    stopper.start()
    try:
        with pytest.raises(DependencyUnavailableError), registry.engine.connect() as conn:
            started.set()
            conn.execute(text("SELECT pg_sleep(30)"))
    finally:
        stopper.join(60)
        postgres.start()
    assert registry.list_documents(limit=1) is not None


def test_errors_of_the_statement_are_not_outages(registry: Registry) -> None:
    catalog = BucketCatalog(registry.engine)
    if catalog.find_bucket("dup") is None:
        catalog.create_bucket("dup", ["public"], None, None)
    with pytest.raises(ConflictError):  # an IntegrityError underneath, mapped by the catalog
        catalog.create_bucket("dup", ["public"], None, None)
    with pytest.raises(IntegrityError), registry.engine.begin() as conn:
        conn.execute(text("INSERT INTO buckets (name, roles) VALUES ('dup', '[]')"))


def test_a_url_without_a_connect_timeout_gets_one(postgres: PrivatePostgres) -> None:
    registry = Registry(postgres.url)
    try:
        with registry.engine.connect() as conn:
            assert conn.execute(text("SHOW server_version")).scalar()
            dsn = conn.connection.dbapi_connection.info.dsn  # type: ignore[union-attr]
        assert "connect_timeout=5" in dsn
    finally:
        registry.close()
    explicit = Registry(postgres.url + "?connect_timeout=7")
    try:
        with explicit.engine.connect() as conn:
            dsn = conn.connection.dbapi_connection.info.dsn  # type: ignore[union-attr]
        assert "connect_timeout=7" in dsn
    finally:
        explicit.close()


def test_an_answer_record_lost_to_the_outage_is_counted_not_raised(
    postgres: PrivatePostgres, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    records = AuditedAnswers(AuditLog(registry.engine), AuditSettings())
    record = {
        "key_id": "key-abc",
        "model": "extractive",
        "retrieval": {"mode": "hybrid"},
        "chunk_ids": ["c1"],
        "cited_chunk_ids": ["c1"],
        "grounding": 1.0,
        "latency_ms": 3.0,
    }
    postgres.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="governance.audit_answers"):
            records.record_answer(answer_id="a-1", **record)  # type: ignore[arg-type]
    finally:
        postgres.start()
    assert records.unrecorded == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "governance.audit_answers"]
    assert lines == [
        "answer a-1 was given but not recorded: the database is unavailable "
        "(1 unrecorded since start-up)"
    ]
    records.record_answer(answer_id="a-2", **record)  # type: ignore[arg-type]
    assert records.get_answer("a-2").chunk_ids == ["c1"]
    assert records.unrecorded == 1
