"""Refresh runs and bucket leases on the registry's database: the ``RefreshLog`` port.

A run is requested (``queued``), taken (``running``, under the bucket's lease) and
ended (``finished``, ``failed`` or ``skipped``). The lease is a row per bucket with
an expiry, taken by insert or by replacing an expired one in a single statement, so
one refresh per bucket runs at a time across every process that shares the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ingest.records import RefreshCounts, RefreshFailure, RefreshRun, RefreshStatus
from ingest.registry_tables import RefreshLeaseRow, RefreshRunRow
from ingest.row_updates import updated_rows
from ingest.sql_sessions import Transactions, as_utc
from kernel.errors import NotFoundError

_ACTIVE = ("queued", "running")


def _run(row: RefreshRunRow) -> RefreshRun:
    return RefreshRun(
        id=row.id,
        bucket=row.bucket,
        trigger=row.trigger,
        status=row.status,  # type: ignore[arg-type]
        queued_at=as_utc(row.queued_at),
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        total=row.total,
        done=row.done,
        counts=RefreshCounts(row.new, row.changed, row.deleted, row.unchanged, row.failed),
        failures=tuple(RefreshFailure(**f) for f in row.failures or []),
        error=row.error,
    )


class RefreshRuns(Transactions):
    def request(
        self, bucket: str, trigger: str, now: datetime, *, stale_queued_s: int = 3600
    ) -> tuple[RefreshRun, bool]:
        """A new queued run, or the bucket's live run already queued or running (and False).

        A run is live while it is running under an unexpired lease, or queued for less
        than ``stale_queued_s``. A dead one (its process was killed, its message lost)
        is closed as failed here, so it can never block the bucket's refreshes.
        """
        with self._session() as s:
            active = s.scalars(
                select(RefreshRunRow)
                .where(RefreshRunRow.bucket == bucket, RefreshRunRow.status.in_(_ACTIVE))
                .order_by(RefreshRunRow.queued_at)
            ).all()
            for row in active:
                reason = self._dead(s, row, now, stale_queued_s)
                if reason is None:
                    return _run(row), False
                row.status, row.finished_at, row.error = "failed", now, reason
            row = RefreshRunRow(
                id=str(uuid.uuid4()),
                bucket=bucket,
                trigger=trigger,
                status="queued",
                queued_at=now,
                failures=[],
            )
            s.add(row)
            s.flush()
            return _run(row), True

    @staticmethod
    def _dead(s: Session, row: RefreshRunRow, now: datetime, stale_queued_s: int) -> str | None:
        if row.status == "queued":
            queued_at = as_utc(row.queued_at)
            if queued_at is not None and now - queued_at > timedelta(seconds=stale_queued_s):
                return "never started: its task was lost or no worker took it"
            return None
        lease = s.get(RefreshLeaseRow, row.bucket)
        expires = as_utc(lease.expires_at) if lease is not None else None
        if lease is None or lease.run_id != row.id or expires is None or expires < now:
            return "stopped without finishing: its worker died (lease expired)"
        return None

    def get(self, run_id: str) -> RefreshRun:
        with self._session() as s:
            row = s.get(RefreshRunRow, run_id)
            if row is None:
                raise NotFoundError(f"refresh '{run_id}' not found")
            return _run(row)

    def list_runs(self, bucket: str, limit: int = 20) -> list[RefreshRun]:
        """Newest first."""
        with self._session() as s:
            rows = s.scalars(
                select(RefreshRunRow)
                .where(RefreshRunRow.bucket == bucket)
                .order_by(RefreshRunRow.queued_at.desc(), RefreshRunRow.id)
                .limit(limit)
            )
            return [_run(r) for r in rows]

    def last_finished(self, bucket: str) -> RefreshRun | None:
        with self._session() as s:
            row = s.scalars(
                select(RefreshRunRow)
                .where(RefreshRunRow.bucket == bucket, RefreshRunRow.status == "finished")
                .order_by(RefreshRunRow.finished_at.desc())
                .limit(1)
            ).first()
            return _run(row) if row else None

    def acquire(self, run_id: str, lease_s: int, now: datetime) -> bool:
        """Take the run's bucket lease and mark the run running; False if another holds it."""
        run = self.get(run_id)
        expires = now + timedelta(seconds=lease_s)
        try:
            with self._session() as s:
                taken = updated_rows(
                    s,
                    update(RefreshLeaseRow)
                    .where(RefreshLeaseRow.bucket == run.bucket, RefreshLeaseRow.expires_at < now)
                    .values(run_id=run_id, expires_at=expires),
                )
                if not taken:
                    s.add(RefreshLeaseRow(bucket=run.bucket, run_id=run_id, expires_at=expires))
                    s.flush()
        except IntegrityError:
            return False  # a live lease: another refresh of this bucket is running
        with self._session() as s:
            updated_rows(
                s,
                update(RefreshRunRow)
                .where(RefreshRunRow.id == run_id)
                .values(status="running", started_at=now),
            )
        return True

    def renew(self, run_id: str, lease_s: int, now: datetime) -> bool:
        """Extend the lease; False if it was lost (expired and taken by another run)."""
        with self._session() as s:
            return bool(
                updated_rows(
                    s,
                    update(RefreshLeaseRow)
                    .where(RefreshLeaseRow.run_id == run_id)
                    .values(expires_at=now + timedelta(seconds=lease_s)),
                )
            )

    def progress(self, run_id: str, *, total: int, done: int, counts: RefreshCounts) -> None:
        with self._session() as s:
            updated_rows(
                s,
                update(RefreshRunRow)
                .where(RefreshRunRow.id == run_id)
                .values(total=total, done=done, **_count_values(counts)),
            )

    def finish(
        self,
        run_id: str,
        *,
        status: RefreshStatus,
        now: datetime,
        counts: RefreshCounts | None = None,
        failures: Sequence[RefreshFailure] = (),
        error: str | None = None,
    ) -> RefreshRun:
        """End the run and free its lease (if it holds it)."""
        with self._session() as s:
            row = s.get(RefreshRunRow, run_id)
            if row is None:
                raise NotFoundError(f"refresh '{run_id}' not found")
            row.status = status
            row.finished_at = now
            row.error = error
            if counts is not None:
                for name, value in _count_values(counts).items():
                    setattr(row, name, value)
            row.failures = [{"key": f.key, "code": f.code, "message": f.message} for f in failures]
            s.execute(delete(RefreshLeaseRow).where(RefreshLeaseRow.run_id == run_id))
            s.flush()
            return _run(row)


def _count_values(counts: RefreshCounts) -> dict[str, int]:
    return {
        "new": counts.new,
        "changed": counts.changed,
        "deleted": counts.deleted,
        "unchanged": counts.unchanged,
        "failed": counts.failed,
    }
