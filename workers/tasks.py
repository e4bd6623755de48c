"""Celery tasks: thin wrappers over ``ingest.pipeline``; ids in, nothing heavy in messages."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from ingest.pipeline import ingest_document, record_unexpected_failure
from ingest.ports import DocumentRegistry
from ingest.refresh import run_refresh
from ingest.reindex import run_reindex
from kernel.errors import DependencyUnavailableError, NotFoundError
from workers.celery_app import REFRESH_QUEUE, queue_for

log = logging.getLogger(__name__)

INGEST_TASK = "ragline.ingest_document"
REFRESH_TASK = "ragline.refresh_bucket"
REINDEX_TASK = "ragline.reindex"
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


@shared_task(name=REFRESH_TASK, bind=True, acks_late=True)
def refresh_bucket_task(self: Any, run_id: str) -> str:
    """Carry out a queued refresh; its ingestions go to the ingestion lanes."""
    runtime = self.app.runtime
    if runtime is None:
        raise RuntimeError("worker started without a runtime (see workers.embedded)")

    def submit(document_id: str) -> None:
        enqueue_registered(self.app, runtime.registry, document_id)

    try:
        run = run_refresh(
            runtime.ingestion,
            runtime.refresh_runs,
            run_id,
            submit=submit,
            policy=runtime.refresh_policy,
            stopping=runtime.stopping,
        )
    except NotFoundError:
        log.info("refresh %s: its bucket was deleted", run_id)
        return "deleted"
    return run.status


def enqueue_refresh(app: Any, run_id: str) -> None:
    app.send_task(REFRESH_TASK, args=[run_id], expires=TASK_EXPIRES_S, queue=REFRESH_QUEUE)


@shared_task(name=REINDEX_TASK, bind=True, acks_late=True)
def reindex_task(self: Any, run_id: str) -> str:
    """Carry out a queued re-index: a new generation of the index, built, then switched in."""
    runtime = self.app.runtime
    if runtime is None:
        raise RuntimeError("worker started without a runtime (see workers.embedded)")
    run = run_reindex(
        runtime.ingestion,
        runtime.reindex_runs,
        run_id,
        policy=runtime.reindex_policy,
        stopping=runtime.stopping,
    )
    return run.status


def enqueue_reindex(app: Any, run_id: str) -> None:
    """On the refresh lane: long, rare, and never in the way of a document's ingestion."""
    app.send_task(REINDEX_TASK, args=[run_id], expires=TASK_EXPIRES_S, queue=REFRESH_QUEUE)
