"""A request's id (and trace) carried into the tasks it sends, and set while they run.

When a task is published (Celery's ``before_task_publish``: every send, whichever
helper made it, retries and a task's own child tasks included) the current request id
goes into the message's headers as :data:`REQUEST_ID_HEADER`, with the W3C trace
context when tracing is on. When a worker runs the task (``task_prerun`` to
``task_postrun``, on the thread that runs it) the id is set again
(:mod:`observability.log_context`) and the task gets a span under the request's trace,
so the upload's access line and the ingestion's log lines share one ``request_id`` and
its spans one trace.

A task nobody's request sent (a scheduled refresh, a re-queue at start-up) starts an
id of its own, which the tasks it sends in turn carry.
"""

from __future__ import annotations

import logging
import threading
import uuid
from contextvars import Token
from typing import Any

from celery import signals

from observability.log_context import bind_request_id, current_request_id, release_request_id
from observability.tracing import TaskSpan, inject_trace_context, start_task_span

__all__ = ["REQUEST_ID_HEADER", "connect_task_context"]

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "ragline_request_id"
_DISPATCH = "ragline-task-context"

# What task_prerun opened, for task_postrun to close (keyed by task id; a task runs on
# one thread from one signal to the other).
_open: dict[str, tuple[Token[str | None], TaskSpan | None]] = {}
_open_lock = threading.Lock()


def connect_task_context() -> None:
    """Connect the three signal receivers (idempotent: Celery keys them by dispatch uid)."""
    signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid=_DISPATCH)
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid=_DISPATCH)
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid=_DISPATCH)


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    request_id = current_request_id()
    if request_id is not None:
        headers[REQUEST_ID_HEADER] = request_id
    inject_trace_context(headers)


def _header(task: Any, name: str) -> Any:
    request = getattr(task, "request", None)
    value = getattr(request, name, None)
    if value is None:  # some paths keep custom headers in a `headers` mapping instead
        extra = getattr(request, "headers", None)
        value = extra.get(name) if isinstance(extra, dict) else None
    return value


def _on_prerun(task_id: str | None = None, task: Any = None, args: Any = None, **_: Any) -> None:
    if task_id is None or task is None:
        return
    carried = _header(task, REQUEST_ID_HEADER)
    request_id = carried if isinstance(carried, str) and carried else uuid.uuid4().hex
    token = bind_request_id(request_id)
    name = str(getattr(task, "name", "task"))
    attributes = {"celery.task_name": name, "celery.task_id": task_id}
    if args:  # ragline's tasks take one id: the document's, or the refresh or re-index run's
        attributes["ragline.task.subject_id"] = str(args[0])[:128]
    span = start_task_span(name, lambda key: _header(task, key), attributes)
    with _open_lock:
        _open[task_id] = (token, span)


def _on_postrun(
    task_id: str | None = None, retval: Any = None, state: str | None = None, **_: Any
) -> None:
    if task_id is None:
        return
    with _open_lock:
        opened = _open.pop(task_id, None)
    if opened is None:
        return
    token, span = opened
    try:
        if span is not None:
            outcome = retval if isinstance(retval, str) else None
            span.end(outcome, failed=state not in (None, "SUCCESS"))
    finally:
        try:
            release_request_id(token)
        except ValueError:  # set in another context (never expected): leave it be
            log.debug("task %s: request id set in another context", task_id)
