"""Embedded lanes: a large document stuck in parsing does not hold up a small one."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from ingest.parsing.base import Parser
from ingest.parsing.pool import ParserPool
from kernel.documents import ParsedDocument
from ragline.runtime import Runtime
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done
from workers.embedded import EmbeddedWorkers
from workers.health import IngestionReadiness

pytestmark = pytest.mark.e2e

SMALL_BYTES = 4_000
HOLD_S = 300.0


class HoldLargeDocuments:
    """Parser double: files over ``threshold`` bytes wait for ``release`` before parsing.

    Stands for a pathological file that takes minutes; everything else goes straight
    to the real parser.
    """

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.release = threading.Event()
        self.holding = threading.Event()
        self.release.set()  # parse everything at once until a test holds large files
        self.inner: Parser | None = None

    def install(self, runtime: Runtime) -> None:
        """Stand in front of the runtime's parser pool, before any worker starts."""
        assert isinstance(runtime.ingestion.parser, ParserPool)
        assert runtime.ingestion.parser.size == 2  # one parser process per lane thread
        self.inner = runtime.ingestion.parser
        runtime.ingestion = dataclasses.replace(runtime.ingestion, parser=self)

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        assert self.inner is not None
        if path.stat().st_size > self.threshold:
            self.holding.set()
            self.release.wait(HOLD_S)
        return self.inner.parse(path, filename=filename, content_type=content_type)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


def open_client(
    tmp_path: Path, embedder: Any, prepare: Callable[[Runtime], None] | None = None
) -> TestClient:
    settings = make_settings(tmp_path / "data", workers={"small_document_bytes": SMALL_BYTES})
    return TestClient(create_app(settings, dense=embedder, prepare=prepare))


@pytest.fixture
def holder() -> HoldLargeDocuments:
    return HoldLargeDocuments(SMALL_BYTES)


@pytest.fixture
def client(tmp_path: Path, embedder: Any, holder: HoldLargeDocuments) -> Iterator[TestClient]:
    with open_client(tmp_path, embedder, holder.install) as test_client:
        resp = test_client.post(
            "/buckets", json={"name": "lanes", "roles": ["public"]}, headers=auth(ADMIN_KEY)
        )
        assert resp.status_code == 201, resp.text
        yield test_client


def large_markdown() -> bytes:
    lines = [f"Clause {n}: the supplier delivers parts on the first day." for n in range(200)]
    return ("# Supply terms\n\n" + "\n\n".join(lines) + "\n").encode()


SMALL_MARKDOWN = b"# Parking\n\nVisitors park in the north lot next to the gate.\n"


def test_a_small_document_is_indexed_while_a_large_one_is_stuck_in_parsing(
    client: TestClient, holder: HoldLargeDocuments
) -> None:
    assert holder.inner is not None, "the parser double was not installed"
    holder.release.clear()
    try:
        big = large_markdown()
        assert len(big) > SMALL_BYTES
        large = upload(client, "lanes", "supply-terms.md", big)
        assert holder.holding.wait(HOLD_S), "the large document never reached the parser"

        small = upload(client, "lanes", "parking.md", SMALL_MARKDOWN)
        done = wait_done(client, small["document_id"], timeout_s=HOLD_S)
        assert done["status"] == "indexed" and done["chunks"] >= 1

        still = client.get(f"/documents/{large['document_id']}", headers=auth(ADMIN_KEY))
        assert still.json()["status"] == "processing"
        answer = client.post(
            "/ask", json={"question": "Where do visitors park?"}, headers=auth(ADMIN_KEY)
        ).json()
        assert "north lot" in answer["answer"]
    finally:
        holder.release.set()
    done = wait_done(client, large["document_id"], timeout_s=HOLD_S)
    assert done["status"] == "indexed" and done["chunks"] >= 1


def test_ready_reports_the_worker_and_the_broker(client: TestClient) -> None:
    resp = client.get("/ready")
    assert resp.status_code == 200, resp.text
    checks = resp.json()["checks"]
    assert checks == {"registry": "ok", "index": "ok", "broker": "ok", "worker": "ok"}

    readiness = cast(IngestionReadiness, client.app.state.services.ingestion_checks)  # type: ignore[attr-defined]
    workers = readiness.workers
    assert isinstance(workers, EmbeddedWorkers)
    workers.stop()

    # /ask needs no worker: the replica stays ready, and the body says what is down.
    resp = client.get("/ready")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {
        "registry": "ok",
        "index": "ok",
        "broker": "ok",
        "worker": "unavailable",
    }
    assert body["reasons"] == {"worker": "no ingestion worker answered"}
