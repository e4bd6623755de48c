"""Process wiring: settings -> runtime -> task queue -> API. The one composition root.

``create_app`` is the ASGI factory (``uvicorn ragline.service:create_app --factory``).
In embedded mode the Celery workers run in threads of this process (one per lane,
see ``workers.embedded``) and share its runtime; in distributed mode tasks go to the
broker for separate worker processes (``ragline.worker``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from api.app import build_app
from api.deps import AppServices
from governance.erasure import AnswerErasure
from governance.keys import KeyStore
from governance.retention import Retention
from governance.tokens import TokenVerifier
from kernel.settings import Settings, ensure_local_key, get_settings
from observability.latency_slo import LatencyWindow
from observability.tracing import start_tracing, stop_tracing
from ragline.config_audit import record_configuration
from ragline.logging_setup import ensure_logging
from ragline.metrics_collectors import register_scrape_collectors
from ragline.parser_pool import use_parser_pool
from ragline.runtime import Runtime, open_runtime
from ragline.scheduler import beat_for
from retrieval.encoders import DenseEncoder
from workers.beat import Beat
from workers.celery_app import RaglineCelery, create_celery
from workers.embedded import EmbeddedWorkers, requeue_unfinished
from workers.health import IngestionReadiness, PingProbe, WorkerProbe
from workers.tasks import enqueue_refresh, enqueue_registered, enqueue_reindex

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger(__name__)


@contextmanager
def open_services(
    settings: Settings,
    *,
    dense: DenseEncoder | None = None,
    prepare: Callable[[Runtime], None] | None = None,
    span_exporter: SpanExporter | None = None,
) -> Iterator[AppServices]:
    """Open the runtime, start the embedded workers, hand the API what it needs.

    ``dense`` lets tests share one loaded model; ``prepare`` sees the runtime before
    any worker starts (tests use it to put a parser double in front of the pool);
    ``span_exporter`` turns tracing on with that exporter (tests: an in-memory one).
    """
    ensure_local_key(settings)
    ensure_logging(settings)
    runtime = open_runtime(settings, dense=dense, serving=True)
    record_configuration(runtime.audit, settings)
    celery = create_celery(settings)
    workers: EmbeddedWorkers | None = None
    beat: Beat | None = None
    probe: WorkerProbe
    # Before the embedded workers start: their task spans go to the same pipeline.
    tracing = start_tracing(settings.tracing, "api", exporter=span_exporter)
    try:
        if settings.mode == "embedded":

            def lane_app() -> RaglineCelery:
                app = create_celery(settings)
                app.runtime = runtime
                return app

            workers = EmbeddedWorkers.lanes(lane_app, settings.workers.general_threads)
            use_parser_pool(runtime, workers.parsing_threads)
            if prepare is not None:
                prepare(runtime)
            workers.start()
            requeued = requeue_unfinished(celery, runtime.registry)
            if requeued:
                log.info("requeued %d unfinished documents", requeued)
            probe = workers
        else:
            probe = PingProbe(celery, settings.workers.ping_timeout_s)

        def enqueue(document_id: str) -> None:
            enqueue_registered(celery, runtime.registry, document_id)

        def start_refresh(run_id: str) -> None:
            enqueue_refresh(celery, run_id)

        def start_reindex(run_id: str) -> None:
            enqueue_reindex(celery, run_id)

        if settings.mode == "embedded":
            beat = beat_for(
                runtime.schedules,
                runtime.ingestion.buckets,
                runtime.refresh_runs,
                start_refresh,
                settings.refresh.beat_interval_s,
                purge=Retention(runtime.audit, settings.audit).purge_if_due,
                releases=runtime.releases.tick,
            )
            beat.start()

        # This process's counts of answers per release, written every few seconds.
        runtime.release_router.start_flushing()
        latency = LatencyWindow(settings.metrics.slos, settings.metrics.window_s)
        runtime.metrics.register(latency)
        register_scrape_collectors(runtime.metrics, runtime)
        yield AppServices(
            settings=settings,
            registry=runtime.registry,
            ingestion=runtime.ingestion,
            answers=runtime.answers,
            enqueue_ingest=enqueue,
            keys=settings.key_identities(),
            ingestion_checks=IngestionReadiness(celery, probe),
            answers_without_registry=runtime.retriever.served_memory.usable,
            refresh_runs=runtime.refresh_runs,
            schedules=runtime.schedules,
            enqueue_refresh=start_refresh,
            reindex_runs=runtime.reindex_runs,
            enqueue_reindex=start_reindex,
            prompts=runtime.prompts,
            releases=runtime.releases,
            review=runtime.review,
            audit=runtime.audit,
            erasure=AnswerErasure(runtime.audit),
            metrics=runtime.metrics,
            latency=latency,
            budgets=runtime.generating.guard if runtime.generating else None,
            managed_keys=KeyStore(runtime.registry.engine),
            tokens=TokenVerifier.from_settings(settings.auth),
        )
    finally:
        runtime.stop_long_tasks()
        runtime.release_router.stop()
        if beat is not None:
            beat.stop()
        if workers is not None:
            workers.stop()
        celery.close()
        runtime.close()
        stop_tracing(tracing)


def create_app(
    settings: Settings | None = None,
    *,
    dense: DenseEncoder | None = None,
    prepare: Callable[[Runtime], None] | None = None,
    span_exporter: SpanExporter | None = None,
) -> FastAPI:
    resolved = settings or get_settings()
    return build_app(
        lambda: open_services(resolved, dense=dense, prepare=prepare, span_exporter=span_exporter)
    )
