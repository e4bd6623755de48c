"""Requests that race each other end in a 2xx or a 4xx, never a 500."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY
from tests.e2e.conftest import auth, upload

pytestmark = pytest.mark.e2e

ROUNDS = 30


def test_retry_racing_delete_is_never_a_server_error(client: TestClient) -> None:
    """Issue 11: 6 of 60 retry/delete pairs raised StaleDataError (HTTP 500)."""
    resp = client.post(
        "/buckets", json={"name": "races", "roles": ["public"]}, headers=auth(ADMIN_KEY)
    )
    assert resp.status_code == 201, resp.text
    seen: dict[str, set[int]] = {"retry": set(), "delete": set()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(ROUNDS):
            doc_id = upload(client, "races", f"note-{n}.md", f"# Note {n}\n\nBody {n}.".encode())[
                "document_id"
            ]
            start = threading.Barrier(2)
            retry = pool.submit(_call, client, start, "POST", f"/documents/{doc_id}/retry")
            delete = pool.submit(_call, client, start, "DELETE", f"/documents/{doc_id}")
            seen["retry"].add(retry.result(timeout=120))
            seen["delete"].add(delete.result(timeout=120))
    assert seen["retry"] <= {202, 404}, seen
    assert seen["delete"] <= {204, 404}, seen
    assert 204 in seen["delete"]


def _call(client: TestClient, start: threading.Barrier, method: str, path: str) -> int:
    start.wait()
    return client.request(method, path, headers=auth(ADMIN_KEY)).status_code
