"""A worker in its own process takes the request id and trace from the task's headers.

The sender here is this test process, inside a request id scope and a request span, as
the API would be; the worker is ``ragline worker`` (or ``celery -A ragline.worker``)
started with ``RAGLINE_LOG__FORMAT=json`` and an OTLP endpoint: a loopback collector
this test runs. The broker is the SQLite queue (kombu's SQLAlchemy transport), shared
through a file, so no Redis database is needed.
"""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ingest.bucket_catalog import BucketCatalog
from ingest.registry import Registry
from ingest.storage import LocalBucketStore
from kernel.settings import TracingSettings
from observability.log_context import request_id_scope
from observability.tracing import request_span, start_tracing, stop_tracing
from tests.e2e.test_worker_standalone import (
    COMMANDS,
    MARKDOWN,
    REPO,
    stop_worker,
    worker_env,
    worker_settings,
)
from workers.celery_app import create_celery
from workers.tasks import enqueue_registered

pytestmark = pytest.mark.e2e

WAIT_S = 180.0
REQUEST_ID = "dist-upload-42"


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _register(settings: Any, data_dir: Path) -> tuple[Registry, str]:
    registry = Registry(settings.registry_url)
    BucketCatalog(registry.engine).create_bucket("standalone", ["public"], None, None)
    store = LocalBucketStore(settings.buckets_dir, data_dir / "derived")
    stored = store.write("standalone", None, "badges.md", io.BytesIO(MARKDOWN), max_bytes=10**6)
    registration = registry.register(
        bucket="standalone",
        key=stored.key,
        content_hash=stored.content_hash,
        size_bytes=stored.size_bytes,
        roles=["public"],
        doc_type=None,
        title=None,
    )
    return registry, registration.document.id


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_worker_logs_and_traces_under_the_sending_request(
    command: str, collector: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    broker = f"sqla+sqlite:///{(data_dir / 'queue.db').resolve()}"
    settings = worker_settings(data_dir, broker)
    env = worker_env(data_dir, broker)
    env.update(
        RAGLINE_LOG__FORMAT="json",
        RAGLINE_LOG_LEVEL="INFO",
        RAGLINE_TRACING__OTLP_ENDPOINT=collector,
        RAGLINE_TRACING__SERVICE_NAME="ragline-worker-test",
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            COMMANDS[command], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    # The worker creates the database; the document is registered once it is ready.
    deadline = time.monotonic() + WAIT_S
    while " ready." not in log_path.read_text(errors="replace"):
        assert worker.poll() is None, log_path.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.5)
    registry, doc_id = _register(settings, data_dir)
    app = create_celery(settings)
    exporter = InMemorySpanExporter()
    tracing = start_tracing(TracingSettings(), "api", exporter=exporter)
    try:
        with request_id_scope(REQUEST_ID), request_span("POST", {}, REQUEST_ID) as span:
            assert span is not None
            enqueue_registered(app, registry, doc_id)
            span.finish("POST", "/buckets/{name}/documents", 202)
        deadline = time.monotonic() + WAIT_S
        while registry.get(doc_id).status not in ("indexed", "failed"):
            assert worker.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        assert registry.get(doc_id).status == "indexed"
    finally:
        stop_tracing(tracing)
        registry.close()
        app.close()
        code = stop_worker(worker)
    output = log_path.read_text(errors="replace")
    assert code == 0, output[-3000:]

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    ingestion = [
        line
        for line in lines
        if line["logger"] == "workers.tasks" and doc_id in str(line["message"])
    ]
    assert [str(line["message"]).split(" ")[0] for line in ingestion] == ["ingesting", "document"]
    assert {line["request_id"] for line in ingestion} == {REQUEST_ID}
    assert all(len(str(line.get("trace_id", ""))) == 32 for line in ingestion), ingestion

    (sent,) = exporter.get_finished_spans()
    worker_spans = []
    for body in _Collector.received:
        for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
            for scope_spans in resource_spans.scope_spans:
                worker_spans += list(scope_spans.spans)
    (task,) = [s for s in worker_spans if s.name == "ragline.ingest_document"]
    assert task.trace_id.hex() == format(sent.context.trace_id, "032x")
    assert task.parent_span_id.hex() == format(sent.context.span_id, "016x")
    assert {line["trace_id"] for line in ingestion} == {task.trace_id.hex()}
