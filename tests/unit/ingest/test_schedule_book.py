"""Schedules in the database: each firing is claimed by exactly one scheduler."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.bucket_catalog import BucketCatalog
from ingest.refresh_log import RefreshRuns
from ingest.registry import Registry
from ingest.schedule_book import ScheduleBook
from ingest.schedule_rules import ScheduleRule, next_run
from ingest.scheduling import fire_due_schedules, set_schedule
from kernel.errors import InvalidInputError, NotFoundError

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    reg = Registry(f"sqlite:///{tmp_path / 'registry.db'}")
    BucketCatalog(reg.engine).create_bucket("docs", ["staff"], None, None)
    return reg


def test_put_get_replace_delete(registry: Registry) -> None:
    book = ScheduleBook(registry.engine)
    catalog = BucketCatalog(registry.engine)
    first = set_schedule(
        book, catalog, "docs", every="15m", cron=None, timezone=None, min_every_s=60, now=T0
    )
    assert (first.every_s, first.cron, first.next_run_at) == (900, None, T0 + timedelta(minutes=15))
    replaced = set_schedule(
        book, catalog, "docs", every=None, cron="0 * * * *", timezone=None, min_every_s=60, now=T0
    )
    assert book.get("docs") == replaced
    assert (replaced.every_s, replaced.cron) == (None, "0 * * * *")
    book.delete("docs")
    assert book.find("docs") is None
    with pytest.raises(NotFoundError):
        book.get("docs")
    with pytest.raises(NotFoundError):
        book.delete("docs")


def test_a_schedule_needs_a_bucket_and_a_valid_rule(registry: Registry) -> None:
    book = ScheduleBook(registry.engine)
    catalog = BucketCatalog(registry.engine)
    with pytest.raises(NotFoundError):
        set_schedule(
            book, catalog, "nope", every="5m", cron=None, timezone=None, min_every_s=60, now=T0
        )
    with pytest.raises(InvalidInputError):
        set_schedule(
            book, catalog, "docs", every="5s", cron=None, timezone=None, min_every_s=60, now=T0
        )
    assert book.find("docs") is None


def test_many_schedulers_ticking_at_once_fire_each_schedule_once(registry: Registry) -> None:
    book = ScheduleBook(registry.engine)
    book.put("docs", ScheduleRule(every_s=60, cron=None), T0)
    due = T0 + timedelta(seconds=1)
    won: list[str] = []
    barrier = threading.Barrier(8)

    def tick() -> None:
        barrier.wait()
        won.extend(s.bucket for s in ScheduleBook(registry.engine).claim_due(due, next_run))

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won == ["docs"]
    assert book.get("docs").next_run_at == due + timedelta(seconds=60)
    assert book.claim_due(due, next_run) == []


def test_a_firing_becomes_one_refresh_and_a_running_one_is_not_doubled(
    registry: Registry,
) -> None:
    book = ScheduleBook(registry.engine)
    runs = RefreshRuns(registry.engine)
    catalog = BucketCatalog(registry.engine)
    book.put("docs", ScheduleRule(every_s=60, cron=None), T0)
    sent: list[str] = []
    started = fire_due_schedules(book, catalog, runs, sent.append, T0)
    assert started == sent and len(sent) == 1
    run = runs.get(sent[0])
    assert (run.bucket, run.trigger, run.status) == ("docs", "schedule", "queued")
    # A minute later the first run is still queued (young): no second run is sent.
    later = T0 + timedelta(seconds=61)
    assert fire_due_schedules(book, catalog, runs, sent.append, later) == []
    assert len(sent) == 1
    assert book.get("docs").next_run_at == later + timedelta(seconds=60)


def test_a_missed_stretch_fires_once_not_once_per_missed_period(registry: Registry) -> None:
    book = ScheduleBook(registry.engine)
    book.put("docs", ScheduleRule(every_s=60, cron=None), T0)
    much_later = T0 + timedelta(hours=5)
    assert [s.bucket for s in book.claim_due(much_later, next_run)] == ["docs"]
    assert book.claim_due(much_later, next_run) == []
