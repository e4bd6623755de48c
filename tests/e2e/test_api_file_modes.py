"""The running service's files are private: the queue too, not only the registry and index.

``tests/service/test_runtime_permissions.py`` opens a runtime; the embedded queue
(``queue.db``), uploads and the fingerprint secret are made by the served app around
it, so this test drives the app as a user does and then looks at every file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ragline.service import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done

pytestmark = pytest.mark.e2e


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Start from the common 022 (files 0644); the app sets its own, the test gets it back."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def shared_with_others(root: Path) -> list[str]:
    return [
        f"{path.relative_to(root)} {stat.filemode(path.stat().st_mode)}"
        for path in [root, *root.rglob("*")]
        if not path.is_symlink() and path.stat().st_mode & 0o077
    ]


def test_the_queue_uploads_and_index_of_a_serving_app_are_private(
    tmp_path: Path, embedder: Any, open_umask: None
) -> None:
    data = tmp_path / "data"
    with TestClient(create_app(make_settings(data), dense=embedder)) as client:
        resp = client.post(
            "/buckets", json={"name": "private", "roles": ["hr"]}, headers=auth(ADMIN_KEY)
        )
        assert resp.status_code == 201, resp.text
        doc = upload(client, "private", "salaries.md", b"# Salaries\n\nThe pay bands.\n")
        assert wait_done(client, doc["document_id"])["status"] == "indexed"
        made = {p.name for p in data.iterdir()}
        assert {"queue.db", "registry.db", "index", "buckets"} <= made, made
        assert shared_with_others(data) == []
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert shared_with_others(data) == []
