from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ragline.service import create_app
from tests.conftest import ADMIN_KEY, make_settings


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def upload(
    client: TestClient,
    bucket: str,
    name: str,
    content: bytes,
    *,
    roles: str | None = None,
    doc_type: str | None = None,
    key: str = ADMIN_KEY,
) -> dict[str, Any]:
    data = {k: v for k, v in {"roles": roles, "doc_type": doc_type}.items() if v}
    resp = client.post(
        f"/buckets/{bucket}/documents",
        files={"file": (name, content)},
        data=data,
        headers=auth(key),
    )
    assert resp.status_code == 202, resp.text
    body: dict[str, Any] = resp.json()
    return body


def wait_done(client: TestClient, document_id: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(
            f"/documents/{document_id}", headers=auth(ADMIN_KEY)
        ).json()
        if body["status"] in ("indexed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"document {document_id} not processed within {timeout_s} s")


def listed_children(client: TestClient, bucket: str, parent_id: str) -> dict[str, dict[str, Any]]:
    """The parent's attachments by source, read once.

    They are registered in the commit that marks the parent ``indexed``, so a listing
    read right after that shows every one of them: no polling.
    """
    listed = client.get("/documents", params={"bucket": bucket}, headers=auth(ADMIN_KEY))
    return {d["source"]: d for d in listed.json()["documents"] if d["parent_id"] == parent_id}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("api") / "data"
    settings = make_settings(data_dir, limits={"max_upload_mb": 1})
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        yield test_client
