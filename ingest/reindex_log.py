"""Re-index runs and their lease on the registry's database: the ``ReindexLog`` port.

A run is requested (``queued``), taken (``running``, holding the lease) and ended
(``finished``, ``failed`` or ``skipped``). The lease is the ``lease`` column of the
running row, unique across the table: taking it while another live row holds it
breaks the constraint, so one re-index runs at a time across every process that
shares the database; a holder that dies frees it by expiry.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ingest.registry_tables import ReindexRunRow
from ingest.reindex import ReindexFailure, ReindexProgress, ReindexRun, ReindexStatus
from ingest.row_updates import updated_rows
from ingest.sql_sessions import Transactions, as_utc
from kernel.errors import NotFoundError

_HELD = "held"
_ACTIVE = ("queued", "running")
_DIED = "stopped without finishing: its worker died (lease expired)"


def _run(row: ReindexRunRow) -> ReindexRun:
    return ReindexRun(
        id=row.id,
        trigger=row.trigger,
        status=row.status,  # type: ignore[arg-type]
        queued_at=as_utc(row.queued_at),
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        max_failures=row.max_failures,
        progress=ReindexProgress(
            total=row.total,
            done=row.done,
            caught_up=row.caught_up,
            failures=tuple(ReindexFailure(**f) for f in row.failures or []),
            from_generation=row.from_generation,
            to_generation=row.to_generation,
        ),
        error=row.error,
    )


def _progress_values(progress: ReindexProgress) -> dict[str, object]:
    return {
        "total": progress.total,
        "done": progress.done,
        "caught_up": progress.caught_up,
        "failed": len(progress.failures),
        "failures": [
            {"document_id": f.document_id, "key": f.key, "code": f.code, "message": f.message}
            for f in progress.failures
        ],
        "from_generation": progress.from_generation,
        "to_generation": progress.to_generation,
    }


class ReindexRuns(Transactions):
    def request(
        self,
        trigger: str,
        now: datetime,
        *,
        max_failures: int = 0,
        stale_queued_s: int = 3600,
    ) -> tuple[ReindexRun, bool]:
        """A new queued run, or the live one already queued or running (and False).

        A run is live while it runs under an unexpired lease, or is queued for less than
        ``stale_queued_s``. A dead one (its process killed, its message lost) is closed
        as failed here, so it can never block re-indexing.
        """
        with self._session() as s:
            active = s.scalars(
                select(ReindexRunRow)
                .where(ReindexRunRow.status.in_(_ACTIVE))
                .order_by(ReindexRunRow.queued_at)
            ).all()
            for row in active:
                reason = _dead(row, now, stale_queued_s)
                if reason is None:
                    return _run(row), False
                row.status, row.finished_at, row.error, row.lease = "failed", now, reason, None
            row = ReindexRunRow(
                id=str(uuid.uuid4()),
                trigger=trigger,
                status="queued",
                queued_at=now,
                max_failures=max_failures,
                failures=[],
            )
            s.add(row)
            s.flush()
            return _run(row), True

    def get(self, run_id: str) -> ReindexRun:
        with self._session() as s:
            row = s.get(ReindexRunRow, run_id)
            if row is None:
                raise NotFoundError(f"re-index '{run_id}' not found")
            return _run(row)

    def list_runs(self, limit: int = 20) -> list[ReindexRun]:
        """Newest first."""
        with self._session() as s:
            rows = s.scalars(
                select(ReindexRunRow)
                .order_by(ReindexRunRow.queued_at.desc(), ReindexRunRow.id)
                .limit(limit)
            )
            return [_run(r) for r in rows]

    def acquire(self, run_id: str, lease_s: int, now: datetime) -> bool:
        """Take the lease and mark the queued run running; False if another holds it."""
        try:
            with self._session() as s:
                # A holder whose lease expired died: its run ends, its lease is freed.
                s.execute(
                    update(ReindexRunRow)
                    .where(ReindexRunRow.lease == _HELD, ReindexRunRow.lease_expires_at < now)
                    .values(lease=None, status="failed", finished_at=now, error=_DIED)
                )
                taken = updated_rows(
                    s,
                    update(ReindexRunRow)
                    .where(ReindexRunRow.id == run_id, ReindexRunRow.status == "queued")
                    .values(
                        lease=_HELD,
                        lease_expires_at=now + timedelta(seconds=lease_s),
                        status="running",
                        started_at=now,
                    ),
                )
        except IntegrityError:
            return False  # a live lease: another re-index is running
        return bool(taken)

    def renew(self, run_id: str, lease_s: int, now: datetime) -> bool:
        """Extend the lease; False if it was lost (expired and taken over)."""
        with self._session() as s:
            return bool(
                updated_rows(
                    s,
                    update(ReindexRunRow)
                    .where(ReindexRunRow.id == run_id, ReindexRunRow.lease == _HELD)
                    .values(lease_expires_at=now + timedelta(seconds=lease_s)),
                )
            )

    def progress(self, run_id: str, progress: ReindexProgress) -> None:
        with self._session() as s:
            updated_rows(
                s,
                update(ReindexRunRow)
                .where(ReindexRunRow.id == run_id)
                .values(**_progress_values(progress)),
            )

    def finish(
        self,
        run_id: str,
        *,
        status: ReindexStatus,
        now: datetime,
        progress: ReindexProgress | None = None,
        error: str | None = None,
    ) -> ReindexRun:
        """End the run and free its lease."""
        with self._session() as s:
            row = s.get(ReindexRunRow, run_id)
            if row is None:
                raise NotFoundError(f"re-index '{run_id}' not found")
            row.status, row.finished_at, row.error = status, now, error
            row.lease, row.lease_expires_at = None, None
            if progress is not None:
                for name, value in _progress_values(progress).items():
                    setattr(row, name, value)
            s.flush()
            return _run(row)


def _dead(row: ReindexRunRow, now: datetime, stale_queued_s: int) -> str | None:
    if row.status == "queued":
        queued_at = as_utc(row.queued_at)
        if queued_at is not None and now - queued_at > timedelta(seconds=stale_queued_s):
            return "never started: its task was lost or no worker took it"
        return None
    expires = as_utc(row.lease_expires_at)
    if row.lease != _HELD or expires is None or expires < now:
        return _DIED
    return None
