"""The registry's tables and engine: SQLite in embedded mode, PostgreSQL in distributed.

One schema for both; columns added since the first release are nullable, so opening
an older registry adds them (``open_engine``) and nothing else is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ingest.db_outages import report_outages

# Seconds a connection attempt to a database server may take before it counts as down.
SERVER_CONNECT_TIMEOUT_S = 5


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class BucketRow(Base):
    __tablename__ = "buckets"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    doc_type: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    # Freshness SLA in seconds; None: the configured default.
    max_lag_s: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(32))
    sensitivity: Mapped[str | None] = mapped_column(String(32))
    pii: Mapped[str] = mapped_column(String(16), default="allow", server_default="allow")


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("bucket", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bucket: Mapped[str] = mapped_column(ForeignKey("buckets.name", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)  # as given by the uploader
    parsed_title: Mapped[str | None] = mapped_column(Text)  # as found in the file
    roles: Mapped[list[str]] = mapped_column(JSON)
    doc_type: Mapped[str | None] = mapped_column(String(64))  # as requested
    detected_type: Mapped[str | None] = mapped_column(String(64))  # as chunked
    format: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    content_hash: Mapped[str | None] = mapped_column(String(64))  # of the last file seen
    indexed_hash: Mapped[str | None] = mapped_column(String(64))  # of the version served
    indexed_version: Mapped[int] = mapped_column(Integer, default=0)  # 0: nothing served
    indexed_fingerprint: Mapped[str | None] = mapped_column(String(64))
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    parse_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who may read the served version: the roles its chunks were built with, narrowed
    # by every later change of ``roles``, never widened (a widening waits for a rebuild
    # of the content under the new roles). Always a subset of ``roles``.
    served_roles: Mapped[list[str] | None] = mapped_column(JSON)
    # New on every (re-)creation of the row: an attempt claimed before a delete cannot
    # commit into the document that replaced it.
    incarnation: Mapped[str | None] = mapped_column(String(36))
    # What the bucket's listing said of the object when it was last registered (ETag,
    # or mtime and size): a refresh that sees the same tag skips reading the object.
    source_tag: Mapped[str | None] = mapped_column(String(128))
    # When the object last changed in the bucket (its mtime or LastModified; the upload
    # time for an upload): the start of its index lag.
    source_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The content type the container declared for it (an email attachment's
    # ``Content-Type``, charset included; ``formats.declared_content_type``): kept so
    # every parse of the document, re-indexes and retries included, weighs it.
    declared_type: Mapped[str | None] = mapped_column(String(320))


class VersionCounterRow(Base):
    """The last version handed out per document id; outlives the document on purpose.

    A deleted document's in-flight writer may still leave chunks behind; if versions
    restarted at 1 when the same object came back, those chunks would pass the
    served-version gate. Versions never repeat for an id, so they never do.
    """

    __tablename__ = "version_counters"

    document_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_version: Mapped[int] = mapped_column(Integer, default=0)


class RefreshRunRow(Base):
    """One refresh of a bucket: when, why, how far, and what it found."""

    __tablename__ = "refresh_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bucket: Mapped[str] = mapped_column(ForeignKey("buckets.name", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # manual, api, schedule
    status: Mapped[str] = mapped_column(String(16), default="queued")
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)


class RefreshLeaseRow(Base):
    """Who refreshes a bucket now: one row per bucket, held until ``expires_at``.

    A lease in the database, not a lock in a process: any number of API replicas,
    workers and schedulers agree on it, and a holder that dies frees it by expiry.
    """

    __tablename__ = "refresh_leases"

    bucket: Mapped[str] = mapped_column(
        ForeignKey("buckets.name", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[str] = mapped_column(String(36))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScheduleRow(Base):
    """When a bucket refreshes by itself: every N seconds, or on a cron expression."""

    __tablename__ = "bucket_schedules"

    bucket: Mapped[str] = mapped_column(
        ForeignKey("buckets.name", ondelete="CASCADE"), primary_key=True
    )
    every_s: Mapped[int | None] = mapped_column(Integer)
    cron: Mapped[str | None] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


def open_engine(url: str) -> Engine:
    """An engine on ``url`` with every table of ``Base`` present and up to date."""
    engine = _make_engine(url)
    Base.metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Bring a registry written by an older ragline up to date (nullable columns only).

    ``create_all`` makes missing tables, not missing columns; every column added since
    the first release is nullable, so adding it is the whole migration.
    """
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as conn:
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def _make_engine(url: str) -> Engine:
    """An engine whose connection failures raise ``DependencyUnavailableError`` (503).

    On a server database, a connection attempt gives up after
    ``SERVER_CONNECT_TIMEOUT_S`` (unless the URL sets ``connect_timeout``): an
    unreachable host would otherwise hold a request for the operating system's TCP
    timeout, minutes, where an outage should answer at once.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API read while the in-process worker writes.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    else:
        connect_args = {}
        if "connect_timeout" not in make_url(url).query:
            connect_args["connect_timeout"] = SERVER_CONNECT_TIMEOUT_S
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    report_outages(engine)
    return engine


class ReindexRunRow(Base):
    """One re-index: a new generation of the search index built beside the live one.

    ``lease`` is "held" on the one running re-index and NULL on every other row: its
    unique constraint is the lock that keeps re-indexes one at a time across every
    process sharing the database, and ``lease_expires_at`` frees it if the holder dies.
    """

    __tablename__ = "reindex_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # cli, api
    status: Mapped[str] = mapped_column(String(16), default="queued")
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer, default=0)  # documents served at the start
    done: Mapped[int] = mapped_column(Integer, default=0)
    caught_up: Mapped[int] = mapped_column(Integer, default=0)  # changed during the build
    failed: Mapped[int] = mapped_column(Integer, default=0)
    max_failures: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    from_generation: Mapped[int | None] = mapped_column(Integer)
    to_generation: Mapped[int | None] = mapped_column(Integer)
    lease: Mapped[str | None] = mapped_column(String(8), unique=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
