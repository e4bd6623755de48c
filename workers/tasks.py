"""Celery tasks: thin wrappers over ``ingest.pipeline``; ids in, nothing heavy in messages."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from ingest.pipeline import ingest_document, record_unexpected_failure
from ingest.ports import DocumentRegistry
from kernel.errors import DependencyUnavailableError, NotFoundError
from workers.celery_app import queue_for

log = logging.getLogger(__name__)

INGEST_TASK = "ragline.ingest_document"
TASK_EXPIRES_S = 24 * 3600


@shared_task(
    name=INGEST_TASK,
    bind=True,
    acks_late=True,
    autoretry_for=(DependencyUnavailableError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def ingest_document_task(self: Any, document_id: str) -> str:
    runtime = self.app.runtime
    if runtime is None:
        raise RuntimeError("worker started without a runtime (see workers.embedded)")
    deps = runtime.ingestion
    try:
        result = ingest_document(deps, document_id)
    except NotFoundError:
        log.info("document %s was deleted before ingestion; nothing to do", document_id)
        return "deleted"
    except DependencyUnavailableError:
        raise
    except Exception as exc:
        log.exception("ingestion of %s crashed", document_id)
        record_unexpected_failure(deps, document_id, exc)
        return "failed"
    for child in result.children:
        enqueue_registered(self.app, runtime.registry, child)
    return result.outcome


def enqueue_ingest(app: Any, document_id: str, size_bytes: int | None = None) -> str:
    """Send the document to its lane by size; returns the queue's name (for tests and logs)."""
    queue = queue_for(size_bytes, app.small_document_bytes)
    app.send_task(INGEST_TASK, args=[document_id], expires=TASK_EXPIRES_S, queue=queue)
    return queue


def enqueue_registered(app: Any, registry: DocumentRegistry, document_id: str) -> str:
    """Like :func:`enqueue_ingest`, with the size read from the registry."""
    try:
        size_bytes: int | None = registry.get(document_id).size_bytes
    except NotFoundError:
        size_bytes = None  # deleted meanwhile: the task will find nothing to do
    return enqueue_ingest(app, document_id, size_bytes)
