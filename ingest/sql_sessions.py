"""What every SQLAlchemy adapter of ingestion shares: one transaction per call, UTC times.

SQLite hands back naive datetimes for what was stored as UTC, PostgreSQL aware ones;
:func:`as_utc` makes every adapter return aware UTC on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import overload

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


class Transactions:
    """Base of the adapters: ``_session()`` is one transaction, committed on success."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session


@overload
def as_utc(moment: datetime) -> datetime: ...


@overload
def as_utc(moment: None) -> None: ...


def as_utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
