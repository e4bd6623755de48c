"""Every read and write of releases, on the registry's database.

Moves are compare-and-set on the status and stage a release was read at, so two
processes deciding at once (two schedulers, an admin and the controller) cannot both
move it: the second finds it moved and gets :class:`ConflictError`. Starting a
release takes the one staged slot the same way: a partial unique index would be
neater, but SQLite and PostgreSQL disagree on them, so the check and the move share a
transaction that first takes a lock: an advisory lock on PostgreSQL, the database's
write lock on SQLite (taken by a write that changes nothing, before the check reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, false, func, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kernel.errors import ConflictError, NotFoundError
from releases.model import (
    Bundle,
    Release,
    ReleaseEvent,
    Status,
    parse_release_id,
    release_id,
)
from releases.tables import ReleaseBase, ReleaseEventRow, ReleaseRow, ReleaseTallyRow
from releases.tally import Stats

_WHO_MAX = 64
_RETRIES = 10


class ReleaseBook:
    def __init__(self, engine: Engine) -> None:
        ReleaseBase.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- reads -------------------------------------------------------------------

    def get(self, ident: str) -> Release:
        version = parse_release_id(ident)
        with self._session() as s:
            row = s.get(ReleaseRow, version) if version is not None else None
            if row is None:
                raise NotFoundError(f"release '{ident[:40]}' not found")
            return _release(row)

    def recent(self, limit: int = 100) -> list[Release]:
        """Newest first."""
        with self._session() as s:
            rows = s.scalars(select(ReleaseRow).order_by(ReleaseRow.version.desc()).limit(limit))
            return [_release(r) for r in rows]

    def active(self) -> tuple[Release | None, Release | None]:
        """(current, staged): what traffic is split between right now."""
        with self._session() as s:
            rows = s.scalars(
                select(ReleaseRow).where(ReleaseRow.status.in_(("current", "staged")))
            ).all()
        current = next((_release(r) for r in rows if r.status == "current"), None)
        staged = next((_release(r) for r in rows if r.status == "staged"), None)
        return current, staged

    def events(self, ident: str) -> list[ReleaseEvent]:
        release = self.get(ident)
        with self._session() as s:
            rows = s.scalars(
                select(ReleaseEventRow)
                .where(ReleaseEventRow.version == release.version)
                .order_by(ReleaseEventRow.id)
            ).all()
        return [
            ReleaseEvent(release.id, r.action, r.from_percent, r.to_percent, r.by, _utc(r.at),
                         r.details)
            for r in rows
        ]  # fmt: skip

    # -- writes ------------------------------------------------------------------

    def create(self, bundle: Bundle, *, by: str | None, note: str | None = None) -> Release:
        """A new draft with the next version number."""
        for _ in range(_RETRIES):
            try:
                with self._session() as s:
                    latest = s.scalar(select(func.max(ReleaseRow.version))) or 0
                    row = ReleaseRow(
                        version=latest + 1,
                        status="draft",
                        stage_percent=0,
                        prompt_name=bundle.prompt_name,
                        prompt_version=bundle.prompt_version,
                        route=bundle.route,
                        settings=dict(bundle.settings),
                        note=note,
                        created_by=_who(by),
                        created_at=_now(),
                        stage_started_at=None,
                        ended_at=None,
                        reason=None,
                        eval=None,
                    )
                    s.add(row)
                    s.flush()
                    _event(s, row.version, "create", 0, 0, by, bundle.as_json())
                    return _release(row)
            except IntegrityError:
                continue  # another creator took the number
        raise ConflictError("too many releases created at once; try again")

    def move(
        self,
        release: Release,
        *,
        action: str,
        status: Status,
        percent: int,
        by: str | None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Release:
        """Move ``release`` (as read) to ``status`` at ``percent``; when it becomes
        current, the release current before it is superseded in the same transaction.

        Raises :class:`ConflictError` when it moved since it was read, or when it is
        started while another release is staged.
        """
        now = _now()
        with self._session() as s:
            _serialize(s)
            if status == "staged" and release.status == "draft":
                other = s.scalar(
                    select(ReleaseRow.version).where(ReleaseRow.status == "staged").limit(1)
                )
                if other is not None:
                    raise ConflictError(
                        f"release {release_id(other)} is being rolled out: promote or roll it"
                        " back first"
                    )
            if status == "current":
                for row in s.scalars(select(ReleaseRow).where(ReleaseRow.status == "current")):
                    if row.version != release.version:
                        row.status, row.ended_at = "superseded", now
                        _event(s, row.version, "supersede", row.stage_percent, 0, by,
                               {"by_release": release.id})  # fmt: skip
                        row.stage_percent = 0
            values: dict[str, Any] = {"status": status, "stage_percent": percent}
            if percent != release.stage_percent or status != release.status:
                values["stage_started_at"] = now
            if status in ("rolled_back", "superseded"):
                values["ended_at"] = now
            if reason is not None:
                values["reason"] = reason
            moved = s.execute(
                update(ReleaseRow)
                .where(
                    ReleaseRow.version == release.version,
                    ReleaseRow.status == release.status,
                    ReleaseRow.stage_percent == release.stage_percent,
                )
                .values(**values)
            )
            if not isinstance(moved, CursorResult) or moved.rowcount != 1:
                raise ConflictError(f"release {release.id} was changed meanwhile; look again")
            recorded = {**(details or {}), **({"reason": reason} if reason else {})}
            _event(s, release.version, action, release.stage_percent, percent, by, recorded or None)
            after = s.get(ReleaseRow, release.version)
            assert after is not None
            s.flush()
            s.refresh(after)
            return _release(after)

    def reinstate(self, release: Release, *, by: str | None, after: str) -> Release:
        """Make a superseded release current again (the one before a rolled-back current)."""
        return self.move(
            release, action="reinstate", status="current", percent=100, by=by,
            details={"after": after},
        )  # fmt: skip

    def last_superseded(self, before_version: int) -> Release | None:
        with self._session() as s:
            row = s.scalars(
                select(ReleaseRow)
                .where(ReleaseRow.status == "superseded", ReleaseRow.version < before_version)
                .order_by(ReleaseRow.version.desc())
                .limit(1)
            ).first()
            return None if row is None else _release(row)

    def claim_eval(self, release: Release) -> bool:
        """Mark ``release``'s eval as running; False when it was already claimed."""
        with self._session() as s:
            row = s.get(ReleaseRow, release.version, with_for_update=True)
            if row is None or row.eval is not None:
                return False
            row.eval = {"state": "running", "started_at": _now().isoformat()}
            return True

    def set_eval(self, release: Release, result: dict[str, Any]) -> None:
        with self._session() as s:
            row = s.get(ReleaseRow, release.version)
            if row is not None:
                row.eval = result

    # -- tallies -----------------------------------------------------------------

    def add_tallies(self, counts: dict[tuple[str, str], Stats]) -> None:
        if not counts:
            return
        now = _now()
        with self._session() as s:
            for (epoch, arm), st in counts.items():
                s.add(
                    ReleaseTallyRow(
                        epoch=epoch,
                        arm=arm,
                        requests=st.requests,
                        errors=st.errors,
                        degraded=st.degraded,
                        abstained=st.abstained,
                        grounded=st.grounded,
                        grounding_sum=st.grounding_sum,
                        cost_usd=st.cost_usd,
                        latency_buckets=list(st.latency_buckets),
                        flushed_at=now,
                    )
                )

    def stats(self, arm: str, epoch: str | None = None) -> Stats:
        """The summed counts of ``arm`` in ``epoch`` (None: in every epoch)."""
        total = Stats()
        with self._session() as s:
            query = select(ReleaseTallyRow).where(ReleaseTallyRow.arm == arm)
            if epoch is not None:
                query = query.where(ReleaseTallyRow.epoch == epoch)
            for row in s.scalars(query):
                total.add(
                    Stats(
                        requests=row.requests,
                        errors=row.errors,
                        degraded=row.degraded,
                        abstained=row.abstained,
                        grounded=row.grounded,
                        grounding_sum=row.grounding_sum,
                        cost_usd=row.cost_usd,
                        latency_buckets=list(row.latency_buckets),
                    )
                )
        return total

    def purge_tallies(self, ended_before: datetime, *, batch: int, max_batches: int) -> int:
        """Delete the counts of every stage of releases that ended (rolled back or
        superseded) before ``ended_before``, ``batch`` rows per transaction; returns how
        many went.

        Never a row answered by a staged or current release (a reinstated release is
        current again; its own history is the gates' fallback), nor any row of a stage
        of a release that has not ended.
        """
        with self._session() as s:
            ended = set(
                s.scalars(
                    select(ReleaseRow.version).where(
                        ReleaseRow.status.in_(("rolled_back", "superseded")),
                        ReleaseRow.ended_at < ended_before,
                    )
                )
            )
            if not ended:
                return 0
            live = [
                release_id(v)
                for v in s.scalars(
                    select(ReleaseRow.version).where(ReleaseRow.status.in_(("current", "staged")))
                )
            ]
            epochs = [
                e
                for e in s.scalars(select(ReleaseTallyRow.epoch).distinct())
                if _epoch_version(e) in ended
            ]
        removed = 0
        for _ in range(max_batches if epochs else 0):
            with self._session() as s:
                query = select(ReleaseTallyRow.id).where(ReleaseTallyRow.epoch.in_(epochs))
                if live:
                    query = query.where(ReleaseTallyRow.arm.not_in(live))
                ids = s.scalars(query.limit(batch)).all()
                if not ids:
                    break
                s.execute(
                    delete(ReleaseTallyRow).where(ReleaseTallyRow.id.in_(ids)),
                    execution_options={"synchronize_session": False},
                )
                removed += len(ids)
        return removed

    def rollback_counts(self) -> dict[bool, int]:
        """Every rollback ever decided, automatic (True) and by hand (False).

        Read from the events (insert-only, one per rollback), so every process reads the
        same numbers whichever process decided.
        """
        counts = {True: 0, False: 0}
        with self._session() as s:
            rows = s.scalars(
                select(ReleaseEventRow.details).where(ReleaseEventRow.action == "rollback")
            )
            for details in rows:
                counts[bool((details or {}).get("automatic"))] += 1
        return counts

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session


def epoch_of(release: Release) -> str:
    """The name of ``release``'s current stage: what its answers (and the current's,
    meanwhile) are tallied under."""
    return f"{release.id}@{release.stage_percent}"


def _epoch_version(epoch: str) -> int | None:
    """The release version of a stage's name (``rel-4@25`` -> 4); None for anything else."""
    name, at, _ = epoch.partition("@")
    return parse_release_id(name) if at and name.startswith("rel-") else None


def _serialize(s: Session) -> None:
    """One mover at a time: on PostgreSQL a transaction-scoped advisory lock; on SQLite
    the database's write lock, taken now by an UPDATE that matches no row.

    SQLite takes its write lock at a transaction's first write, and the driver begins
    the transaction there too: without this, two processes could both read "nothing is
    staged" and then both start a release (each UPDATE touches its own row).
    """
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        s.execute(select(func.pg_advisory_xact_lock(0x72656C65617365)))  # "release"
    elif dialect == "sqlite":
        s.execute(
            update(ReleaseRow).where(false()).values(status=ReleaseRow.status),
            execution_options={"synchronize_session": False},
        )


def _event(
    s: Session,
    version: int,
    action: str,
    from_percent: int,
    to_percent: int,
    by: str | None,
    details: dict[str, Any] | None,
) -> None:
    s.add(
        ReleaseEventRow(
            version=version,
            action=action,
            from_percent=from_percent,
            to_percent=to_percent,
            by=_who(by),
            at=_now(),
            details=details,
        )
    )


def _release(row: ReleaseRow) -> Release:
    return Release(
        id=release_id(row.version),
        version=row.version,
        status=row.status,  # type: ignore[arg-type]
        stage_percent=row.stage_percent,
        bundle=Bundle(row.prompt_name, row.prompt_version, row.route, dict(row.settings or {})),
        note=row.note,
        created_at=_utc(row.created_at),
        created_by=row.created_by,
        stage_started_at=None if row.stage_started_at is None else _utc(row.stage_started_at),
        ended_at=None if row.ended_at is None else _utc(row.ended_at),
        reason=row.reason,
        eval=row.eval,
    )


def _who(by: str | None) -> str | None:
    return by[:_WHO_MAX] if by else None


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
