"""Celery tasks: thin wrappers over ``ingest.pipeline``; ids in, nothing heavy in messages."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from kombu.exceptions import OperationalError as KombuOperationalError

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
# What a client is told to wait before asking again when the broker is down.
BROKER_RETRY_AFTER_S = 30


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
    # With the request id of the upload that sent it (workers.task_context): one id from
    # the access line to the document's outcome.
    log.info("ingesting document %s (attempt %d)", document_id, self.request.retries + 1)
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
    log.info(
        "document %s ingested: %s (%d chunks, %d attachments)",
        document_id,
        result.outcome,
        result.chunks,
        len(result.children),
    )
    for child in result.children:
        enqueue_registered(self.app, runtime.registry, child)
    return result.outcome


def _send(app: Any, task: str, arg: str, queue: str, *, kept: str) -> None:
    """Send one task; a broker that cannot take it raises ``DependencyUnavailableError``.

    The send is bounded (``workers.celery_app``: connect and reply timeouts, one retry).
    What the task is about is already recorded as queued when this runs, so ``kept``
    tells the client it is not lost: ``workers.resend`` sends it again once the broker
    is back. The broker's own error (which names its host) goes to the log only.
    """
    try:
        app.send_task(task, args=[arg], expires=TASK_EXPIRES_S, queue=queue)
    except (KombuOperationalError, OSError) as exc:
        log.warning("could not send %s for %s to the broker: %s", task, arg, exc)
        raise DependencyUnavailableError(
            f"The message broker is unavailable: {kept}",
            retry_after_s=BROKER_RETRY_AFTER_S,
        ) from exc


def enqueue_ingest(app: Any, document_id: str, size_bytes: int | None = None) -> str:
    """Send the document to its lane by size; returns the queue's name (for tests and logs).

    Raises ``DependencyUnavailableError`` when the broker cannot take the task.
    """
    queue = queue_for(size_bytes, app.small_document_bytes)
    _send(
        app,
        INGEST_TASK,
        document_id,
        queue,
        kept=f"document '{document_id}' is stored and queued, and will be ingested once the "
        "broker is back; there is no need to send it again.",
    )
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
    """Send a queued refresh run to the refresh lane (``DependencyUnavailableError`` if the
    broker cannot take it)."""
    _send(
        app,
        REFRESH_TASK,
        run_id,
        REFRESH_QUEUE,
        kept=f"refresh '{run_id}' is recorded as queued and will start once the broker is back.",
    )


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
    """On the refresh lane: long, rare, and never in the way of a document's ingestion.

    Raises ``DependencyUnavailableError`` when the broker cannot take the task.
    """
    _send(
        app,
        REINDEX_TASK,
        run_id,
        REFRESH_QUEUE,
        kept=f"re-index '{run_id}' is recorded as queued and will start once the broker is back.",
    )
