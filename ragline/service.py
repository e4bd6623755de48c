"""Process wiring: settings -> runtime -> task queue -> API. The one composition root.

``create_app`` is the ASGI factory (``uvicorn ragline.service:create_app --factory``).
In embedded mode the Celery workers run in threads of this process (one per lane,
see ``workers.embedded``) and share its runtime; in distributed mode tasks go to the
broker for separate worker processes (``workers.standalone``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from api.app import build_app
from api.deps import AppServices
from ragline.runtime import open_runtime
from ragline.settings import Settings, ensure_local_key, get_settings
from retrieval.encoders import DenseEncoder
from workers.celery_app import RaglineCelery, create_celery
from workers.embedded import EmbeddedWorkers, requeue_unfinished
from workers.health import IngestionReadiness, PingProbe, WorkerProbe
from workers.parser_pool import use_parser_pool
from workers.tasks import enqueue_registered

log = logging.getLogger(__name__)


@contextmanager
def open_services(
    settings: Settings, *, dense: DenseEncoder | None = None
) -> Iterator[AppServices]:
    ensure_local_key(settings)
    runtime = open_runtime(settings, dense=dense)
    celery = create_celery(settings)
    workers: EmbeddedWorkers | None = None
    probe: WorkerProbe
    try:
        if settings.mode == "embedded":

            def lane_app() -> RaglineCelery:
                app = create_celery(settings)
                app.runtime = runtime
                return app

            workers = EmbeddedWorkers.lanes(lane_app, settings.workers.general_threads)
            use_parser_pool(runtime, workers.size)
            workers.start()
            requeued = requeue_unfinished(celery, runtime.registry)
            if requeued:
                log.info("requeued %d unfinished documents", requeued)
            probe = workers
        else:
            probe = PingProbe(celery, settings.workers.ping_timeout_s)

        def enqueue(document_id: str) -> None:
            enqueue_registered(celery, runtime.registry, document_id)

        yield AppServices(
            runtime=runtime,
            enqueue_ingest=enqueue,
            key_roles=settings.key_roles(),
            ingestion_checks=IngestionReadiness(celery, probe),
        )
    finally:
        if workers is not None:
            workers.stop()
        celery.close()
        runtime.close()


def create_app(settings: Settings | None = None, *, dense: DenseEncoder | None = None) -> FastAPI:
    resolved = settings or get_settings()
    return build_app(lambda: open_services(resolved, dense=dense))
