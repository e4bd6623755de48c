"""A worker in a process of its own (distributed mode): it builds its own runtime.

Two ways to run one, same behaviour:

- ``run_worker(settings, queues)`` (what ``ragline worker`` calls);
- ``celery -A ragline.worker worker -Q ingest,ingest_small``: the module builds
  its app from ``get_settings()`` on first access of ``app`` (PEP 562), so importing
  it reads nothing and opens nothing.

The runtime is opened when the worker starts, where tasks will run: in the worker
process for the ``threads`` and ``solo`` pools (one parser process per thread), in
each child for ``prefork``; it is closed when that process shuts down. Run one
worker per lane (``-Q ingest_small`` and ``-Q ingest``) so that small documents
keep their own capacity. The index must be one the worker may open: a Qdrant
server (``RAGLINE_QDRANT__URL``), or a local path no other process holds.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from typing import Any
from wsgiref.simple_server import WSGIServer

from celery import signals
from celery.concurrency import get_implementation
from celery.concurrency.prefork import TaskPool as PreforkPool
from prometheus_client import start_http_server

from kernel.errors import ConfigurationError
from kernel.settings import Settings, get_settings
from observability.tracing import Tracing, start_tracing, stop_tracing
from ragline.logging_setup import configure_logging
from ragline.parser_pool import use_parser_pool
from ragline.runtime import Runtime, open_runtime
from workers.celery_app import ALL_QUEUES, RaglineCelery, create_celery

log = logging.getLogger(__name__)

_lock = threading.Lock()
_app: StandaloneCelery | None = None  # the app of `celery -A ragline.worker`
_prefork_app: StandaloneCelery | None = None  # inherited by the pool's forked children
# Runtimes this process opened, for the shutdown signal (it names no app).
_opened: weakref.WeakSet[Runtime] = weakref.WeakSet()


class StandaloneCelery(RaglineCelery):
    """An app whose workers open their own runtime from ``settings``."""

    settings: Settings
    opened: Runtime | None = None  # the runtime this process opened, to close at shutdown
    metrics_server: WSGIServer | None = None  # this process's /metrics, when a port is set
    tracing: Tracing | None = None  # this process's trace pipeline, when tracing is on


def create_worker_app(settings: Settings) -> StandaloneCelery:
    app = create_celery(settings, StandaloneCelery)
    assert isinstance(app, StandaloneCelery)
    app.settings = settings
    app.conf.update(worker_pool="threads", worker_concurrency=settings.workers.general_threads)
    return app


def run_worker(
    settings: Settings,
    queues: Sequence[str] = ALL_QUEUES,
    *,
    concurrency: int | None = None,
    loglevel: str = "INFO",
) -> int:
    """Run a worker on ``queues`` in this process until SIGTERM/SIGINT; returns its exit code."""
    unknown = set(queues) - set(ALL_QUEUES)
    if unknown or not queues:
        raise ConfigurationError(f"worker queues must be among: {', '.join(ALL_QUEUES)}")
    app = create_worker_app(settings)
    worker = app.Worker(
        pool="threads",
        concurrency=concurrency or settings.workers.general_threads,
        queues=list(queues),
        loglevel=loglevel,
        hostname=f"ragline-{'+'.join(queues)}@%h",
    )
    worker.start()
    code: int = worker.exitcode or 0
    return code


def _open_runtime(app: StandaloneCelery, parsers: int) -> None:
    if app.runtime is not None:
        return
    runtime = open_runtime(app.settings)
    try:
        if parsers > 1:
            use_parser_pool(runtime, parsers)
    except BaseException:
        runtime.close()
        raise
    app.runtime = app.opened = runtime
    _opened.add(runtime)
    app.tracing = start_tracing(app.settings.tracing, "worker")
    log.info("worker runtime open (%d parser process(es))", parsers)


def _open_or_exit(app: StandaloneCelery, parsers: int) -> None:
    """Open the runtime, or stop the process saying why.

    Celery logs and swallows an exception from a signal receiver, so a worker whose
    runtime cannot open (database unreachable, schema behind, bad index) would report
    ready and then fail every task it takes. SystemExit is not swallowed: the worker
    exits non-zero, and its supervisor sees it.
    """
    try:
        _open_runtime(app, parsers)
    except Exception as exc:
        log.critical("worker cannot start: %s", exc, exc_info=True)
        # The detail is in the (masked) log line: an exception's text may hold a URL's password.
        raise SystemExit(f"worker cannot start: {type(exc).__name__} (see the log)") from exc


def _serve_metrics(app: StandaloneCelery) -> None:
    """Every process exposes its own series: this one's on ``metrics.worker_port``, if set.

    Prometheus scrapes each worker and sums; the registry is the runtime's, so the
    counters are those of the tasks this process ran. Anyone who reaches the port may
    read it (no key, unlike the API's /metrics): keep it on the scrape network.
    """
    port = app.settings.metrics.worker_port
    if port is None or app.opened is None or app.metrics_server is not None:
        return
    app.metrics_server, _ = start_http_server(port, registry=app.opened.metrics.registry)
    log.info("worker metrics served on port %d", port)


def _stop_metrics(app: StandaloneCelery) -> None:
    server, app.metrics_server = app.metrics_server, None
    if server is not None:
        server.shutdown()
        server.server_close()


def _close_runtime(app: StandaloneCelery) -> None:
    _stop_metrics(app)
    runtime, app.runtime, app.opened = app.opened, None, None
    if runtime is not None:
        runtime.close()
    tracing, app.tracing = app.tracing, None
    stop_tracing(tracing)


def _is_prefork(pool_cls: Any) -> bool:
    cls = get_implementation(pool_cls) if isinstance(pool_cls, str) else pool_cls
    return isinstance(cls, type) and issubclass(cls, PreforkPool)


@signals.setup_logging.connect
def _on_setup_logging(**_: Any) -> None:
    """``celery -A ragline.worker worker``: ragline's logging, not Celery's (a receiver
    here tells Celery to configure none). ``ragline worker`` configured it already."""
    if logging.getLogger().handlers:
        return
    try:
        settings: Settings | None = get_settings()
    except (ValueError, ConfigurationError):
        settings = None  # the worker itself will refuse the configuration, and say why
    configure_logging(settings)


@signals.worker_init.connect
def _on_worker_init(sender: Any, **_: Any) -> None:
    global _prefork_app
    app = getattr(sender, "app", None)
    if not isinstance(app, StandaloneCelery):
        return
    if _is_prefork(sender.pool_cls):
        _prefork_app = app  # each child opens its own runtime (worker_process_init)
        if app.settings.metrics.worker_port is not None:
            log.warning(
                "metrics.worker_port is served by the threads and solo pools only: "
                "prefork children cannot share one port"
            )
        return
    _open_or_exit(app, int(sender.concurrency or 1))
    _serve_metrics(app)


@signals.worker_shutting_down.connect
def _on_worker_shutting_down(**_: Any) -> None:
    """A warm shutdown waits for running tasks: let a waiting refresh wind up now."""
    for runtime in list(_opened):
        runtime.stop_long_tasks()


@signals.worker_shutdown.connect
def _on_worker_shutdown(sender: Any, **_: Any) -> None:
    app = getattr(sender, "app", None)
    if isinstance(app, StandaloneCelery):
        _close_runtime(app)


@signals.worker_process_init.connect
def _on_child_init(**_: Any) -> None:
    if _prefork_app is not None:
        _open_or_exit(_prefork_app, 1)


@signals.worker_process_shutdown.connect
def _on_child_shutdown(**_: Any) -> None:
    if _prefork_app is not None:
        _close_runtime(_prefork_app)


def __getattr__(name: str) -> Any:
    """``app`` for ``celery -A ragline.worker``, built from the environment on first use."""
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:
        if _app is None:
            _app = create_worker_app(get_settings())
        return _app


if __name__ == "__main__":  # python -m ragline.worker [queue ...]
    import sys

    configure_logging(get_settings(), "INFO")
    raise SystemExit(run_worker(get_settings(), sys.argv[1:] or ALL_QUEUES))
