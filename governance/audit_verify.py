"""Verifying the audit chain: the first row edited, deleted or reordered, and why.

The walk starts where the newest retention checkpoint anchors it (the seq and hash
of the last row a purge deleted; the genesis hash before any purge) and checks, row
by row in seq order:

- no seq is missing (``deleted``);
- a row's content gives its stored digest, and ``sha256(prev_hash + digest)`` its
  stored hash (``edited``); a row emptied by retention must be empty and older than
  what the checkpoint says was purged, and a stripped question older than what was
  stripped (``edited`` otherwise: emptying a row is not a way to hide it);
- an answer record whose texts were erased (``governance.erasure``) must be named by
  a later erase event, and be exactly what that event sealed: the newest such event
  holds the digest of the row's details as the erasure left them, so an erased row
  edited afterwards shows as ``edited``, and so does any text stripped by hand;
- its ``prev_hash`` is the previous row's hash (``reordered`` when that hash is
  another row's, ``deleted`` when no row has it);

and that the head (the last append) is the last row, so deleting the newest rows
shows too (checked first: the newest checkpoint may have gone with them). Someone
able to rewrite every row and the head at once can forge a consistent chain; export
it (or note its last hash) elsewhere to catch that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from governance.audit_chain import GENESIS, Head, read_head
from governance.audit_hashing import (
    TEXT_FIELDS,
    canonical_json,
    content_digest,
    is_stripped,
    link,
    sha256_hex,
    utc,
)
from governance.audit_port import Problem, VerifyResult
from governance.audit_tables import AuditRow

PURGE_ACTION = "audit.purge"
ERASE_ACTION = "audit.erase"
_PAGE = 2000


def seal(details: dict[str, Any]) -> str:
    """The digest an erase event keeps of a row's details as the erasure left them."""
    return sha256_hex(canonical_json(details))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What the newest purge recorded: where the chain now starts, and what is purged."""

    anchor: Head
    # Rows of each kind ("answer", "event") older than this were purged; "question":
    # answer records older than this had their question stripped.
    purged_through: dict[str, datetime]


class _TamperedError(Exception):
    def __init__(self, seq: int, problem: Problem, reason: str) -> None:
        self.seq, self.problem, self.reason = seq, problem, reason


def latest_checkpoint(conn: Connection) -> Checkpoint | None:
    row = conn.execute(
        select(AuditRow.details)
        .where(
            AuditRow.action == PURGE_ACTION,
            AuditRow.kind == "event",
            AuditRow.purged_at.is_(None),
        )
        .order_by(AuditRow.seq.desc())
        .limit(1)
    ).first()
    if row is None or not row.details:
        return None
    details: dict[str, Any] = row.details
    anchor = details["anchor"]
    through = {
        kind: utc(datetime.fromisoformat(moment))
        for kind, moment in details["purged_through"].items()
        if moment is not None
    }
    return Checkpoint(Head(int(anchor["seq"]), str(anchor["hash"])), through)


@dataclass(frozen=True, slots=True)
class Seal:
    """What the newest erase event naming a row says its details are now."""

    digest: str
    erase_seq: int


def erasure_seals(conn: Connection) -> dict[int, Seal]:
    """Every erased row's seal, by seq; a later erasure of the same row wins.

    Erase events are not trusted here: the walk verifies them as rows like any other.
    """
    seals: dict[int, Seal] = {}
    rows = conn.execute(
        select(AuditRow.seq, AuditRow.details)
        .where(
            AuditRow.action == ERASE_ACTION,
            AuditRow.kind == "event",
            AuditRow.purged_at.is_(None),
        )
        .order_by(AuditRow.seq)
    ).all()
    for erase_seq, details in rows:
        body: dict[str, Any] = details if isinstance(details, dict) else {}
        seqs, digests = body.get("erased_seqs"), body.get("sealed")
        if not isinstance(seqs, list) or not isinstance(digests, list):
            continue  # malformed: the walk finds the event edited
        for seq, digest in zip(seqs, digests, strict=False):
            if isinstance(seq, int) and isinstance(digest, str):
                seals[seq] = Seal(digest, int(erase_seq))
    return seals


def verify_chain(engine: Engine) -> VerifyResult:
    with engine.connect() as conn:
        # One snapshot for the whole walk: rows appended meanwhile are not half seen
        # (a head newer than the last row read would look like deleted rows).
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")  # deferred: the first read pins the snapshot (WAL)
        else:
            conn.execution_options(isolation_level="REPEATABLE READ")
        checkpoint = latest_checkpoint(conn)
        seals = erasure_seals(conn)
        anchor = checkpoint.anchor if checkpoint else GENESIS
        through = checkpoint.purged_through if checkpoint else {}
        expected, prev, checked = anchor.seq + 1, anchor.hash, 0
        try:
            _check_tail(conn, read_head(conn))
            while True:
                rows = conn.execute(
                    select(AuditRow)
                    .where(AuditRow.seq > expected - 1)
                    .order_by(AuditRow.seq)
                    .limit(_PAGE)
                ).all()
                for row in rows:
                    if row.seq != expected:
                        raise _TamperedError(
                            expected, "deleted", f"rows {expected} to {row.seq - 1} are missing"
                        )
                    _check_row(row, through, seals.get(row.seq))
                    if row.prev_hash != prev:
                        raise _TamperedError(row.seq, *_broken_link(conn, row))
                    prev, expected, checked = row.hash, expected + 1, checked + 1
                if len(rows) < _PAGE:
                    break
            _check_head(read_head(conn), Head(expected - 1, prev), anchor)
        except _TamperedError as bad:
            return VerifyResult(False, checked, bad.seq, bad.problem, bad.reason, anchor.seq)
    return VerifyResult(True, checked, anchor_seq=anchor.seq)


def _check_row(row: Any, through: dict[str, datetime], erased: Seal | None) -> None:
    ts = utc(row.ts)
    if row.purged_at is not None:
        emptied = (row.key_id, row.team, row.identity, row.target, row.details)
        if any(v is not None for v in emptied):
            raise _TamperedError(row.seq, "edited", "marked purged but still has content")
        cutoff = through.get(row.kind)
        if cutoff is None or ts >= cutoff:
            raise _TamperedError(row.seq, "edited", "emptied, but no purge covers its time")
    else:
        details = row.details if row.details is not None else {}
        if erased is not None:
            _check_erased(row, details, erased)
        elif row.kind == "answer":
            _check_stripped(row.seq, ts, details, through)
        digest = content_digest(
            ts=ts,
            kind=row.kind,
            action=row.action,
            key_id=row.key_id,
            team=row.team,
            identity=row.identity,
            target=row.target,
            details=details,
        )
        if digest != row.digest:
            raise _TamperedError(row.seq, "edited", "its content does not match its digest")
    if link(row.prev_hash, row.digest) != row.hash:
        raise _TamperedError(row.seq, "edited", "its hash does not match its digest and link")


def _check_erased(row: Any, details: dict[str, Any], erased: Seal) -> None:
    if row.kind != "answer" or erased.erase_seq <= row.seq:
        raise _TamperedError(row.seq, "edited", "an erase event names it, but cannot cover it")
    if seal(details) != erased.digest:
        reason = f"changed since row {erased.erase_seq} erased it"
        raise _TamperedError(row.seq, "edited", reason)


def _check_stripped(
    seq: int, ts: datetime, details: dict[str, Any], through: dict[str, datetime]
) -> None:
    """Without an erasure, only retention strips a text, and only the question."""
    if any(is_stripped(details.get(f)) for f in TEXT_FIELDS if f != "question"):
        raise _TamperedError(seq, "edited", "a text was stripped, but no erasure covers it")
    if is_stripped(details.get("question")):
        cutoff = through.get("question")
        if cutoff is None or ts >= cutoff:
            raise _TamperedError(seq, "edited", "a text was stripped, but no purge covers it")


def _broken_link(conn: Connection, row: Any) -> tuple[Problem, str]:
    elsewhere = conn.execute(
        select(AuditRow.seq).where(AuditRow.hash == row.prev_hash).limit(1)
    ).first()
    if elsewhere is not None:
        return "reordered", f"it follows row {elsewhere.seq}, not row {row.seq - 1}"
    return "deleted", "the row it follows is missing"


def _check_tail(conn: Connection, head: Head | None) -> None:
    """Newest rows missing, first: deleting them may take the newest checkpoint along,
    and the walk would then blame rows that checkpoint accounted for."""
    last = conn.execute(select(func.max(AuditRow.seq))).scalar()
    if head is not None and (last or 0) < head.seq:
        first = (last or 0) + 1
        raise _TamperedError(
            first, "deleted", f"the newest rows ({first} to {head.seq}) are missing"
        )


def _check_head(head: Head | None, last: Head, anchor: Head) -> None:
    if head is None:
        if last != anchor:
            raise _TamperedError(last.seq, "edited", "rows exist but the chain's head is missing")
        return
    if head.seq > last.seq:
        raise _TamperedError(
            last.seq + 1, "deleted", f"the newest rows ({last.seq + 1} to {head.seq}) are missing"
        )
    if head.seq < last.seq:
        raise _TamperedError(head.seq + 1, "edited", "rows were added after the chain's head")
    if head.hash != last.hash:
        raise _TamperedError(last.seq, "edited", "the last row's hash is not the chain's head")
