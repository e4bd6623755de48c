"""The audit trail as the API and the answer records see it: a port, and its values.

``governance.audit_log.AuditLog`` is the one adapter (a hash chain on the registry's
database); the API and the workers name only this module, as they name ports
elsewhere, so the import contracts keep the database out of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

Kind = Literal["event", "answer"]
KINDS: tuple[Kind, ...] = ("event", "answer")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: the key's fingerprint (never the key), its team and its name."""

    key_id: str
    team: str | None
    identity: str | None


# What the service itself does (retention purges) is done by this actor.
SYSTEM_ACTOR = Actor(key_id="system", team=None, identity="ragline")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row as stored; a purged row has no actor, target or details left."""

    seq: int
    ts: datetime
    kind: str
    action: str
    key_id: str | None
    team: str | None
    identity: str | None
    target: str | None
    details: dict[str, Any] | None
    hash: str
    prev_hash: str
    purged: bool

    def as_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "ts": self.ts.isoformat(),
            "kind": self.kind,
            "action": self.action,
            "key_id": self.key_id,
            "team": self.team,
            "identity": self.identity,
            "target": self.target,
            "details": self.details,
            "hash": self.hash,
            "prev_hash": self.prev_hash,
            "purged": self.purged,
        }


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Rows at or after ``since`` and before ``until``, matching every field given."""

    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    kind: str | None = None
    key_id: str | None = None
    team: str | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    # Pass back as ``cursor`` for the next page; None: this was the last.
    next_cursor: str | None


Problem = Literal["edited", "deleted", "reordered"]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    # The first row found wrong (or where missing rows start), and what is wrong there.
    first_bad_seq: int | None = None
    problem: Problem | None = None
    reason: str | None = None
    # Where the walk started: the last row a purge deleted (0: none deleted yet).
    anchor_seq: int = 0


class AuditTrail(Protocol):
    """Append-only: rows are added, read and verified, never changed by callers."""

    def record(
        self,
        *,
        actor: Actor,
        action: str,
        target: str | None = None,
        details: dict[str, object] | None = None,
        kind: str = "event",
    ) -> str:
        """Append one row (details: ids and names, JSON only); returns its hash.

        Raises ValueError for an unknown kind or details that are not JSON, and
        ``DependencyUnavailableError`` with the database down.
        """
        ...

    def query(
        self, filters: AuditFilter | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> AuditPage:
        """Rows matching ``filters``, oldest first; ``InvalidInputError`` for a bad cursor."""
        ...

    def verify(self) -> VerifyResult: ...
