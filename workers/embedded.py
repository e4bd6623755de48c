"""The embedded mode's worker: the real Celery worker, in a thread of the serving process.

One process owns the in-process index (qdrant-edge allows one writer per path), so
the worker shares the API's runtime instead of opening its own.
"""

from __future__ import annotations

import logging
import threading

from ingest.registry import Registry
from workers.celery_app import RaglineCelery
from workers.tasks import enqueue_ingest

log = logging.getLogger(__name__)


class EmbeddedWorker:
    def __init__(self, app: RaglineCelery) -> None:
        self._app = app
        self._worker = app.Worker(
            pool="solo",
            concurrency=1,
            loglevel="WARNING",
            quiet=True,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            queues=["ingest"],
        )
        self._thread = threading.Thread(
            target=self._worker.start, name="ragline-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        if not self._thread.is_alive():
            return
        self._worker.stop(in_sighandler=False)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("ingestion worker did not stop within %.0f s", timeout_s)


def requeue_unfinished(app: RaglineCelery, registry: Registry) -> int:
    """Queue again what a previous process accepted but did not finish.

    Messages are durable, but a process killed mid-document leaves it 'processing';
    ingestion is idempotent, so sending it again is always safe.
    """
    pending = registry.list_documents(status="queued", limit=100_000)
    pending += registry.list_documents(status="processing", limit=100_000)
    for doc in pending:
        enqueue_ingest(app, doc.id)
    return len(pending)
