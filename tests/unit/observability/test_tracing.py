"""The tracing seam: off builds nothing; on, spans nest and cross a message's headers."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kernel.settings import TracingSettings
from observability import tracing as tracing_module
from observability.answer_tracing import trace_answer
from observability.tracing import (
    Tracing,
    active_tracer,
    inject_trace_context,
    request_span,
    start_task_span,
    start_tracing,
    stop_tracing,
    traces_url,
)


@pytest.fixture
def spans() -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    tracing = start_tracing(TracingSettings(), "test", exporter=exporter)
    assert tracing is not None
    try:
        yield tracing, exporter
    finally:
        stop_tracing(tracing)


def _finished(pipeline: tuple[Tracing, InMemorySpanExporter]) -> dict[str, ReadableSpan]:
    tracing, exporter = pipeline
    assert tracing.flush()
    return {span.name: span for span in exporter.get_finished_spans()}


def test_off_by_default_nothing_is_built_and_helpers_do_nothing() -> None:
    assert start_tracing(TracingSettings(), "api") is None
    assert active_tracer() is None
    with request_span("GET", {}, "req-1") as span:
        assert span is None
    headers: dict[str, object] = {}
    inject_trace_context(headers)
    assert headers == {}
    assert start_task_span("t", lambda _: None, {}) is None
    stop_tracing(None)


def test_off_means_the_sdk_is_not_even_imported() -> None:
    code = (
        "import sys\n"
        "from kernel.settings import TracingSettings\n"
        "from observability.tracing import start_tracing\n"
        "import ragline.service, api.access_log, workers.task_context\n"
        "assert start_tracing(TracingSettings(), 'api') is None\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_the_traces_path_is_appended_once() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


def test_a_request_span_is_named_by_its_route_and_continues_an_incoming_trace(
    spans: tuple[Tracing, InMemorySpanExporter],
) -> None:
    incoming = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    with request_span("GET", incoming, "req-1") as span:
        assert span is not None
        assert trace.get_current_span() is span.span
        span.finish("GET", "/documents/{document_id}", 503)
    assert not trace.get_current_span().get_span_context().is_valid
    done = _finished(spans)["GET /documents/{document_id}"]
    assert format(done.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert done.parent is not None and done.parent.span_id == 0xB7AD6B7169203331
    assert done.attributes is not None
    assert done.attributes["http.route"] == "/documents/{document_id}"
    assert done.attributes["http.response.status_code"] == 503
    assert done.attributes["ragline.request_id"] == "req-1"
    assert done.status.status_code == trace.StatusCode.ERROR
    assert done.resource.attributes["ragline.role"] == "test"


def test_answer_stages_become_children_laid_end_to_end_with_ground_inside_extract(
    spans: tuple[Tracing, InMemorySpanExporter],
) -> None:
    ended = 10_000_000_000
    with request_span("POST", {}, "req-2") as span:
        assert span is not None
        trace_answer(
            {"redact": 0.001, "retrieve": 0.02, "extract": 0.05, "ground": 0.01, "record": 0.003},
            ended,
            {"ragline.answer.outcome": "answered"},
        )
        span.finish("POST", "/ask", 200)
    done = _finished(spans)
    request = done["POST /ask"]
    assert request.attributes is not None
    assert request.attributes["ragline.answer.outcome"] == "answered"
    order = ["answer.redact", "answer.retrieve", "answer.extract", "answer.record"]
    for name in order:
        parent = done[name].parent
        assert parent is not None and parent.span_id == request.context.span_id
    assert done["answer.record"].end_time == ended
    for earlier, later in itertools.pairwise(order):
        assert done[earlier].end_time == done[later].start_time
    retrieve = done["answer.retrieve"]
    assert (retrieve.end_time or 0) - (retrieve.start_time or 0) == 20_000_000
    ground, extract = done["answer.ground"], done["answer.extract"]
    assert ground.parent is not None and ground.parent.span_id == extract.context.span_id
    assert ground.end_time == extract.end_time


def test_no_stage_spans_without_a_current_span(spans: tuple[Tracing, InMemorySpanExporter]) -> None:
    trace_answer({"retrieve": 0.01}, 1_000_000_000, {})
    assert _finished(spans) == {}


def test_a_task_span_joins_the_trace_its_headers_carry(
    spans: tuple[Tracing, InMemorySpanExporter],
) -> None:
    headers: dict[str, str] = {}
    with request_span("POST", {}, "req-3") as span:
        assert span is not None
        inject_trace_context(headers)
        span.finish("POST", "/buckets/{bucket}/documents", 202)
    assert str(headers["traceparent"]).startswith("00-")
    task = start_task_span(
        "ragline.ingest_document",
        headers.get,
        {"celery.task_id": "t-1"},
    )
    assert task is not None
    assert trace.get_current_span() is task.span
    task.end("indexed", failed=False)
    assert not trace.get_current_span().get_span_context().is_valid
    done = _finished(spans)
    upload, ingest = done["POST /buckets/{bucket}/documents"], done["ragline.ingest_document"]
    assert ingest.context.trace_id == upload.context.trace_id
    assert ingest.parent is not None and ingest.parent.span_id == upload.context.span_id
    assert ingest.kind == trace.SpanKind.CONSUMER
    assert ingest.attributes is not None and ingest.attributes["ragline.outcome"] == "indexed"


def test_spans_go_to_the_newest_running_pipeline_and_stopping_it_flushes() -> None:
    first_exporter, second_exporter = InMemorySpanExporter(), InMemorySpanExporter()
    first = start_tracing(TracingSettings(), "a", exporter=first_exporter)
    second = start_tracing(TracingSettings(), "b", exporter=second_exporter)
    assert first is not None and second is not None
    assert tracing_module.active_tracer() is second.tracer
    with request_span("GET", {}, "r") as span:
        assert span is not None
        span.finish("GET", "/health", 200)
    stop_tracing(second)
    assert [s.name for s in second_exporter.get_finished_spans()] == ["GET /health"]
    # The first is still running: spans go to it again until it stops.
    assert active_tracer() is first.tracer
    stop_tracing(first)
    assert active_tracer() is None
    stop_tracing(first)  # twice is harmless
    assert first_exporter.get_finished_spans() == ()


def test_the_sample_ratio_zero_records_nothing_started_here() -> None:
    exporter = InMemorySpanExporter()
    tracing = start_tracing(TracingSettings(sample_ratio=0.0), "api", exporter=exporter)
    try:
        with request_span("GET", {}, "r") as span:
            assert span is not None and not span.span.is_recording()
    finally:
        stop_tracing(tracing)
    assert exporter.get_finished_spans() == ()
