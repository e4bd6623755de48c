"""The Celery application, built from settings (never at import time).

Embedded mode: the broker is a SQLite file under the data directory (kombu's
SQLAlchemy transport), so a document accepted with 202 survives a restart, and
the worker runs in threads of the serving process (``workers.embedded``).
Distributed mode: the broker URL from settings (Redis or RabbitMQ), worked by
separate processes (``ragline.worker``).

Publishing is bounded: a broker that refuses connections fails a send within about a
second, one that accepts them but does not answer within ``BROKER_SOCKET_TIMEOUT_S``
(a send makes one retry, ``PUBLISH_RETRY_POLICY``), so an upload during a broker
outage answers 503 promptly instead of holding its request (``workers.tasks``).

Two ingestion queues, two lanes: documents up to ``workers.small_document_bytes`` go to
``ingest_small``, the rest to ``ingest``, and each queue has its own workers, so a
slow or pathological large file never holds a small one behind it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from celery import Celery

from kernel.settings import Settings
from workers.task_context import connect_task_context

if TYPE_CHECKING:
    from ingest.pipeline import IngestionDeps
    from ingest.ports import DocumentRegistry, RefreshLog
    from ingest.refresh import RefreshPolicy
    from ingest.reindex import ReindexLog, ReindexPolicy


class TaskRuntime(Protocol):
    """What tasks need of the process's runtime; the shell builds it and attaches it."""

    @property
    def ingestion(self) -> IngestionDeps: ...

    @property
    def registry(self) -> DocumentRegistry: ...

    @property
    def refresh_runs(self) -> RefreshLog: ...

    @property
    def refresh_policy(self) -> RefreshPolicy: ...

    @property
    def reindex_runs(self) -> ReindexLog: ...

    @property
    def reindex_policy(self) -> ReindexPolicy: ...

    def stopping(self) -> bool:
        """The process is shutting down: long tasks wind up instead of waiting."""
        ...


INGEST_QUEUE = "ingest"
INGEST_SMALL_QUEUE = "ingest_small"
# Refreshes list buckets and wait for their ingestions: a lane of their own, so a
# long refresh never holds a document's ingestion (nor needs a parser).
REFRESH_QUEUE = "refresh"
ALL_QUEUES = (INGEST_QUEUE, INGEST_SMALL_QUEUE, REFRESH_QUEUE)

# Seconds to open a connection to the broker, and to wait for any one reply on it.
# Kombu's Redis transport waits forever for a reply by default: a broker that vanished
# without closing the connection (failover, a NAT or firewall timeout) would hold a send.
# A worker's blocking read (BRPOP) asks the broker for a reply within 1 s, so 4 s is
# ample for it.
BROKER_CONNECT_TIMEOUT_S = 2.0
BROKER_SOCKET_TIMEOUT_S = 4.0
# One quick retry of a send (a pooled connection the broker dropped is replaced on it).
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}


class RaglineCelery(Celery):  # type: ignore[misc]
    """A Celery app that carries the process's runtime for its tasks to use."""

    runtime: TaskRuntime | None = None
    small_document_bytes: int = 0


def broker_url(settings: Settings) -> str:
    if settings.broker.url:
        return settings.broker.url
    return f"sqla+sqlite:///{(settings.data_dir / 'queue.db').resolve()}"


def socket_timeouts(url: str, *, connect_s: float, reply_s: float) -> dict[str, float]:
    """Kombu transport options bounding a connection's waits, for brokers that take them.

    Redis does (``redis://``, ``rediss://``, ``sentinel://``). The embedded queue's
    SQLAlchemy transport hands its options to ``create_engine``, which refuses these;
    AMQP bounds its connect with ``broker_connection_timeout`` and reads by heartbeats.
    """
    if url.split("://", 1)[0] not in ("redis", "rediss", "sentinel"):
        return {}
    return {"socket_connect_timeout": connect_s, "socket_timeout": reply_s}


def redelivery(url: str, visibility_timeout_s: int) -> dict[str, int]:
    """Redis: a task whose worker died unacknowledged is delivered again this long after
    it was taken; every worker looks for such tasks every 10 s (kombu's default, 100 s).

    Other transports: RabbitMQ gives it back when the connection drops; the embedded
    queue's SQLAlchemy transport would pass these options to ``create_engine``.
    """
    if url.split("://", 1)[0] not in ("redis", "rediss", "sentinel"):
        return {}
    return {"visibility_timeout": visibility_timeout_s, "unacked_restore_throttle": 1}


def queue_for(size_bytes: int | None, small_document_bytes: int) -> str:
    """The lane of a document: unknown sizes go to the general lane, never the small one."""
    if size_bytes is not None and size_bytes <= small_document_bytes:
        return INGEST_SMALL_QUEUE
    return INGEST_QUEUE


def create_celery(
    settings: Settings, app_class: type[RaglineCelery] = RaglineCelery
) -> RaglineCelery:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = broker_url(settings)
    app = app_class("ragline", broker=url, set_as_current=False)
    app.small_document_bytes = settings.workers.small_document_bytes
    app.conf.update(
        include=["workers.tasks"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=INGEST_QUEUE,
        worker_redirect_stdouts=False,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_timeout=BROKER_CONNECT_TIMEOUT_S,
        broker_transport_options={
            **socket_timeouts(
                url, connect_s=BROKER_CONNECT_TIMEOUT_S, reply_s=BROKER_SOCKET_TIMEOUT_S
            ),
            **redelivery(url, settings.broker.visibility_timeout_s),
        },
        task_publish_retry_policy=PUBLISH_RETRY_POLICY,
    )
    # Tasks are defined with shared_task; importing the module binds them to this app.
    import workers.tasks  # noqa: F401

    # Every task sent and run carries the request id and trace of what sent it.
    connect_task_context()

    return app
