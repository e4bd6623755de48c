"""Bucket schedules on the registry's database: the ``ScheduleBook`` port.

The scheduler reads this table on every tick, so a schedule put, changed or deleted
through the API takes effect without a restart. ``claim_due`` moves a due schedule's
``next_run_at`` forward with a compare-and-set on the old value: of any number of
schedulers ticking at once, exactly one claims each firing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update

from ingest.records import Schedule
from ingest.registry_tables import ScheduleRow
from ingest.row_updates import updated_rows
from ingest.schedule_rules import ScheduleRule
from ingest.sql_sessions import Transactions, as_utc
from kernel.errors import NotFoundError


def _schedule(row: ScheduleRow) -> Schedule:
    return Schedule(row.bucket, row.every_s, row.cron, row.timezone, as_utc(row.next_run_at))


class ScheduleBook(Transactions):
    def put(self, bucket: str, rule: ScheduleRule, next_run_at: datetime) -> Schedule:
        with self._session() as s:
            row = s.get(ScheduleRow, bucket)
            if row is None:
                row = ScheduleRow(bucket=bucket)
                s.add(row)
            row.every_s, row.cron, row.timezone = rule.every_s, rule.cron, rule.timezone
            row.next_run_at = next_run_at
            row.updated_at = datetime.now(UTC)
            s.flush()
            return _schedule(row)

    def get(self, bucket: str) -> Schedule:
        found = self.find(bucket)
        if found is None:
            raise NotFoundError(f"bucket '{bucket}' has no schedule")
        return found

    def find(self, bucket: str) -> Schedule | None:
        with self._session() as s:
            row = s.get(ScheduleRow, bucket)
            return _schedule(row) if row else None

    def delete(self, bucket: str) -> None:
        with self._session() as s:
            row = s.get(ScheduleRow, bucket)
            if row is None:
                raise NotFoundError(f"bucket '{bucket}' has no schedule")
            s.delete(row)

    def claim_due(
        self, now: datetime, next_for: Callable[[Schedule, datetime], datetime]
    ) -> list[Schedule]:
        """The schedules due at ``now`` that this caller won, each moved to its next run.

        A schedule that was due several times while nobody ticked fires once.
        """
        with self._session() as s:
            due = [
                _schedule(r)
                for r in s.scalars(select(ScheduleRow).where(ScheduleRow.next_run_at <= now))
            ]
        claimed = []
        for schedule in due:
            following = next_for(schedule, now)
            with self._session() as s:
                won = updated_rows(
                    s,
                    update(ScheduleRow)
                    .where(
                        ScheduleRow.bucket == schedule.bucket,
                        ScheduleRow.next_run_at == schedule.next_run_at,
                    )
                    .values(next_run_at=following),
                )
            if won:
                claimed.append(schedule)
        return claimed
