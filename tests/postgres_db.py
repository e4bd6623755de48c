"""A fresh PostgreSQL database per test or per module, dropped afterwards.

The server is real (127.0.0.1:5432, trust auth, user postgres; CI starts it;
``RAGLINE_TEST_POSTGRES_URL`` points elsewhere). Tests that need it never skip: a
server that cannot be reached fails them with a message saying so.

Use :func:`fresh_database` from a fixture in the test module::

    @pytest.fixture
    def pg_url() -> Iterator[str]:
        with fresh_database() as url:
            yield url
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin_url() -> URL:
    return make_url(os.environ.get("RAGLINE_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL))


@contextmanager
def fresh_database(prefix: str = "ragline_test") -> Iterator[str]:
    """Create a uniquely named empty database; yield its URL; drop it (and its sessions)."""
    admin = admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine(admin)
    try:
        _execute(engine, f'CREATE DATABASE "{name}"', admin)
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            # FORCE: a test that failed midway may have left pooled sessions open.
            _execute(engine, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin)
    finally:
        engine.dispose()


def _admin_engine(admin: URL) -> Engine:
    return create_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def _execute(engine: Engine, statement: str, admin: URL) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    except OperationalError as exc:
        where = admin.render_as_string(hide_password=True)
        pytest.fail(
            f"PostgreSQL is not reachable at {where} ({exc.orig}). These tests need a "
            "real server and never skip: start PostgreSQL (CI does), or point "
            "RAGLINE_TEST_POSTGRES_URL at one.",
            pytrace=False,
        )


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database for a test parametrized over ``BACKENDS``: its URL, dropped after."""
    if backend == "postgresql":
        with fresh_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'registry.db'}"
