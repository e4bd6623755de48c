"""Ingestion counters and stage timings, counted once per attempt, on the real pipeline.

Documents go through the real embedded stack (parser child, model, qdrant-edge, SQLite)
and through the real Celery task; the series are read from the runtime's own registry.
One runtime serves the module (its parser child takes seconds to start), so each test
compares the series before and after what it does, in a bucket of its own.
"""

from __future__ import annotations

import dataclasses
import io
import random
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import signals
from celery._state import _set_task_join_will_block

from ingest.buckets import create_bucket
from ingest.folder import ingest_paths, list_files
from ingest.pipeline import ingest_document
from ingest.registration import accept_upload
from kernel.documents import ParsedDocument
from observability.ingest_metrics import STAGES
from observability.metrics import Metrics
from ragline.runtime import Runtime, open_runtime
from ragline.worker import create_worker_app
from tests.conftest import make_settings
from tests.private_services import free_port, port_answers
from workers.celery_app import create_celery
from workers.tasks import INGEST_TASK

pytestmark = pytest.mark.service

DOCUMENTS = "ragline_ingest_documents_total"
DURATION_COUNT = "ragline_ingest_duration_seconds_count"
# An indexed document passes every stage once; a failed or unchanged one none.
ONE_OF_EACH_STAGE = {(stage,): 1.0 for stage in STAGES}
GOOD = "Visitors sign in at the front desk and wear a badge at all times."


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Runtime]:
    rt = open_runtime(make_settings(tmp_path_factory.mktemp("metrics") / "data"), dense=embedder)
    yield rt
    rt.close()


Series = dict[tuple[str, ...], float]


def counted(metrics: Metrics) -> Series:
    """Every ``ragline_ingest_documents_total`` series: (format, outcome, error_code) -> value,
    and every stage's observation count: (stage,) -> count."""
    found: Series = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == DOCUMENTS:
                labels = sample.labels
                found[labels["format"], labels["outcome"], labels["error_code"]] = sample.value
            elif sample.name == DURATION_COUNT:
                found[(sample.labels["stage"],)] = sample.value
    return found


def grown(before: Series, after: Series) -> Series:
    """What rose between two readings (series that did not move are left out)."""
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


def _ingest_folder(runtime: Runtime, folder: Path, bucket: str) -> dict[str, str]:
    reports = ingest_paths(
        runtime.ingestion,
        folder,
        list_files(folder),
        bucket=bucket,
        roles=["staff"],
        doc_type=None,
        on_file=lambda _: None,
    )
    return {r.name: r.outcome for r in reports}


def test_indexed_failed_and_unchanged_are_each_counted_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "visitors.txt").write_text(GOOD)
    (folder / "random.pdf").write_bytes(random.Random(7).randbytes(4096))
    parse_before = _parse_seconds(runtime)
    before = counted(runtime.metrics)
    outcomes = _ingest_folder(runtime, folder, "mixed")
    assert outcomes == {"visitors.txt": "indexed", "random.pdf": "failed"}
    good = runtime.registry.list_documents(bucket="mixed", status="indexed")[0]
    # A redelivered task for the same bytes: the pipeline finds nothing to do.
    assert ingest_document(runtime.ingestion, good.id).outcome == "unchanged"

    # Only the indexed document went through every stage; the failed one never finished
    # parsing, and the unchanged one stopped at its hash.
    assert grown(before, counted(runtime.metrics)) == {
        ("txt", "indexed", ""): 1.0,
        ("unknown", "failed", "unsupported_format"): 1.0,
        ("txt", "unchanged", ""): 1.0,
        **ONE_OF_EACH_STAGE,
    }
    assert _parse_seconds(runtime) > parse_before


def _parse_seconds(runtime: Runtime) -> float:
    registry = runtime.metrics.registry
    return (
        registry.get_sample_value("ragline_ingest_duration_seconds_sum", {"stage": "parse"}) or 0.0
    )


def test_an_unchanged_upload_is_not_an_ingestion(runtime: Runtime, tmp_path: Path) -> None:
    """The registry turns away unchanged bytes before any worker runs: nothing to count."""
    folder = tmp_path / "again"
    folder.mkdir()
    (folder / "visitors.txt").write_text(GOOD)
    before = counted(runtime.metrics)
    assert _ingest_folder(runtime, folder, "again") == {"visitors.txt": "indexed"}
    assert _ingest_folder(runtime, folder, "again") == {"visitors.txt": "unchanged"}
    assert grown(before, counted(runtime.metrics)) == {
        ("txt", "indexed", ""): 1.0,
        **ONE_OF_EACH_STAGE,
    }


class CrashingParserDouble:
    """A parser with a bug: no real file makes the bounded parser raise anything but
    a ``DocumentError``, so the crash path needs a double."""

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        raise RuntimeError("bug in the parser")

    def close(self) -> None:
        pass


def _upload(runtime: Runtime, name: str, text: str) -> str:
    """Store and register a document as an upload does, without ingesting it."""
    bucket = runtime.ingestion.buckets.find_bucket("uploads") or create_bucket(
        runtime.ingestion, "uploads", ["staff"], None, None
    )
    registration = accept_upload(
        runtime.ingestion,
        bucket,
        name,
        io.BytesIO(text.encode()),
        roles=None,
        doc_type=None,
        title=None,
        max_bytes=1_000_000,
    )
    assert registration.needs_ingest
    return registration.document.id


def test_the_celery_task_counts_each_document_once_whatever_its_end(runtime: Runtime) -> None:
    good = _upload(runtime, "visitors.txt", GOOD)
    crash = _upload(runtime, "crash.txt", "This one meets a parser bug.")
    before = counted(runtime.metrics)
    app = create_celery(runtime.settings)
    app.runtime = runtime
    try:
        task = app.tasks[INGEST_TASK]
        assert task.apply(args=[good]).result == "indexed"
        healthy = runtime.ingestion
        runtime.ingestion = dataclasses.replace(healthy, parser=CrashingParserDouble())
        try:
            assert task.apply(args=[crash]).result == "failed"
        finally:
            runtime.ingestion = healthy
    finally:
        app.close()
    assert runtime.registry.get(crash).error_code == "internal_error"
    assert grown(before, counted(runtime.metrics)) == {
        ("txt", "indexed", ""): 1.0,
        ("unknown", "failed", "internal_error"): 1.0,
        **ONE_OF_EACH_STAGE,
    }


def test_a_standalone_worker_serves_its_own_series_on_the_worker_port(tmp_path: Path) -> None:
    """What ``ragline worker`` does at start: its runtime's registry on its own port."""
    port = free_port()
    settings = make_settings(tmp_path / "worker-data", metrics={"worker_port": port})
    app = create_worker_app(settings)
    worker = app.WorkController(pool="threads", concurrency=1, queues=["ingest_small"])
    try:  # building the worker sent worker_init: the runtime is open, the port served
        assert app.opened is not None
        app.opened.metrics.ingest_documents.labels(
            format="txt", outcome="indexed", error_code=""
        ).inc()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
            body = reply.read().decode()
        expected = (
            'ragline_ingest_documents_total{error_code="",format="txt",outcome="indexed"} 1.0'
        )
        assert expected in body
        assert "python_info" in body  # the process collectors share the registry
    finally:
        signals.worker_shutdown.send(sender=worker)
        app.close()
        # Building a worker marks the whole process as "inside a worker" (Celery then
        # refuses a blocking result.get()); undo it for the tests that run after this.
        _set_task_join_will_block(False)
    assert app.opened is None
    assert not port_answers(port)
