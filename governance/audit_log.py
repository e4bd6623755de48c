"""The audit log: a tamper-evident, append-only record of who did what, and of every answer.

Each row is chained to the one before it by a SHA-256 hash (``governance.audit_hashing``)
and appended under one lock across every process sharing the database
(``governance.audit_chain``), so the chain never forks. :meth:`AuditLog.verify`
walks it and names the first row edited, deleted or reordered. Nothing updates a
row except retention (``governance.retention``), which empties expired rows' content
but leaves their hashes, and writes what it did into the chain as a checkpoint.

Rows are events (``kind="event"``: an upload, a deletion, a prompt or bucket change,
a key made, a purge) or answer records (``kind="answer"``, ``governance.audit_answers``).
Details hold ids and names, never a document's text or a key. Times are stored in
UTC; every time handed back is aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from governance.audit_chain import locked_chain, normalized
from governance.audit_hashing import utc
from governance.audit_port import (
    KINDS,
    SYSTEM_ACTOR,
    Actor,
    AuditEntry,
    AuditFilter,
    AuditPage,
    VerifyResult,
)
from governance.audit_tables import AuditBase, AuditRow
from governance.audit_verify import verify_chain
from kernel.errors import InvalidInputError

MAX_PAGE = 1000


def entry(row: Any) -> AuditEntry:
    """An entry from a row of ``select(AuditRow)`` (or a row object: attribute access)."""
    return AuditEntry(
        seq=row.seq,
        ts=utc(row.ts),
        kind=row.kind,
        action=row.action,
        key_id=row.key_id,
        team=row.team,
        identity=row.identity,
        target=row.target,
        details=row.details,
        hash=row.hash,
        prev_hash=row.prev_hash,
        purged=row.purged_at is not None,
    )


class AuditLog:
    """The ``AuditTrail`` (``governance.audit_port``) on a SQLAlchemy engine (the registry's).

    The tables are created if missing, so a bare SQLite engine works in tests; in
    production the migrations made them already.
    """

    def __init__(self, engine: Engine, *, settle: Callable[[], None] | None = None) -> None:
        AuditBase.metadata.create_all(engine)
        self._engine = engine
        self._settle = settle

    def settle(self) -> None:
        """Wait for records this process handed to a writer (``governance.record_writer``).

        Run before every read, erasure and purge, so none of them misses, or runs ahead
        of, an answer already given.
        """
        if self._settle is not None:
            self._settle()

    @property
    def engine(self) -> Engine:
        return self._engine

    def record(
        self,
        *,
        actor: Actor,
        action: str,
        target: str | None = None,
        details: dict[str, object] | None = None,
        kind: str = "event",
    ) -> str:
        """Append one row; returns its hash (a receipt ``verify`` can be checked against).

        Raises ValueError for an unknown kind or details that are not JSON, and
        ``DependencyUnavailableError`` with the database down.
        """
        if kind not in KINDS:
            raise ValueError(f"audit kind must be one of {KINDS}, not {kind!r}")
        body = normalized(details)
        with locked_chain(self._engine) as chain:
            head = chain.append(
                ts=datetime.now(UTC),
                kind=kind,
                action=action,
                key_id=actor.key_id,
                team=actor.team,
                identity=actor.identity,
                target=target,
                details=body,
            )
        return head.hash

    def query(
        self, filters: AuditFilter | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> AuditPage:
        """Rows matching ``filters``, oldest first, ``limit`` at a time (at most 1000).

        Raises :class:`InvalidInputError` for a cursor this log did not hand out.
        """
        self.settle()
        limit = max(1, min(limit, MAX_PAGE))
        statement = _filtered(select(AuditRow), filters or AuditFilter())
        if cursor is not None:
            try:
                after = int(cursor)
            except ValueError:
                raise InvalidInputError(f"not an audit cursor: {cursor!r}") from None
            statement = statement.where(AuditRow.seq > after)
        statement = statement.order_by(AuditRow.seq).limit(limit + 1)
        with self._engine.connect() as conn:
            rows = [entry(r) for r in conn.execute(statement)]
        more = len(rows) > limit
        rows = rows[:limit]
        return AuditPage(rows, str(rows[-1].seq) if more else None)

    def find(self, *, kind: str, target: str) -> AuditEntry | None:
        """The newest row of ``kind`` about ``target`` (an answer's id, say), if any."""
        self.settle()
        statement = (
            select(AuditRow)
            .where(AuditRow.target == target, AuditRow.kind == kind)
            .order_by(AuditRow.seq.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            found = conn.execute(statement).first()
        return None if found is None else entry(found)

    def verify(self) -> VerifyResult:
        """Walk the whole chain; see :func:`governance.audit_verify.verify_chain`."""
        self.settle()
        return verify_chain(self._engine)


def _filtered(statement: Select[Any], f: AuditFilter) -> Select[Any]:
    if f.since is not None:
        statement = statement.where(AuditRow.ts >= utc(f.since))
    if f.until is not None:
        statement = statement.where(AuditRow.ts < utc(f.until))
    for column, value in (
        (AuditRow.action, f.action),
        (AuditRow.kind, f.kind),
        (AuditRow.key_id, f.key_id),
        (AuditRow.team, f.team),
    ):
        if value is not None:
            statement = statement.where(column == value)
    return statement


__all__ = ["SYSTEM_ACTOR", "Actor", "AuditEntry", "AuditFilter", "AuditLog", "AuditPage"]
