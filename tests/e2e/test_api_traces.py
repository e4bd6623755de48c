"""OpenTelemetry traces from a real embedded service: requests, answer stages, ingestion.

Spans go to the SDK's in-memory exporter through ``create_app(span_exporter=...)``, the
one seam; the last test runs the real OTLP/HTTP exporter against a loopback collector
and reads the protobuf it posts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from observability.tracing import active_tracing
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, ENG_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done

pytestmark = pytest.mark.e2e

HANDBOOK = (
    b"# Vacation\n\nFull-time employees get 25 vacation days per year. "
    b"Unused days carry over until March.\n"
)
QUESTION = "How many vacation days do full-time employees get?"


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, exporter: InMemorySpanExporter
) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("traces") / "data")
    app = create_app(settings, dense=embedder, span_exporter=exporter)
    with TestClient(app) as test_client:
        resp = test_client.post(
            "/buckets", json={"name": "handbook", "roles": ["eng"]}, headers=auth(ADMIN_KEY)
        )
        assert resp.status_code == 201, resp.text
        yield test_client


def _spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    tracing = active_tracing()
    assert tracing is not None
    assert tracing.flush()
    return list(exporter.get_finished_spans())


def test_an_upload_and_its_ingestion_are_one_trace(
    client: TestClient, exporter: InMemorySpanExporter
) -> None:
    document = upload(client, "handbook", "handbook.md", HANDBOOK)
    assert wait_done(client, document["document_id"])["status"] == "indexed"
    spans = _spans(exporter)
    (upload_span,) = [s for s in spans if s.name == "POST /buckets/{name}/documents"]
    assert upload_span.kind == SpanKind.SERVER
    assert upload_span.attributes is not None
    assert upload_span.attributes["http.route"] == "/buckets/{name}/documents"
    assert upload_span.attributes["http.response.status_code"] == 202
    (ingest,) = [
        s
        for s in spans
        if s.name == "ragline.ingest_document"
        and s.attributes is not None
        and s.attributes["ragline.task.subject_id"] == document["document_id"]
    ]
    assert ingest.context.trace_id == upload_span.context.trace_id
    assert ingest.parent is not None and ingest.parent.span_id == upload_span.context.span_id
    assert ingest.attributes is not None and ingest.attributes["ragline.outcome"] == "indexed"
    # Nothing of the request's raw path, key or file name is in any span.
    for span in spans:
        text = f"{span.name} {dict(span.attributes or {})}"
        for raw in (ADMIN_KEY, "handbook.md", document["document_id"] + "?"):
            assert raw not in text
        if span.kind == SpanKind.SERVER:
            assert document["document_id"] not in text


def test_an_answer_is_a_request_span_with_its_stages_as_children(
    client: TestClient, exporter: InMemorySpanExporter
) -> None:
    document = upload(client, "handbook", "vacation.md", HANDBOOK + b"\nMore text.\n")
    assert wait_done(client, document["document_id"])["status"] == "indexed"
    exporter.clear()
    resp = client.post(
        "/ask",
        json={"question": QUESTION},
        headers={**auth(ENG_KEY), "X-Request-ID": "ask-trace-1"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["found"] is True
    spans = _spans(exporter)
    (ask,) = [s for s in spans if s.name == "POST /ask"]
    assert ask.attributes is not None
    assert ask.attributes["ragline.request_id"] == "ask-trace-1"
    assert ask.attributes["ragline.answer.outcome"] == "answered"
    assert ask.attributes["ragline.answer.model"] == "extractive"
    assert QUESTION not in str(dict(ask.attributes))
    stages = {s.name: s for s in spans if s.name.startswith("answer.")}
    assert {"answer.retrieve", "answer.extract", "answer.ground", "answer.record"} <= set(stages)
    for name in ("answer.retrieve", "answer.extract", "answer.record"):
        span = stages[name]
        assert span.context.trace_id == ask.context.trace_id
        assert span.parent is not None and span.parent.span_id == ask.context.span_id
        assert span.start_time is not None and ask.start_time is not None
        assert ask.start_time <= span.start_time <= (span.end_time or 0) <= (ask.end_time or 0)
    ground = stages["answer.ground"]
    assert ground.parent is not None
    assert ground.parent.span_id == stages["answer.extract"].context.span_id
    assert stages["answer.retrieve"].end_time == stages["answer.extract"].start_time


class _Collector(BaseHTTPRequestHandler):
    """A loopback OTLP/HTTP collector: keeps each POST, answers 200 with an empty reply."""

    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_the_otlp_exporter_posts_protobuf_to_the_collector(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = make_settings(
            tmp_path_factory.mktemp("otlp") / "data",
            tracing={
                "otlp_endpoint": f"http://127.0.0.1:{server.server_address[1]}",
                "service_name": "ragline-otlp-test",
            },
        )
        with TestClient(create_app(settings, dense=embedder)) as test_client:
            assert test_client.get("/documents", headers=auth(ADMIN_KEY)).status_code == 200
        # Closing the service shut the pipeline down, which sent what was batched.
    finally:
        server.shutdown()
        server.server_close()
    assert _Collector.received, "the exporter posted nothing"
    names: list[str] = []
    services: set[str] = set()
    for path, content_type, body in _Collector.received:
        assert path == "/v1/traces"
        assert content_type == "application/x-protobuf"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                names += [span.name for span in scope_spans.spans]
    assert "GET /documents" in names
    assert services == {"ragline-otlp-test"}
