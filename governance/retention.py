"""Retention: the audit log keeps each kind of record only as long as the settings say.

A purge, in one transaction under the chain lock (``governance.audit_chain``):

1. empties the rows past their kind's retention (answer records after
   ``answers_days``, events after ``events_days``): actor, target and details go,
   the time, kind, action, digest and hashes stay, so the chain still links;
2. strips the question text from answer records older than ``question_text_days``
   (its digest stays in its place, so the row's digest holds);
3. deletes the oldest rows while they are all emptied, since nothing links to them
   from before;
4. appends a checkpoint event (``audit.purge``) saying what it did (rows emptied per
   kind and their seq range, questions stripped, rows deleted and their range), how
   far each kind is now purged, and the anchor: the seq and hash of the last row
   deleted so far, where ``verify`` starts.

Verify accepts an emptied row or a stripped question only when the newest
checkpoint covers its time, so emptying a row by hand is caught like editing it.
An erase event (``governance.erasure``) is kept while the answer records it erased
are: it is what lets verify accept them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, null, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from governance.audit_chain import GENESIS, Head, locked_chain
from governance.audit_hashing import is_stripped, stripped, text_digest, utc
from governance.audit_log import SYSTEM_ACTOR, AuditLog
from governance.audit_tables import AuditRow
from governance.audit_verify import ERASE_ACTION, PURGE_ACTION, Checkpoint, latest_checkpoint
from kernel.errors import DependencyUnavailableError
from kernel.settings import AuditSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one purge did; ``checkpoint_seq`` is the row that records it in the chain."""

    purged: dict[str, int] = field(default_factory=dict)  # rows emptied, per kind
    purged_seqs: tuple[int, int] | None = None
    questions_stripped: int = 0
    deleted: int = 0
    deleted_seqs: tuple[int, int] | None = None
    checkpoint_seq: int = 0


class Retention:
    """Purges the audit log by ``AuditSettings``; one per process is enough."""

    def __init__(self, audit: AuditLog, settings: AuditSettings) -> None:
        self._audit = audit
        self._settings = settings
        self._last_purge: datetime | None = None

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """Rows (or question texts) older than these are past retention at ``now``."""
        s = self._settings
        return {
            "answer": now - timedelta(days=s.answers_days),
            "event": now - timedelta(days=s.events_days),
            "question": now - timedelta(days=s.question_text_days),
        }

    def purge(self, now: datetime | None = None) -> PurgeReport:
        """Purge now. Raises ``DependencyUnavailableError`` with the database down."""
        report = self._purge(utc(now or datetime.now(UTC)), min_interval_s=None)
        assert report is not None
        return report

    def purge_if_due(self, now: datetime) -> PurgeReport | None:
        """Purge unless any process purged within ``purge_interval_s``; the scheduler's tick.

        Never raises for an outage (logged; the next tick tries again).
        """
        now = utc(now)
        interval = timedelta(seconds=self._settings.purge_interval_s)
        if self._last_purge is not None and now - self._last_purge < interval:
            return None
        try:
            # Read first, without the chain lock: most ticks find nothing due.
            latest = _latest_purge(self._audit.engine)
            if latest is not None and now - latest < interval:
                self._last_purge = latest
                return None
            report = self._purge(now, min_interval_s=self._settings.purge_interval_s)
        except DependencyUnavailableError:
            log.warning("audit purge skipped: the database is unavailable")
            return None
        if report is not None:
            self._last_purge = now
            log.info(
                "audit purge: %s rows emptied, %d questions stripped, %d rows deleted",
                report.purged,
                report.questions_stripped,
                report.deleted,
            )
        return report

    def _purge(self, now: datetime, *, min_interval_s: int | None) -> PurgeReport | None:
        self._audit.settle()
        with locked_chain(self._audit.engine) as chain:
            conn = chain.conn
            if min_interval_s is not None and _purged_since(
                conn, now - timedelta(seconds=min_interval_s)
            ):
                return None
            previous = latest_checkpoint(conn)
            through = _through(previous, self.cutoffs(now))
            expired = _expired(through)
            purged, purged_seqs = _empty_rows(conn, expired, now)
            stripped_count = _strip_questions(conn, through["question"], previous)
            deleted, deleted_seqs, anchor = _delete_prefix(conn, chain.head, previous)
            head = chain.append(
                ts=now,
                kind="event",
                action=PURGE_ACTION,
                key_id=SYSTEM_ACTOR.key_id,
                team=SYSTEM_ACTOR.team,
                identity=SYSTEM_ACTOR.identity,
                target=None,
                details={
                    "purged": purged,
                    "purged_seqs": list(purged_seqs) if purged_seqs else None,
                    "questions_stripped": stripped_count,
                    "deleted": deleted,
                    "deleted_seqs": list(deleted_seqs) if deleted_seqs else None,
                    "purged_through": {k: v.isoformat() for k, v in through.items()},
                    "anchor": {"seq": anchor.seq, "hash": anchor.hash},
                },
            )
        return PurgeReport(
            purged, purged_seqs, stripped_count, deleted, deleted_seqs, checkpoint_seq=head.seq
        )


def _latest_purge(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        ts = conn.execute(
            select(AuditRow.ts)
            .where(AuditRow.action == PURGE_ACTION, AuditRow.kind == "event")
            .order_by(AuditRow.seq.desc())
            .limit(1)
        ).scalar()
    return None if ts is None else utc(ts)


def _purged_since(conn: Connection, since: datetime) -> bool:
    found = conn.execute(
        select(AuditRow.seq)
        .where(AuditRow.action == PURGE_ACTION, AuditRow.kind == "event", AuditRow.ts >= since)
        .limit(1)
    ).first()
    return found is not None


def _through(previous: Checkpoint | None, cutoffs: dict[str, datetime]) -> dict[str, datetime]:
    """How far each kind is purged after this purge: never less than before (a longer
    retention set later does not bring emptied rows back, and verify must still accept them)."""
    before = previous.purged_through if previous else {}
    return {k: max(v, before[k]) if k in before else v for k, v in cutoffs.items()}


def _expired(through: dict[str, datetime]) -> ColumnElement[bool]:
    return and_(
        AuditRow.purged_at.is_(None),
        or_(
            and_(AuditRow.kind == "answer", AuditRow.ts < through["answer"]),
            and_(
                AuditRow.kind == "event",
                AuditRow.ts < through["event"],
                # An erase event vouches for the erased rows before it: it goes no
                # sooner than they do (all older, they are past ``through["answer"]``
                # when it is), or verify would find them stripped with no erasure.
                or_(AuditRow.action != ERASE_ACTION, AuditRow.ts < through["answer"]),
            ),
        ),
    )


def _empty_rows(
    conn: Connection, expired: ColumnElement[bool], now: datetime
) -> tuple[dict[str, int], tuple[int, int] | None]:
    counts = conn.execute(
        select(AuditRow.kind, func.count(), func.min(AuditRow.seq), func.max(AuditRow.seq))
        .where(expired)
        .group_by(AuditRow.kind)
    ).all()
    if not counts:
        return {}, None
    conn.execute(
        update(AuditRow)
        .where(expired)
        .values(key_id=None, team=None, identity=None, target=None, details=null(), purged_at=now)
    )
    seqs = (min(int(c[2]) for c in counts), max(int(c[3]) for c in counts))
    return {str(c[0]): int(c[1]) for c in counts}, seqs


def _strip_questions(conn: Connection, before: datetime, previous: Checkpoint | None) -> int:
    """Strip the questions older than ``before`` (those older than the last purge's
    cut-off were stripped by it)."""
    statement = select(AuditRow.seq, AuditRow.details).where(
        AuditRow.kind == "answer", AuditRow.purged_at.is_(None), AuditRow.ts < before
    )
    done = previous.purged_through.get("question") if previous else None
    if done is not None:
        statement = statement.where(AuditRow.ts >= done)
    count = 0
    for seq, details in conn.execute(statement).all():
        question = (details or {}).get("question")
        if question is None or is_stripped(question):
            continue
        kept: dict[str, Any] = dict(details)
        kept["question"] = stripped(text_digest(question))
        conn.execute(update(AuditRow).where(AuditRow.seq == seq).values(details=kept))
        count += 1
    return count


def _delete_prefix(
    conn: Connection, head: Head, previous: Checkpoint | None
) -> tuple[int, tuple[int, int] | None, Head]:
    """Delete the oldest rows while all are emptied; the new anchor is the last one deleted."""
    anchor = previous.anchor if previous else GENESIS
    first_live = conn.execute(
        select(func.min(AuditRow.seq)).where(AuditRow.purged_at.is_(None))
    ).scalar()
    last_dead = head.seq if first_live is None else int(first_live) - 1
    if last_dead <= anchor.seq:
        return 0, None, anchor
    last_hash = conn.execute(select(AuditRow.hash).where(AuditRow.seq == last_dead)).scalar_one()
    deleted = conn.execute(delete(AuditRow).where(AuditRow.seq <= last_dead)).rowcount
    return deleted, (anchor.seq + 1, last_dead), Head(last_dead, last_hash)
