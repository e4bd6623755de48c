"""The embedded mode's workers: real Celery workers, in threads of the serving process.

One process owns the in-process index (qdrant-edge allows one writer per path), so
the workers share the API's runtime instead of opening their own. Each lane (queue)
has its own solo-pool worker thread(s): a small document never waits behind a large
one, and with one parser process per thread (``ingest.parsing.pool``) no thread
waits for another thread's parse.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from ingest.ports import DocumentRegistry
from workers.celery_app import INGEST_QUEUE, INGEST_SMALL_QUEUE, REFRESH_QUEUE, RaglineCelery
from workers.health import OK, UNAVAILABLE
from workers.tasks import enqueue_ingest

log = logging.getLogger(__name__)


class EmbeddedWorker:
    """One solo-pool Celery worker on one queue, in a daemon thread, with its own app.

    A Celery worker selects its queues on its app (``app.amqp.queues.select``), so
    two workers on one app would both consume whichever queue was selected last.
    """

    def __init__(self, app: RaglineCelery, queue: str, name: str) -> None:
        self.queue = queue
        self._app = app
        self._worker = app.Worker(
            hostname=f"{name}@embedded",
            pool="solo",
            concurrency=1,
            loglevel="WARNING",
            quiet=True,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            queues=[queue],
        )
        self._thread = threading.Thread(target=self._worker.start, name=name, daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        if self._thread.is_alive():
            self._worker.stop(in_sighandler=False)
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                name = self._thread.name
                log.warning("ingestion worker %s did not stop within %.0f s", name, timeout_s)
        self._app.close()


class EmbeddedWorkers:
    """Every lane's worker threads; ``threads_per_queue`` maps a queue to its thread count.

    ``make_app`` builds one app per worker, carrying the shared runtime.
    """

    def __init__(
        self, make_app: Callable[[], RaglineCelery], threads_per_queue: Mapping[str, int]
    ) -> None:
        self.workers = [
            EmbeddedWorker(make_app(), queue, f"ragline-{queue}-{n}")
            for queue, count in threads_per_queue.items()
            for n in range(count)
        ]

    @classmethod
    def lanes(cls, make_app: Callable[[], RaglineCelery], general_threads: int) -> EmbeddedWorkers:
        return cls(
            make_app, {INGEST_SMALL_QUEUE: 1, INGEST_QUEUE: general_threads, REFRESH_QUEUE: 1}
        )

    @property
    def size(self) -> int:
        return len(self.workers)

    @property
    def parsing_threads(self) -> int:
        """Threads that parse (each needs a parser process); the refresh lane never does."""
        return sum(worker.queue != REFRESH_QUEUE for worker in self.workers)

    def check(self) -> str:
        """``"ok"`` while every worker thread runs: a dead lane would strand its queue."""
        return OK if all(worker.alive for worker in self.workers) else UNAVAILABLE

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        for worker in self.workers:
            worker.stop(timeout_s)


def requeue_unfinished(app: RaglineCelery, registry: DocumentRegistry) -> int:
    """Queue again what a previous process accepted but did not finish, each in its lane.

    Messages are durable, but a process killed mid-document leaves it 'processing';
    ingestion is idempotent, so sending it again is always safe.
    """
    pending = registry.list_documents(status="queued", limit=100_000)
    pending += registry.list_documents(status="processing", limit=100_000)
    for doc in pending:
        enqueue_ingest(app, doc.id, doc.size_bytes)
    return len(pending)
