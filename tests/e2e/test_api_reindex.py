"""Re-indexing without downtime (issue 13) as an operator drives it over HTTP.

One embedded server: documents uploaded and indexed, then ``POST /reindex`` while a
reader keeps calling ``/ask``. A parser double holds the re-index on one document so
that the test can look at it while it runs: a second request gets the same run back,
and ``/ask`` answers from the live index meanwhile.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.parsing.base import Parser
from kernel.documents import ParsedDocument
from ragline.runtime import Runtime
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, HR_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done

pytestmark = pytest.mark.e2e

TIMEOUT_S = 120.0
FACT = "The alpha reactor is cooled by liquid sodium at 550 degrees."
QUESTION = "How is the alpha reactor cooled?"


class HoldOneFile:
    """Parser double: once armed, the parse of ``hold.txt`` waits for ``release``."""

    def __init__(self) -> None:
        self.armed = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self.inner: Parser | None = None

    def install(self, runtime: Runtime) -> None:
        self.inner = runtime.ingestion.parser
        runtime.ingestion = dataclasses.replace(runtime.ingestion, parser=self)

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        assert self.inner is not None
        if self.armed and Path(filename or path.name).name == "hold.txt":
            self.holding.set()
            self.release.wait(TIMEOUT_S)
        return self.inner.parse(path, filename=filename, content_type=content_type)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


@pytest.fixture(scope="module")
def hold() -> HoldOneFile:
    return HoldOneFile()


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, hold: HoldOneFile
) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("reindex") / "data"
    app = create_app(make_settings(data_dir), dense=embedder, prepare=hold.install)
    with TestClient(app) as test_client:
        yield test_client


def _ask(client: TestClient) -> dict[str, Any]:
    resp = client.post("/ask", json={"question": QUESTION}, headers=auth(HR_KEY))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _wait_ended(client: TestClient, reindex_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/reindex/{reindex_id}", headers=auth(ADMIN_KEY)).json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"re-index {reindex_id} did not end within {TIMEOUT_S} s")


def test_reindex_over_http_while_asking(client: TestClient, hold: HoldOneFile) -> None:
    created = client.post(
        "/buckets", json={"name": "plant", "roles": ["hr"]}, headers=auth(ADMIN_KEY)
    )
    assert created.status_code == 201, created.text
    for name, text in [
        ("alpha.txt", FACT),
        ("beta.txt", "The beta turbine hall is heated by waste steam."),
        ("hold.txt", "The hold document waits for the test to release it."),
    ]:
        doc = upload(client, "plant", name, text.encode())
        assert wait_done(client, doc["document_id"])["status"] == "indexed"
    assert "sodium" in _ask(client)["answer"]

    refused = client.post("/reindex", headers=auth(HR_KEY))
    assert refused.status_code == 403

    hold.armed = True
    started = client.post("/reindex", json={"max_failures": 0}, headers=auth(ADMIN_KEY))
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["status"] in ("queued", "running") and run["trigger"] == "api"
    try:
        assert hold.holding.wait(TIMEOUT_S), "the re-index never reached the held file"
        again = client.post("/reindex", headers=auth(ADMIN_KEY))
        assert again.status_code == 202
        assert again.json()["reindex_id"] == run["reindex_id"]  # not a second one
        running = client.get(f"/reindex/{run['reindex_id']}", headers=auth(ADMIN_KEY)).json()
        assert running["status"] == "running" and running["from_generation"] == 1
        assert "sodium" in _ask(client)["answer"]  # the live index answers meanwhile
    finally:
        hold.release.set()

    ended = _wait_ended(client, run["reindex_id"])
    assert ended["status"] == "finished", ended
    assert (ended["total"], ended["done"], ended["failed"]) == (3, 3, 0)
    assert (ended["from_generation"], ended["to_generation"]) == (1, 2)
    assert "sodium" in _ask(client)["answer"]
    listed = client.get("/reindex", headers=auth(ADMIN_KEY))
    assert listed.status_code == 200
    assert [r["reindex_id"] for r in listed.json()["reindexes"]] == [run["reindex_id"]]
    assert client.get("/reindex/nope", headers=auth(ADMIN_KEY)).status_code == 404
    assert client.get("/reindex", headers=auth(HR_KEY)).status_code == 403
