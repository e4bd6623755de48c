"""The relational schema's version: create, adopt, migrate or refuse, before anything opens it.

The registry, buckets, refresh runs and answer records live in one database (SQLite
in embedded mode, PostgreSQL in distributed mode) whose schema is the Alembic
revisions in ``ragline/migrations``. Every process calls :func:`ensure_schema` at
start-up:

- an empty database is created at head;
- a database made by a ragline from before migrations (tables, no ``alembic_version``)
  is adopted: brought to the baseline the way that ragline did it (missing baseline
  tables and nullable columns added), stamped at the baseline, then migrated to head
  like a new database, whatever ``auto_upgrade`` says: that ragline updated its schema
  on every start, so nobody has to run a command for it;
- a database behind head is migrated when ``auto_upgrade`` (embedded: one process owns
  it), and otherwise refused with the command to run: in distributed mode many replicas
  start at once, and an operator runs ``ragline db upgrade`` once, on purpose.

Two processes migrating at once are serialized: on PostgreSQL by an advisory lock,
on SQLite by a lock file beside the database. The one that waits finds the work done.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from ingest.registry_tables import Base
from kernel.errors import ConfigurationError

# Where the revisions are: a package resource, so it works installed or from a checkout.
MIGRATIONS = "ragline:migrations"
# The first revision: what a database from before migrations is adopted at.
BASELINE = "0001"
# pg_advisory_lock key of the migration lock (any constant; ASCII "ragline\0").
_PG_LOCK_KEY = 0x7261676C696E6500
# A table every ragline database has had since the first release.
_MARKER_TABLE = "documents"
# The tables of the baseline revision: what adoption may create. Tables of later
# revisions are theirs to create (adoption stamps the baseline, then upgrades).
_BASELINE_TABLES = frozenset(
    {
        "buckets",
        "documents",
        "version_counters",
        "refresh_runs",
        "refresh_leases",
        "bucket_schedules",
        "answers",
    }
)
# Columns a later revision adds to a baseline table: adoption leaves them to it.
# A revision that adds one must list it here (the adoption test fails until it does).
_COLUMNS_AFTER_BASELINE: dict[str, frozenset[str]] = {
    "buckets": frozenset({"region", "sensitivity", "pii"}),  # 0003, 0007
    "documents": frozenset({"declared_type"}),  # 0009
}


def alembic_config(connection: Connection, migrations: str = MIGRATIONS) -> Config:
    """Alembic's configuration for the revisions in ``migrations``, run on ``connection``.

    The URL stays out of it (and so out of Alembic's log lines): env.py takes the
    connection from ``config.attributes``.
    """
    config = Config()
    config.set_main_option("script_location", migrations)
    config.attributes["connection"] = connection
    return config


def head_revision(migrations: str = MIGRATIONS) -> str:
    """The revision this ragline's code expects."""
    head = _scripts(migrations).get_current_head()
    assert head is not None, f"{migrations} has no revisions"
    return head


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; None when it has none (yet)."""
    with _engine(url) as engine:
        return _state(engine)[0]


def upgrade(url: str, *, migrations: str = MIGRATIONS) -> None:
    """Bring the database at ``url`` to head: create it, adopt it, or migrate it.

    Raises :class:`ConfigurationError` when the database is at a revision this
    ragline does not know (a newer ragline migrated it).
    """
    with _engine(url) as engine, _migration_lock(engine):
        _migrate(engine, migrations, auto_upgrade=True)


def ensure_schema(url: str, *, auto_upgrade: bool, migrations: str = MIGRATIONS) -> None:
    """Make sure the database at ``url`` has this ragline's schema before it is used.

    Creates an empty database and adopts a pre-migrations one either way; a database
    behind head is migrated only with ``auto_upgrade``. Raises
    :class:`ConfigurationError` when it is behind head without ``auto_upgrade``, or
    at a revision this ragline does not know.
    """
    with _engine(url) as engine:
        if _state(engine)[0] == head_revision(migrations):
            return  # every start but the first: no lock taken
        with _migration_lock(engine):
            _migrate(engine, migrations, auto_upgrade=auto_upgrade)


def _migrate(engine: Engine, migrations: str, *, auto_upgrade: bool) -> None:
    """Under the migration lock: create, adopt, or migrate (if allowed) to head."""
    head = head_revision(migrations)
    current, has_tables = _state(engine)
    if current is not None and not _known(current, migrations):
        raise ConfigurationError(
            f"database schema is at {current}, which this ragline does not know (it needs "
            f"{head}): a newer ragline has migrated it; run that version or a later one"
        )
    adopted = current is None and has_tables
    if adopted:
        _adopt(engine, migrations)
        current = BASELINE
    if current == head:
        return
    if current is not None and not adopted and not auto_upgrade:
        raise ConfigurationError(
            f"database schema is at {current}, this ragline needs {head}: run `ragline db upgrade`"
        )
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn, migrations), "head")


def _adopt(engine: Engine, migrations: str) -> None:
    """Bring a database from before migrations to the baseline exactly, and stamp it so.

    As that ragline kept its registry current: missing tables created, missing
    (nullable) columns added; but only the baseline's, so that the revisions after it
    find the database as they expect and create the rest themselves.
    """
    tables = _baseline_tables()
    missing = [t for t in tables if not inspect(engine).has_table(t.name)]
    tables[0].metadata.create_all(engine, tables=missing)
    for table in missing:
        # Created from today's model: without the columns a later revision adds.
        for name in sorted(_COLUMNS_AFTER_BASELINE.get(table.name, frozenset())):
            with engine.begin() as conn:
                conn.execute(text(f'ALTER TABLE {table.name} DROP COLUMN "{name}"'))
    inspector = inspect(engine)
    for table in tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        later = _COLUMNS_AFTER_BASELINE.get(table.name, frozenset())
        for column in table.columns:
            if column.name in present or column.name in later:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as conn:
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
    with engine.begin() as conn:
        command.stamp(alembic_config(conn, migrations), BASELINE)


def _baseline_tables() -> list[Table]:
    """The baseline tables of every model, copied into one metadata (foreign keys resolve)."""
    baseline = MetaData()
    for table in Base.metadata.sorted_tables:
        if table.name in _BASELINE_TABLES:
            table.to_metadata(baseline)
    _baseline_answers(baseline)
    return list(baseline.sorted_tables)


def _baseline_answers(metadata: MetaData) -> Table:
    """The answer records of the baseline, as 0001 made them: they have no model any
    more (0004 moved them into the audit log), but an adopted database must have them."""
    return Table(
        "answers",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("key_id", String(32), nullable=False),
        Column("model", String(64), nullable=False),
        Column("retrieval", JSON, nullable=False),
        Column("chunk_ids", JSON, nullable=False),
        Column("cited_chunk_ids", JSON, nullable=False),
        Column("grounding", Float, nullable=False),
        Column("latency_ms", Float, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


def _state(engine: Engine) -> tuple[str | None, bool]:
    """The database's revision, and whether it has ragline's tables at all."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        return current, inspect(conn).has_table(_MARKER_TABLE)


def _known(revision: str, migrations: str) -> bool:
    try:
        _scripts(migrations).get_revision(revision)
    except CommandError:
        return False
    return True


def _scripts(migrations: str) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", migrations)
    return ScriptDirectory.from_config(config)


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    """A short-lived engine for schema work.

    Not the registry's engine: SQLite's foreign keys stay off here, as Alembic's
    batch mode (copy, drop, rename a table) needs, or dropping a table would
    cascade into the tables that reference it.
    """
    connect_args: dict[str, Any] = {"timeout": 30} if url.startswith("sqlite") else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's migration lock: one migrating process at a time."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield  # nobody else can see this database
        return
    # A file of its own, not the database: SQLite locks the database with POSIX locks,
    # which this process would drop by closing any descriptor it opened on that file.
    fd = os.open(f"{database}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
