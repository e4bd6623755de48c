"""The scheduler wired up: in a thread of the server (embedded), or as its own process.

``ragline beat`` runs :func:`run_beat` in distributed mode; it needs the database and
the broker only (no model, no index). There each tick also resends work accepted
while the broker was down (``workers.resend``). Embedded mode starts :func:`beat_for` beside
the worker threads, on the same durable queue. Either way each tick reads the
schedules from the database.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from governance.audit_log import AuditLog
from governance.retention import Retention
from ingest.bucket_catalog import BucketCatalog
from ingest.ports import Buckets, RefreshLog, ScheduleBook
from ingest.refresh_log import RefreshRuns
from ingest.reindex_log import ReindexRuns
from ingest.schedule_book import ScheduleBook as SqlScheduleBook
from ingest.scheduling import fire_due_schedules
from kernel.settings import Settings
from prompts.book import PromptBook
from ragline.release_eval import GoldenEval
from ragline.runtime import open_registry
from releases.book import ReleaseBook
from releases.service import ReleaseService
from workers.beat import Beat
from workers.celery_app import create_celery
from workers.resend import Resender
from workers.tasks import enqueue_refresh

log = logging.getLogger(__name__)


def beat_for(
    schedules: ScheduleBook,
    buckets: Buckets,
    runs: RefreshLog,
    enqueue: Callable[[str], None],
    interval_s: float,
    resend: Callable[[datetime], object] | None = None,
    purge: Callable[[datetime], object] | None = None,
    releases: Callable[[datetime], list[str]] | None = None,
) -> Beat:
    """``resend`` (distributed mode: ``workers.resend.Resender``) runs first on every tick,
    so work accepted while the broker was down reaches a worker once it is back.
    ``purge`` (``governance.retention.Retention.purge_if_due``) runs last: it purges the
    audit log when ``purge_interval_s`` has passed since any process last did.
    ``releases`` (``releases.service.ReleaseService.tick``) is the release controller:
    it judges the staged release's gates, rolling it back or advancing it."""

    def tick(now: datetime) -> list[str]:
        if resend is not None:
            resend(now)
        started = fire_due_schedules(schedules, buckets, runs, enqueue, now)
        if releases is not None:
            try:
                for decision in releases(now):
                    log.warning("release controller: %s", decision)
            except Exception:  # a release tick must not stop the purge after it
                log.exception("release controller tick failed")
        if purge is not None:
            purge(now)
        return started

    return Beat(tick, interval_s)


def release_controller(settings: Settings, engine: Engine) -> ReleaseService:
    """The release controller of ``ragline beat``: gates and moves only (it creates no
    release, so it needs no routes); API replicas write the counters it judges."""
    prompts = PromptBook(engine)
    return ReleaseService(
        ReleaseBook(engine),
        settings.releases,
        AuditLog(engine),
        prompts,
        (),
        # The eval gate loads the embedding model here, on the first release it judges.
        evaluate=GoldenEval(settings, prompts) if settings.releases.eval_golden else None,
    )


def run_beat(settings: Settings) -> None:
    """Tick until interrupted, sending due refreshes to the broker's refresh queue."""
    registry = open_registry(settings)
    celery = create_celery(settings)
    engine = registry.engine
    buckets, runs = BucketCatalog(engine), RefreshRuns(engine)
    beat = beat_for(
        SqlScheduleBook(engine),
        buckets,
        runs,
        lambda run_id: enqueue_refresh(celery, run_id),
        settings.refresh.beat_interval_s,
        resend=Resender(celery, registry, buckets, runs, ReindexRuns(engine)),
        purge=Retention(AuditLog(engine), settings.audit).purge_if_due,
        releases=release_controller(settings, engine).tick,
    )
    # SIGTERM (a service manager, Kubernetes) and Ctrl-C end the loop after the current
    # tick, so a firing is never cut between its claim and its message. A KeyboardInterrupt
    # raised inside a tick's database call could leave a transaction (and its locks) open
    # while the process winds down: seen as a beat that never exited after Ctrl-C.
    previous = {
        sig: signal.signal(sig, lambda *_: beat.stop()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        beat.run_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        celery.close()
        registry.close()
