"""Schedules as use cases: set one from a user's request, fire the ones that are due.

The scheduler process (``ragline beat``, or a thread in embedded mode) calls
:func:`fire_due_schedules` on every tick; every firing becomes a refresh request,
so a bucket whose refresh is still running is not refreshed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from ingest.ports import Buckets, RefreshLog, ScheduleBook
from ingest.records import Schedule
from ingest.refresh import request_refresh
from ingest.schedule_rules import next_run, parse_rule
from kernel.errors import NotFoundError

log = logging.getLogger(__name__)


def set_schedule(
    book: ScheduleBook,
    buckets: Buckets,
    name: str,
    *,
    every: str | None,
    cron: str | None,
    timezone: str | None,
    min_every_s: int,
    now: datetime,
) -> Schedule:
    """Put (create or replace) a bucket's schedule; it first fires at its next time."""
    buckets.get_bucket(name)
    rule = parse_rule(every=every, cron=cron, timezone=timezone, min_every_s=min_every_s)
    return book.put(name, rule, next_run(rule, now))


def fire_due_schedules(
    book: ScheduleBook,
    buckets: Buckets,
    runs: RefreshLog,
    enqueue_refresh: Callable[[str], None],
    now: datetime,
) -> list[str]:
    """Request a refresh for every schedule this caller claimed; returns the new run ids."""
    started = []
    for schedule in book.claim_due(now, next_run):
        try:
            run, created = request_refresh(buckets, runs, schedule.bucket, "schedule", now)
        except NotFoundError:
            continue  # the bucket went away; its schedule went with it
        if created:
            enqueue_refresh(run.id)
            started.append(run.id)
        else:
            log.info("bucket %s: refresh %s still running; firing skipped", run.bucket, run.id)
    return started
