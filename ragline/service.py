"""Process wiring: settings -> runtime -> task queue -> API. The one composition root.

``create_app`` is the ASGI factory (``uvicorn ragline.service:create_app --factory``).
In embedded mode the Celery worker runs in a thread of this process and shares its
runtime; in distributed mode tasks go to the broker for separate worker processes.
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
from workers.celery_app import create_celery
from workers.embedded import EmbeddedWorker, requeue_unfinished
from workers.tasks import enqueue_ingest

log = logging.getLogger(__name__)


@contextmanager
def open_services(
    settings: Settings, *, dense: DenseEncoder | None = None
) -> Iterator[AppServices]:
    ensure_local_key(settings)
    runtime = open_runtime(settings, dense=dense)
    celery = create_celery(settings)
    worker: EmbeddedWorker | None = None
    try:
        if settings.mode == "embedded":
            celery.runtime = runtime
            worker = EmbeddedWorker(celery)
            worker.start()
            requeued = requeue_unfinished(celery, runtime.registry)
            if requeued:
                log.info("requeued %d unfinished documents", requeued)
        yield AppServices(
            runtime=runtime,
            enqueue_ingest=lambda document_id: enqueue_ingest(celery, document_id),
            key_roles=settings.key_roles(),
        )
    finally:
        if worker is not None:
            worker.stop()
        celery.close()
        runtime.close()


def create_app(settings: Settings | None = None, *, dense: DenseEncoder | None = None) -> FastAPI:
    resolved = settings or get_settings()
    return build_app(lambda: open_services(resolved, dense=dense))
