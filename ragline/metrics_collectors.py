"""Gauges read from the database when Prometheus scrapes, never kept up to date in memory.

Document counts, index lag, budget spend, and releases' stages and rollbacks are state
of the registry's database, shared by every process: reading them at scrape time gives
the true value without a background thread, and one process (the API's) exposes them so
they are not summed across workers.

A scrape must not fail because the database is down: a family that cannot be read is left
out of that scrape (absent, not zero, so no alert mistakes an outage for a healthy
value), and the outage is logged once, when it starts, naming the family and the error
type only (a driver's message names hosts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from ingest.freshness import bucket_freshness
from ingest.ports import Buckets, DocumentRegistry, RefreshLog
from kernel.errors import DependencyUnavailableError
from observability.metrics import Metrics
from releases.book import ReleaseBook
from usage.budgets import BudgetGuard, BudgetStatus

if TYPE_CHECKING:
    from ragline.runtime import Runtime

log = logging.getLogger(__name__)

DOCUMENT_STATUSES = ("queued", "processing", "indexed", "failed")
# What "the database is down" looks like from here: an outage the engine recognised, any
# other database error (a SQLite file that went away), or the socket itself.
_DATABASE_DOWN = (DependencyUnavailableError, SQLAlchemyError, OSError)
T = TypeVar("T")
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Reads:
    """Database reads for one collector; logs when an outage starts and when it ends."""

    def __init__(self, family: str) -> None:
        self._family = family
        self._failing = False

    def attempt(self, read: Callable[[], T]) -> T | None:
        try:
            value = read()
        except _DATABASE_DOWN as exc:
            if not self._failing:
                log.warning(
                    "metrics: %s left out of scrapes while the database is unavailable (%s)",
                    self._family,
                    type(exc).__name__,
                )
            self._failing = True
            return None
        if self._failing:
            log.info("metrics: %s collected again", self._family)
        self._failing = False
        return value


class DocumentCounts(Collector):
    """``ragline_documents{status}``: every status, 0 when no document has it."""

    NAME = "ragline_documents"
    HELP = "Documents in the registry, by status."

    def __init__(self, registry: DocumentRegistry) -> None:
        self._registry = registry
        self._reads = _Reads(self.NAME)

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=["status"])

    def collect(self) -> Iterator[Metric]:
        counts = self._reads.attempt(self._registry.count_by_status)
        if counts is None:
            return
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=["status"])
        for status in DOCUMENT_STATUSES:
            family.add_metric([status], counts.get(status, 0))
        yield family


class IndexLag(Collector):
    """``ragline_index_lag_seconds{bucket}`` and ``ragline_index_lag_sla_seconds{bucket}``.

    The same freshness ``GET /buckets/{name}`` reports (``ingest.freshness``), so the
    gauge and the API never disagree; the SLA is the bucket's ``max_lag_s`` or the default.
    """

    LAG = "ragline_index_lag_seconds"
    SLA = "ragline_index_lag_sla_seconds"
    LAG_HELP = "Age of the bucket's oldest change not yet searchable (0 when fresh)."
    SLA_HELP = "The bucket's freshness objective: the index lag it allows."

    def __init__(
        self,
        registry: DocumentRegistry,
        buckets: Buckets,
        runs: RefreshLog,
        *,
        default_max_lag_s: int,
        clock: Clock = _utc_now,
    ) -> None:
        self._registry = registry
        self._buckets = buckets
        self._runs = runs
        self._default_max_lag_s = default_max_lag_s
        self._clock = clock
        self._reads = _Reads(self.LAG)

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.LAG, self.LAG_HELP, labels=["bucket"])
        yield GaugeMetricFamily(self.SLA, self.SLA_HELP, labels=["bucket"])

    def _read(self) -> list[tuple[str, float, int]]:
        now = self._clock()
        rows = []
        for bucket in self._buckets.list_buckets():
            fresh = bucket_freshness(
                self._registry,
                self._runs,
                bucket,
                default_max_lag_s=self._default_max_lag_s,
                now=now,
            )
            rows.append((bucket.name, fresh.lag_s, fresh.max_lag_s))
        return rows

    def collect(self) -> Iterator[Metric]:
        rows = self._reads.attempt(self._read)
        if rows is None:
            return
        lag = GaugeMetricFamily(self.LAG, self.LAG_HELP, labels=["bucket"])
        sla = GaugeMetricFamily(self.SLA, self.SLA_HELP, labels=["bucket"])
        for name, lag_s, max_lag_s in rows:
            lag.add_metric([name], lag_s)
            sla.add_metric([name], max_lag_s)
        yield lag
        yield sla


class BudgetRatios(Collector):
    """``ragline_budget_spent_ratio{scope,subject,period}``: spend over the period's limit.

    The limit is the hard one, or the soft one where no hard limit is set; a period with
    neither has no series. 1 or more means the limit is reached.
    """

    NAME = "ragline_budget_spent_ratio"
    HELP = "Spend this UTC day or month over its hard limit (the soft one if no hard)."
    LABELS = ("scope", "subject", "period")

    def __init__(self, guard: BudgetGuard) -> None:
        self._guard = guard
        self._reads = _Reads(self.NAME)

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=list(self.LABELS))

    def collect(self) -> Iterator[Metric]:
        statuses = self._reads.attempt(self._guard.status)
        if statuses is None:
            return
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=list(self.LABELS))
        for status in statuses:
            for period, ratio in _ratios(status):
                family.add_metric([status.scope, status.subject, period], ratio)
        yield family


def _ratios(status: BudgetStatus) -> Iterator[tuple[str, float]]:
    periods = (
        ("day", status.day_spent_usd, status.daily_hard_usd, status.daily_soft_usd),
        ("month", status.month_spent_usd, status.monthly_hard_usd, status.monthly_soft_usd),
    )
    for period, spent, hard, soft in periods:
        limit = hard if hard is not None else soft
        if limit is not None:  # limits are > 0 (kernel.models_config.Limits)
            yield period, spent / limit


class ReleaseStage(Collector):
    """``ragline_release_stage_percent{release}``: the staged release's share of traffic.

    One series while a release is being rolled out, none otherwise (a release that
    became current or was rolled back is no longer staged).
    """

    NAME = "ragline_release_stage_percent"
    HELP = "Percent of callers the release being rolled out answers (its stage)."

    def __init__(self, book: ReleaseBook) -> None:
        self._book = book
        self._reads = _Reads(self.NAME)

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=["release"])

    def collect(self) -> Iterator[Metric]:
        active = self._reads.attempt(self._book.active)
        if active is None:
            return
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=["release"])
        staged = active[1]
        if staged is not None:
            family.add_metric([staged.id], staged.stage_percent)
        yield family


class ReleaseRollbacks(Collector):
    """``ragline_release_rollbacks_total{automatic}``: every rollback ever decided.

    Counted from the releases' events, not in the memory of the process that decided:
    the controller may run in a worker that serves no ``/metrics``, a rollback by the
    CLI runs in a process that exits at once, and every API replica then reports the
    same total (alert on ``max``, never ``sum``). Both labels are always there, 0 until
    the first rollback, so ``increase()`` sees the first one.
    """

    NAME = "ragline_release_rollbacks_total"
    HELP = "Releases rolled back, by the controller (automatic) or by hand."

    def __init__(self, book: ReleaseBook) -> None:
        self._book = book
        self._reads = _Reads(self.NAME)

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.NAME, self.HELP, labels=["automatic"])

    def collect(self) -> Iterator[Metric]:
        counts = self._reads.attempt(self._book.rollback_counts)
        if counts is None:
            return
        family = CounterMetricFamily(self.NAME, self.HELP, labels=["automatic"])
        for automatic in (True, False):
            family.add_metric([str(automatic).lower()], counts.get(automatic, 0))
        yield family


class PendingRecords(Collector):
    """``ragline_answer_records_pending``: answers given whose record is not yet written.

    Read from this process's writer (``governance.record_writer``), not the database: a
    value that keeps growing means the writer cannot keep up (or the database is slow),
    and answers are about to start writing their own records.
    """

    NAME = "ragline_answer_records_pending"
    HELP = "Answer records queued behind their answers, not yet written to the audit log."

    def __init__(self, pending: Callable[[], int]) -> None:
        self._pending = pending

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.NAME, self.HELP)

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.NAME, self.HELP, value=self._pending())


def register_scrape_collectors(metrics: Metrics, runtime: Runtime) -> None:
    """Put the database-backed gauges on ``metrics`` (the serving process's, once)."""
    metrics.register(DocumentCounts(runtime.registry))
    metrics.register(
        IndexLag(
            runtime.registry,
            runtime.ingestion.buckets,
            runtime.refresh_runs,
            default_max_lag_s=runtime.settings.refresh.default_max_lag_s,
        )
    )
    metrics.register(ReleaseStage(runtime.releases.book))
    metrics.register(ReleaseRollbacks(runtime.releases.book))
    records = runtime.records
    if records is not None:
        metrics.register(PendingRecords(lambda: records.pending))
    if runtime.generating is not None:
        metrics.register(BudgetRatios(runtime.generating.guard))
