"""Optional OpenTelemetry traces: a span per HTTP request, per answer stage, per task.

Off unless ``tracing.otlp_endpoint`` is set: then nothing here builds a provider, an
exporter or a span, and the SDK is not even imported (the helpers below find no tracer
and do nothing). On, each process that serves (the API, a worker) starts one
:class:`Tracing` (a ``TracerProvider`` with a ``BatchSpanProcessor`` in front of an
``OTLPSpanExporter`` over HTTP/protobuf) and stops it when it closes, which sends what
is still batched.

The provider is this module's, not OpenTelemetry's global one: the global can be set
once per process, while a process (and a test run) may open and close services more
than once. The trace crosses processes as W3C ``traceparent``/``tracestate``: read from
an incoming request's headers (a proxy's trace is continued), written into a Celery
task's headers when one is sent, read back by the worker for the task's span.

Spans carry route templates, status codes, task names and ids, never a raw path, a
query, a key or a question.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from kernel.settings import TracingSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "TRACE_HEADERS",
    "RequestSpan",
    "TaskSpan",
    "Tracing",
    "active_tracer",
    "active_tracing",
    "inject_trace_context",
    "request_span",
    "start_task_span",
    "start_tracing",
    "stop_tracing",
    "traces_url",
]

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
INSTRUMENTATION = "ragline"
# The W3C trace context fields carried in a task's headers.
TRACE_HEADERS = ("traceparent", "tracestate")
_propagator = TraceContextTextMapPropagator()


@dataclass(frozen=True, eq=False)
class Tracing:
    """This process's trace pipeline, from :func:`start_tracing` to :func:`stop_tracing`."""

    provider: TracerProvider
    tracer: Tracer

    def flush(self, timeout_ms: int = 30_000) -> bool:
        """Export what is batched now (tests; shutdown does it anyway)."""
        return bool(self.provider.force_flush(timeout_ms))


_lock = threading.Lock()
# Pipelines started and not stopped yet, oldest first; spans go to the newest. A tuple,
# replaced whole under the lock, so readers take a snapshot without it.
_running: tuple[Tracing, ...] = ()


def traces_url(endpoint: str) -> str:
    """The collector's traces URL: ``/v1/traces`` appended unless it is there already."""
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def start_tracing(
    settings: TracingSettings, role: str, *, exporter: SpanExporter | None = None
) -> Tracing | None:
    """Start exporting this process's spans; None (and nothing built) while tracing is off.

    ``exporter`` replaces the OTLP exporter (tests hand in the SDK's in-memory one) and
    turns tracing on without an endpoint. ``role`` (api, worker) becomes the resource
    attribute ``ragline.role``. Spans go to the newest pipeline still running (one per
    process in production; tests may open a second service before closing the first).
    """
    global _running
    if exporter is None and not settings.otlp_endpoint:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        assert settings.otlp_endpoint is not None
        url = traces_url(settings.otlp_endpoint)
        exporter = OTLPSpanExporter(endpoint=url, timeout=settings.export_timeout_s)
        log.info("traces exported to %s (sample ratio %s)", url, settings.sample_ratio)
    resource = Resource.create({"service.name": settings.service_name, "ragline.role": role})
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio))
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracing = Tracing(provider, provider.get_tracer(INSTRUMENTATION))
    with _lock:
        _running = (*_running, tracing)
    return tracing


def stop_tracing(tracing: Tracing | None) -> None:
    """Send what is batched and close the exporter; no-op for None (tracing off)."""
    global _running
    if tracing is None:
        return
    with _lock:
        _running = tuple(t for t in _running if t is not tracing)
    tracing.provider.shutdown()


def active_tracing() -> Tracing | None:
    """The pipeline spans go to now (None: tracing is off)."""
    running = _running
    return running[-1] if running else None


def active_tracer() -> Tracer | None:
    """The tracer spans go to, or None while tracing is off (then create nothing)."""
    tracing = active_tracing()
    return tracing.tracer if tracing is not None else None


# --- HTTP requests ----------------------------------------------------------------------


class RequestSpan:
    """The span of one HTTP request, named by its route template once routing is known."""

    def __init__(self, span: Span) -> None:
        self.span = span

    def finish(self, method: str, route: str, status: int) -> None:
        self.span.update_name(f"{method} {route}")
        self.span.set_attribute("http.route", route)
        self.span.set_attribute("http.response.status_code", status)
        if status >= 500:
            self.span.set_status(Status(StatusCode.ERROR))


@contextmanager
def request_span(
    method: str, headers: Mapping[str, str], request_id: str
) -> Iterator[RequestSpan | None]:
    """A server span, current for the request's duration; yields None with tracing off.

    An incoming W3C ``traceparent`` (a proxy's, a caller's) makes it a child of that
    trace. No exception text is recorded: it may hold what the request carried.
    """
    tracer = active_tracer()
    if tracer is None:
        yield None
        return
    parent = _propagator.extract(headers)
    span = tracer.start_span(
        method,
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "ragline.request_id": request_id},
        record_exception=False,
    )
    token = otel_context.attach(trace.set_span_in_context(span, parent))
    try:
        yield RequestSpan(span)
    finally:
        otel_context.detach(token)
        span.end()


# --- tasks ----------------------------------------------------------------------------


def inject_trace_context(headers: MutableMapping[str, Any]) -> None:
    """Write the current span's W3C trace context into a message's headers (if tracing)."""
    if active_tracer() is None:
        return
    _propagator.inject(headers)


@dataclass(frozen=True, eq=False)
class TaskSpan:
    """A task's span and the context token that made it current (ended by :meth:`end`)."""

    span: Span
    token: object

    def end(self, outcome: str | None, failed: bool) -> None:
        if outcome:
            self.span.set_attribute("ragline.outcome", outcome[:64])
        if failed:
            self.span.set_status(Status(StatusCode.ERROR))
        try:
            otel_context.detach(self.token)  # type: ignore[arg-type]
        finally:
            self.span.end()


def start_task_span(
    name: str, header: Callable[[str], str | None], attributes: Mapping[str, str]
) -> TaskSpan | None:
    """A consumer span for a task, child of the trace its headers carry; None if off.

    ``header`` reads one of the task's headers (the worker's request object). The span
    is current until :meth:`TaskSpan.end`, so the task's own spans and sends nest in it.
    """
    tracer = active_tracer()
    if tracer is None:
        return None
    carrier = {k: v for k in TRACE_HEADERS if isinstance(v := header(k), str)}
    parent = _propagator.extract(carrier)
    span = tracer.start_span(
        name,
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes=dict(attributes),
        record_exception=False,
    )
    token = otel_context.attach(trace.set_span_in_context(span, parent))
    return TaskSpan(span, token)
