"""Where an upload may land, which source folders a bucket may use, and the start-up sweep."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.storage import LocalBucketStore, resolve_source
from kernel.errors import ConflictError, InvalidInputError

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path: Path) -> LocalBucketStore:
    return LocalBucketStore(tmp_path / "data" / "buckets", tmp_path / "data" / "derived")


def _write(store: LocalBucketStore, name: str, source: Path | None = None, **kw: object) -> Path:
    obj = store.write(
        "b",
        str(source) if source else None,
        name,
        io.BytesIO(b"new"),
        max_bytes=100,
        **kw,  # type: ignore[arg-type]
    )
    return obj.path


# -- sources -------------------------------------------------------------------------


@pytest.fixture
def host(tmp_path: Path) -> Path:
    (tmp_path / "roots" / "docs").mkdir(parents=True)
    (tmp_path / "roots" / "file.txt").write_text("x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "roots" / "link").symlink_to(tmp_path / "outside")
    return tmp_path


def test_a_folder_inside_an_allowed_root_is_resolved(host: Path) -> None:
    got = resolve_source(
        str(host / "roots" / "docs" / ".." / "docs"), [host / "roots"], host / "data"
    )
    assert got == (host / "roots" / "docs").resolve()


@pytest.mark.parametrize("rel", ["roots/missing", "roots/file.txt", "outside", "roots/link", "."])
def test_missing_file_outside_and_escaping_sources_share_one_message(host: Path, rel: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        resolve_source(str(host / rel), [host / "roots"], host / "data")
    with pytest.raises(InvalidInputError) as reference:
        resolve_source(str(host / "roots" / "missing"), [host / "roots"], host / "data")
    assert caught.value.message == reference.value.message


@pytest.mark.parametrize(
    "raw",
    [
        "~",
        "~nonexistentuser/x",
        ".",
        "docs",
        "/" + "a" * 10_000,
        "/x/" + "Z\u0336" * 200,
        "/a\x00b",
        "/\ud800",
    ],
)
def test_odd_sources_are_refused_cleanly(host: Path, raw: str) -> None:
    with pytest.raises(InvalidInputError):
        resolve_source(raw, [host / "roots"], host / "data")


def test_a_source_may_not_hold_the_data_directory_or_its_internals(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for folder in (data / "buckets" / "other", data / "sources" / "ok", data / "index"):
        folder.mkdir(parents=True)
    assert resolve_source(str(data / "sources" / "ok"), [tmp_path], data)
    for bad in (tmp_path, data, data / "buckets" / "other", data / "index"):
        with pytest.raises(InvalidInputError):
            resolve_source(str(bad), [tmp_path], data)


# -- placement -----------------------------------------------------------------------


def test_nested_names_stay_inside_the_bucket_folder(
    store: LocalBucketStore, tmp_path: Path
) -> None:
    path = _write(store, "srv/app/config.txt")
    assert path == (tmp_path / "data" / "buckets" / "b" / "srv" / "app" / "config.txt").resolve()


def test_a_symlinked_folder_leading_outside_is_refused(
    store: LocalBucketStore, tmp_path: Path
) -> None:
    bucket = tmp_path / "data" / "buckets" / "b"
    bucket.mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (bucket / "out").symlink_to(tmp_path / "outside")
    with pytest.raises(ConflictError):
        _write(store, "out/planted.txt")
    with pytest.raises(ConflictError):
        _write(store, "out/deeper/planted.txt")
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_symlinked_file_leading_outside_is_refused(
    store: LocalBucketStore, tmp_path: Path
) -> None:
    bucket = tmp_path / "data" / "buckets" / "b"
    bucket.mkdir(parents=True)
    (tmp_path / "secret").write_text("secret")
    (bucket / "note.txt").symlink_to(tmp_path / "secret")
    with pytest.raises(ConflictError):
        _write(store, "note.txt")
    assert (tmp_path / "secret").read_text() == "secret"


def test_a_source_folder_file_the_bucket_did_not_register_is_kept(
    store: LocalBucketStore, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "theirs.md").write_text("theirs")
    with pytest.raises(ConflictError, match="not overwritten"):
        _write(store, "theirs.md", source)
    with pytest.raises(ConflictError):
        _write(store, "theirs.md", source, registered=lambda key: key != "theirs.md")
    assert (source / "theirs.md").read_text() == "theirs"
    path = _write(store, "theirs.md", source, registered=lambda key: key == "theirs.md")
    assert path.read_bytes() == b"new"


def test_file_and_folder_in_the_way_are_conflicts(store: LocalBucketStore) -> None:
    _write(store, "sub/file.md")
    with pytest.raises(ConflictError):
        _write(store, "sub")
    _write(store, "plain")
    with pytest.raises(ConflictError):
        _write(store, "plain/inner.md")


def test_a_name_over_255_bytes_is_invalid_input(store: LocalBucketStore) -> None:
    with pytest.raises(InvalidInputError):
        _write(store, "ж" * 148 + ".md")


# -- sweep ---------------------------------------------------------------------------


def test_sweep_removes_abandoned_partial_uploads_only(
    store: LocalBucketStore, tmp_path: Path
) -> None:
    own = tmp_path / "data" / "buckets" / "b" / "deep"
    source = tmp_path / "src"
    for folder in (own, source / "x"):
        folder.mkdir(parents=True)
    abandoned = [
        own / ".upload-abcd1234",
        source / ".upload-zz_9y8x7",
        source / "x" / ".upload-00000000",
    ]
    for path in abandoned:
        path.write_bytes(b"partial")
    look_alike = source / ".upload-notes.md"
    look_alike.write_text("a user's file")
    in_flight = source / ".upload-inflight"
    in_flight.write_bytes(b"being written")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".upload-abcd1234").write_bytes(b"not a bucket")
    with in_flight.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        removed = store.sweep_partial_uploads([str(source), None, "relative/ignored"])
    assert removed == 3
    assert [p for p in abandoned if p.exists()] == []
    assert look_alike.exists() and in_flight.exists()
    assert (elsewhere / ".upload-abcd1234").exists()


_WRITER = """
import sys
from pathlib import Path
from ingest.storage import LocalBucketStore
data = Path(sys.argv[1])
LocalBucketStore(data / "buckets", data / "derived").write(
    "b", None, "doc.md", sys.stdin.buffer, max_bytes=1 << 30
)
"""


def test_a_killed_upload_leaves_nothing_after_the_sweep(
    store: LocalBucketStore, tmp_path: Path
) -> None:
    bucket = tmp_path / "data" / "buckets" / "b"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path / "data")],
        stdin=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert writer.stdin is not None
    try:
        writer.stdin.write(b"x" * (2 << 20))  # more than one block: the temp file has data
        writer.stdin.flush()
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size for p in bucket.glob(".upload-*")):
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        with contextlib.suppress(BrokenPipeError):
            writer.stdin.close()
    assert [p.name for p in bucket.glob(".upload-*")]
    assert store.sweep_partial_uploads([]) == 1
    assert os.listdir(bucket) == []
