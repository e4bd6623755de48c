"""Bucket sources and uploads through the API never reach outside the folders they may use.

Each test reproduces a finding of issue 11 (host file system): sources anywhere on the
host, uploads leaving or overwriting folders, distinct names collapsing, and file
system errors surfacing as HTTP 500.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ragline.service import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.e2e.conftest import auth

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake host: an allowed root with folders, and files outside it."""
    base = tmp_path_factory.mktemp("host")
    (base / "allowed" / "docs").mkdir(parents=True)
    (base / "allowed" / "a-file.txt").write_text("not a folder")
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_text("outside")
    (base / "allowed" / "escape").symlink_to(base / "outside", target_is_directory=True)
    return base


@pytest.fixture(scope="module")
def app(host: Path, embedder: Any) -> Iterator[TestClient]:
    settings = make_settings(
        host / "data",
        buckets={"allowed_roots": [str(host / "allowed")]},
        limits={"max_upload_mb": 1},
    )
    with TestClient(create_app(settings, dense=embedder)) as client:
        yield client


def _create(client: TestClient, name: str, source: str | None = None) -> Any:
    body: dict[str, Any] = {"name": name, "roles": ["public"]}
    if source is not None:
        body["source"] = source
    # ASCII-escaped JSON, so a lone surrogate travels as the client would send it: "\\ud800".
    headers = {**auth(ADMIN_KEY), "Content-Type": "application/json"}
    return client.post("/buckets", content=json.dumps(body), headers=headers)


def _upload(
    client: TestClient, bucket: str, name: str, content: bytes = b"# Note\n\nHello.\n"
) -> Any:
    return client.post(
        f"/buckets/{bucket}/documents", files={"file": (name, content)}, headers=auth(ADMIN_KEY)
    )


@pytest.fixture(scope="module")
def docs_bucket(app: TestClient, host: Path) -> Path:
    resp = _create(app, "docs", str(host / "allowed" / "docs"))
    assert resp.status_code == 201, resp.text
    return host / "allowed" / "docs"


@pytest.mark.parametrize(
    "source",
    [
        "/",
        "/etc",
        "~",
        ".",
        "/proc/self",
        "~nonexistentuser/x",
        "/" + "a" * 10_000,
        "/tmp/" + "Z" + "\u0336\u0337\u0338\u0321\u0322" * 300,
        "/tmp/with\x00nul",
        "/tmp/\ud800",
    ],
)
def test_a_source_outside_the_allowed_roots_is_a_clean_422(app: TestClient, source: str) -> None:
    resp = _create(app, "bad-source", source)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_input"
    assert _create(app, "bad-source").status_code in (201, 409)  # the name was not taken


def test_missing_file_and_outside_folders_get_the_same_message(app: TestClient, host: Path) -> None:
    messages = {
        _create(app, "probe", str(path)).json()["error"]["message"]
        for path in (
            host / "allowed" / "missing",
            host / "allowed" / "a-file.txt",
            host / "outside",
            host / "allowed" / "escape",
            host / "allowed" / "escape" / "secret.txt",
        )
    }
    assert len(messages) == 1, messages


def test_a_source_inside_an_allowed_root_is_stored_resolved(app: TestClient, host: Path) -> None:
    resp = _create(app, "inside", str(host / "allowed" / "docs" / ".." / "docs"))
    assert resp.status_code == 201, resp.text
    assert resp.json()["source"] == str((host / "allowed" / "docs").resolve())


def test_upload_path_stays_in_the_bucket_folder(
    app: TestClient, host: Path, docs_bucket: Path
) -> None:
    resp = _upload(app, "docs", "srv/app/config.txt", b"config")
    assert resp.status_code == 202, resp.text
    assert (docs_bucket / "srv" / "app" / "config.txt").read_bytes() == b"config"


def test_upload_through_a_symlinked_folder_that_leaves_the_bucket_is_refused(
    app: TestClient, host: Path, docs_bucket: Path
) -> None:
    (docs_bucket / "out").symlink_to(host / "outside", target_is_directory=True)
    resp = _upload(app, "docs", "out/planted.txt", b"planted")
    assert resp.status_code == 409, resp.text
    assert not (host / "outside" / "planted.txt").exists()
    resp = _upload(app, "docs", "out/secret.txt", b"overwritten")
    assert resp.status_code == 409, resp.text
    assert (host / "outside" / "secret.txt").read_text() == "outside"


def test_a_file_the_bucket_did_not_create_is_not_overwritten(
    app: TestClient, docs_bucket: Path
) -> None:
    (docs_bucket / "users-own.md").write_text("the user's own words")
    resp = _upload(app, "docs", "users-own.md", b"# Replaced\n")
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"]["code"] == "conflict"
    assert (docs_bucket / "users-own.md").read_text() == "the user's own words"


def test_reuploading_a_registered_object_replaces_it(app: TestClient, docs_bucket: Path) -> None:
    first = _upload(app, "docs", "memo.md", b"# Memo\n\nFirst version.\n")
    assert first.status_code == 202, first.text
    second = _upload(app, "docs", "memo.md", b"# Memo\n\nSecond version.\n")
    assert second.status_code == 202, second.text
    assert second.json()["document_id"] == first.json()["document_id"]
    assert (docs_bucket / "memo.md").read_bytes() == b"# Memo\n\nSecond version.\n"


def test_distinct_unicode_names_stay_distinct(app: TestClient) -> None:
    assert _create(app, "unicode").status_code == 201
    ids = {}
    for name in ("отчёт.md", "договор.md", "報告.md", "100%.md", "100%25.md", ".hidden.md"):
        resp = _upload(app, "unicode", name, f"# {name}\n\nText of {name}.\n".encode())
        assert resp.status_code == 202, resp.text
        ids[name] = resp.json()["document_id"]
    assert len(set(ids.values())) == len(ids)
    sources = {
        app.get(f"/documents/{doc_id}", headers=auth(ADMIN_KEY)).json()["source"]
        for doc_id in ids.values()
    }
    assert {"отчёт.md", "договор.md", "報告.md"} <= sources
    assert len(sources) == len(ids)


def test_a_name_too_long_for_the_file_system_is_422(app: TestClient) -> None:
    assert _create(app, "long").status_code == 201
    name = "ж" * 148 + ".md"
    assert len(name.encode()) == 299
    resp = _upload(app, "long", name)
    assert resp.status_code == 422, resp.text
    assert "255" in resp.json()["error"]["message"]


def test_a_file_where_a_folder_is_and_a_folder_where_a_file_is_are_409(app: TestClient) -> None:
    assert _create(app, "shapes").status_code == 201
    assert _upload(app, "shapes", "sub/file.md").status_code == 202
    resp = _upload(app, "shapes", "sub")
    assert resp.status_code == 409, resp.text
    assert _upload(app, "shapes", "plain").status_code == 202
    resp = _upload(app, "shapes", "plain/inner.md")
    assert resp.status_code == 409, resp.text


def test_without_configured_roots_only_the_data_directory_sources_folder_is_allowed(
    tmp_path: Path, embedder: Any
) -> None:
    """The default when RAGLINE_BUCKETS__ALLOWED_ROOTS is unset: nothing outside the data dir."""
    data = tmp_path / "data"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with TestClient(create_app(make_settings(data), dense=embedder)) as client:
        inside = data / "sources" / "team"
        inside.mkdir(parents=True)
        for source in (str(elsewhere), str(tmp_path), "/", "/etc", str(data)):
            resp = _create(client, "default-roots", source)
            assert resp.status_code == 422, (source, resp.text)
        resp = _create(client, "default-roots", str(inside))
        assert resp.status_code == 201, resp.text
        assert resp.json()["source"] == str(inside.resolve())


def test_partial_uploads_are_swept_at_start_up(tmp_path: Path, embedder: Any) -> None:
    source = tmp_path / "allowed" / "src"
    (source / "nested").mkdir(parents=True)
    settings = make_settings(
        tmp_path / "data", buckets={"allowed_roots": [str(tmp_path / "allowed")]}
    )
    with TestClient(create_app(settings, dense=embedder)) as client:
        assert _create(client, "own").status_code == 201
        assert _create(client, "src", str(source)).status_code == 201
    own = tmp_path / "data" / "buckets" / "own"
    own.mkdir(parents=True, exist_ok=True)
    partials = [
        own / ".upload-abcd1234",
        source / ".upload-x1y2z3w4",
        source / "nested" / ".upload-q_rs5tuv",
    ]
    for path in partials:
        path.write_bytes(b"half an upload")
    kept = source / ".upload-notes.txt"  # a user's file that merely looks alike
    kept.write_text("mine")
    with TestClient(create_app(settings, dense=embedder)):
        pass
    assert [p for p in partials if p.exists()] == []
    assert kept.read_text() == "mine"
    assert os.listdir(source / "nested") == []
