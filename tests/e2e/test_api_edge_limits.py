"""The HTTP edge: keys are checked before a body is read, and bodies have limits."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ragline.service import create_app
from tests.conftest import ADMIN_KEY, ENG_KEY, make_settings
from tests.e2e.conftest import auth

pytestmark = pytest.mark.e2e

JSON_KB = 64
BOUNDARY = "edge-test-boundary"


class CountingBody:
    """A request body the test can ask afterwards: how much of it did the server pull?"""

    def __init__(self, payload: bytes, chunk: int = 64 * 1024) -> None:
        self.payload = payload
        self.chunk = chunk
        self.consumed = 0

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.payload), self.chunk):
            piece = self.payload[start : start + self.chunk]
            self.consumed += len(piece)
            yield piece


def multipart(filename: str, content: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{BOUNDARY}--\r\n".encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edge") / "data"


@pytest.fixture(scope="module")
def edge(data_dir: Path, embedder: Any) -> Iterator[TestClient]:
    settings = make_settings(data_dir, limits={"max_upload_mb": 1, "max_json_kb": JSON_KB})
    with TestClient(create_app(settings, dense=embedder)) as client:
        resp = client.post(
            "/buckets", json={"name": "inbox", "roles": ["eng"]}, headers=auth(ADMIN_KEY)
        )
        assert resp.status_code == 201, resp.text
        yield client


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Spooled uploads go here during the test, so nothing else writes into it."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*")) if folder.exists() else set()


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-a-key"}, {"Authorization": "Basic abc"}]
)
def test_unauthenticated_upload_is_refused_before_its_body_is_read(
    edge: TestClient, data_dir: Path, private_tmp: Path, headers: dict[str, str]
) -> None:
    bucket_dir = data_dir / "buckets"
    before = _files_under(bucket_dir)
    body = CountingBody(multipart("big.bin", b"x" * 3_000_000))
    resp = edge.post("/buckets/inbox/documents", content=body, headers={**MULTIPART, **headers})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthenticated"
    assert resp.headers["www-authenticate"] == "Bearer"
    assert body.consumed == 0
    assert _files_under(bucket_dir) == before
    assert _files_under(private_tmp) == set()


def test_unauthenticated_json_is_refused_before_its_body_is_read(edge: TestClient) -> None:
    body = CountingBody(json.dumps({"question": "hi " * 10_000}).encode())
    resp = edge.post("/ask", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 401
    assert body.consumed == 0


def test_declared_over_limit_json_is_413_before_it_is_read(edge: TestClient) -> None:
    payload = json.dumps({"question": "x" * (JSON_KB * 1024 + 10)}).encode()
    body = CountingBody(payload)
    resp = edge.post(
        "/ask",
        content=body,
        headers={
            **auth(ENG_KEY),
            "Content-Type": "application/json",
            "Content-Length": str(len(payload)),
        },
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"
    assert body.consumed == 0


def test_streamed_over_limit_json_is_413(edge: TestClient) -> None:
    payload = json.dumps({"question": "x" * (JSON_KB * 1024 + 10)}).encode()
    resp = edge.post(
        "/ask",
        content=CountingBody(payload),
        headers={**auth(ENG_KEY), "Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in resp.request.headers}
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_streamed_over_limit_bucket_json_is_413(edge: TestClient) -> None:
    payload = json.dumps({"name": "n", "roles": ["r" * (JSON_KB * 1024)]}).encode()
    resp = edge.post(
        "/buckets",
        content=CountingBody(payload),
        headers={**auth(ADMIN_KEY), "Content-Type": "application/json"},
    )
    assert resp.status_code == 413


def test_declared_over_limit_upload_is_413_before_it_is_read(
    edge: TestClient, private_tmp: Path
) -> None:
    payload = multipart("big.bin", b"x" * 2_000_000)
    body = CountingBody(payload)
    resp = edge.post(
        "/buckets/inbox/documents",
        content=body,
        headers={**MULTIPART, **auth(ADMIN_KEY), "Content-Length": str(len(payload))},
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"
    assert body.consumed == 0


def test_streamed_over_limit_upload_is_413(edge: TestClient, private_tmp: Path) -> None:
    resp = edge.post(
        "/buckets/inbox/documents",
        content=CountingBody(multipart("big.bin", b"x" * 2_000_000)),
        headers={**MULTIPART, **auth(ADMIN_KEY)},
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_authenticated_requests_within_limits_still_work(edge: TestClient) -> None:
    # An upload well over the JSON limit but under the upload limit is an upload, not JSON.
    upload = edge.post(
        "/buckets/inbox/documents",
        files={"file": ("notes.md", b"# Notes\n\n" + b"Quokkas like stew. " * 5000)},
        headers=auth(ADMIN_KEY),
    )
    assert upload.status_code == 202, upload.text
    streamed = edge.post(
        "/ask",
        content=CountingBody(json.dumps({"question": "what do quokkas like?"}).encode()),
        headers={**auth(ENG_KEY), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 200, streamed.text
    assert edge.get("/documents", headers=auth(ENG_KEY)).status_code == 200


def test_public_routes_need_no_key(edge: TestClient) -> None:
    for path in ("/health", "/ready", "/openapi.json", "/docs"):
        assert edge.get(path).status_code == 200, path


def test_role_checks_still_apply_after_authentication(edge: TestClient) -> None:
    resp = edge.post("/buckets", json={"name": "x", "roles": ["eng"]}, headers=auth(ENG_KEY))
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "permission_denied"
