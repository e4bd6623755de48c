"""Appending to the audit chain: one writer at a time, across threads and processes.

Every append reads the head (the last row's seq and hash), writes the next row and
moves the head, all in one transaction under the chain lock, so two writers can
never both chain to the same row (the chain cannot fork). The lock is the
database's: on PostgreSQL a transaction-scoped advisory lock, on SQLite
``BEGIN IMMEDIATE`` (the database's single write lock, taken before the head is
read). Both are released by the commit or the rollback, so a writer that dies
holds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from governance.audit_hashing import GENESIS_HASH, canonical_json, content_digest, link, utc
from governance.audit_tables import AuditHeadRow, AuditRow

# pg_advisory_xact_lock key of the chain lock (any constant; ASCII "audit\0\0\1").
_PG_CHAIN_LOCK_KEY = 0x6175646974000001
_HEAD_ID = 1


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str


GENESIS = Head(0, GENESIS_HASH)


def normalized(details: dict[str, object] | None) -> dict[str, Any]:
    """Details as the database will hand them back (JSON types only), so the digest
    computed now is the digest recomputed later. Raises ValueError if not JSON."""
    if details is None:
        return {}
    try:
        loaded: dict[str, Any] = json.loads(canonical_json(details))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit details must be JSON: {exc}") from None
    return loaded


class ChainWriter:
    """Appends rows on a connection that holds the chain lock; see :func:`locked_chain`."""

    def __init__(self, conn: Connection, head: Head) -> None:
        self.conn = conn
        self.head = head
        self._moved = False

    def append(
        self,
        *,
        ts: datetime,
        kind: str,
        action: str,
        key_id: str | None,
        team: str | None,
        identity: str | None,
        target: str | None,
        details: dict[str, Any],
    ) -> Head:
        ts = utc(ts)
        digest = content_digest(
            ts=ts,
            kind=kind,
            action=action,
            key_id=key_id,
            team=team,
            identity=identity,
            target=target,
            details=details,
        )
        new = Head(self.head.seq + 1, link(self.head.hash, digest))
        self.conn.execute(
            insert(AuditRow).values(
                seq=new.seq,
                ts=ts,
                kind=kind,
                action=action,
                key_id=key_id,
                team=team,
                identity=identity,
                target=target,
                details=details,
                digest=digest,
                prev_hash=self.head.hash,
                hash=new.hash,
            )
        )
        self.head = new
        self._moved = True
        return new

    def _save_head(self) -> None:
        if not self._moved:
            return
        moved = self.conn.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == _HEAD_ID)
            .values(seq=self.head.seq, hash=self.head.hash)
        )
        if moved.rowcount == 0:
            self.conn.execute(
                insert(AuditHeadRow).values(id=_HEAD_ID, seq=self.head.seq, hash=self.head.hash)
            )


def read_head(conn: Connection) -> Head | None:
    """The head as recorded; None before the first append."""
    row = conn.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == _HEAD_ID)
    ).first()
    return None if row is None else Head(int(row.seq), str(row.hash))


@contextmanager
def locked_chain(engine: Engine) -> Iterator[ChainWriter]:
    """A transaction holding the chain lock; appends made in it commit together at exit.

    Raises ``DependencyUnavailableError`` when the database cannot be reached (the
    registry engine's outage hook), and whatever the body raises (rolled back).
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # pysqlite leaves BEGIN to us when we send it: IMMEDIATE takes the write lock now.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK_KEY})
        writer = ChainWriter(conn, read_head(conn) or GENESIS)
        yield writer
        writer._save_head()
        conn.commit()
