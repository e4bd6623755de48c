"""The ``BucketStore`` port on S3: ``S3BucketStore`` against the S3 double (moto's server).

Mirrors the folder store's tests (tests/unit/ingest/test_storage*.py) where S3 has the
same behaviour to keep: listing order and tags, hidden keys, uploads that refuse too
large, foreign or escaping names, sources that refuse with one message.
"""

from __future__ import annotations

import hashlib
import io
import logging
import socket
import stat
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ingest.s3_store import S3BucketStore
from kernel.errors import (
    ConfigurationError,
    ConflictError,
    DependencyUnavailableError,
    InvalidInputError,
    PayloadTooLargeError,
    RaglineError,
)
from tests.s3_double import DOUBLE_KEY_ID, DOUBLE_SECRET, S3Double, double_settings

pytestmark = pytest.mark.service


@pytest.fixture
def store(s3_bucket: S3Double, tmp_path: Path) -> Iterator[S3BucketStore]:
    opened = S3BucketStore(s3_bucket.settings, tmp_path / "cache")
    yield opened
    opened.close()


@pytest.fixture
def source(s3_bucket: S3Double) -> str:
    return f"s3://{s3_bucket.bucket}/docs"


def _put(s3: S3Double, key: str, body: bytes = b"x") -> None:
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=body)


def _keys(store: S3BucketStore, source: str) -> list[str]:
    return [o.key for o in store.list_objects("b", source)]


def _all_keys(s3: S3Double) -> list[str]:
    listed = s3.client.list_objects_v2(Bucket=s3.bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def unreachable(tmp_path: Path, s3_bucket: S3Double) -> Iterator[S3BucketStore]:
    """A store whose endpoint is a closed loopback port (allowed sources as the double's)."""
    settings = double_settings(f"http://127.0.0.1:{_closed_port()}", [f"s3://{s3_bucket.bucket}"])
    opened = S3BucketStore(settings, tmp_path / "cache-unreachable")
    yield opened
    opened.close()


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -- listing -------------------------------------------------------------------------


def test_listing_gives_keys_under_the_prefix_in_key_order(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    for key in ("docs/b.txt", "docs/a/z.txt", "docs/a.txt", "docs-secret/x.txt", "other/y.txt"):
        _put(s3_bucket, key, key.encode())
    listed = list(store.list_objects("b", source))
    assert [o.key for o in listed] == ["a.txt", "a/z.txt", "b.txt"]
    head = s3_bucket.client.head_object(Bucket=s3_bucket.bucket, Key="docs/a/z.txt")
    middle = listed[1]
    assert middle.size_bytes == len(b"docs/a/z.txt")
    assert middle.tag == head["ETag"].strip('"')
    assert '"' not in middle.tag
    assert middle.changed_at.utcoffset() is not None
    assert middle.changed_at.tzinfo == UTC
    assert middle.changed_at == head["LastModified"]


def test_a_whole_bucket_source_lists_every_key(s3_bucket: S3Double, store: S3BucketStore) -> None:
    for key in ("z.txt", "docs/a.txt"):
        _put(s3_bucket, key)
    assert _keys(store, f"s3://{s3_bucket.bucket}") == ["docs/a.txt", "z.txt"]


def test_listing_follows_every_page(s3_bucket: S3Double, tmp_path: Path, source: str) -> None:
    keys = [f"f{i:02d}.txt" for i in range(7)]
    for key in reversed(keys):
        _put(s3_bucket, f"docs/{key}")
    small_pages = S3BucketStore(s3_bucket.settings, tmp_path / "cache", list_page_size=2)
    try:
        assert _keys(small_pages, source) == keys
    finally:
        small_pages.close()


def test_an_overwrite_moves_the_tag_and_a_delete_removes_the_object(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    _put(s3_bucket, "docs/a.txt", b"first")
    _put(s3_bucket, "docs/b.txt", b"stays")
    before = {o.key: o for o in store.list_objects("b", source)}
    _put(s3_bucket, "docs/a.txt", b"second version")
    after = {o.key: o for o in store.list_objects("b", source)}
    assert after["a.txt"].tag != before["a.txt"].tag
    assert after["a.txt"].size_bytes == len(b"second version")
    assert after["b.txt"] == before["b.txt"]
    s3_bucket.client.delete_object(Bucket=s3_bucket.bucket, Key="docs/a.txt")
    assert _keys(store, source) == ["b.txt"]


def test_placeholders_hidden_and_unusable_keys_are_not_objects(
    s3_bucket: S3Double, store: S3BucketStore, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    for key in (
        "docs/keep.txt",
        "docs/",  # a console's "folder" placeholders: the prefix itself and one inside
        "docs/folder/",
        "docs/.hidden",
        "docs/.git/config",
        "docs/sub/.env",
        "docs/a//b.txt",  # an empty part
        "docs/ctl\x01.txt",  # a control character
        "docs/shadow",  # a file that is also the folder of the next key
        "docs/shadow/inner.txt",
        "docs/" + "n" * 256,  # a part longer than a file name may be
    ):
        _put(s3_bucket, key)
    with caplog.at_level(logging.WARNING, logger="ingest.s3_store"):
        assert _keys(store, source) == ["keep.txt", "shadow/inner.txt"]
    assert "4 objects skipped" in caplog.text


def test_an_unreachable_store_is_unavailable_not_empty(
    unreachable: S3BucketStore, s3_bucket: S3Double
) -> None:
    with pytest.raises(DependencyUnavailableError) as caught:
        list(unreachable.list_objects("b", f"s3://{s3_bucket.bucket}/docs"))
    assert f"s3://{s3_bucket.bucket}/docs" in caught.value.message


def test_a_missing_bucket_is_unavailable_not_empty(store: S3BucketStore) -> None:
    with pytest.raises(DependencyUnavailableError) as caught:
        list(store.list_objects("b", "s3://no-such-bucket-for-ragline/docs"))
    assert "NoSuchBucket" in caught.value.message


def _stubbed_store(tmp_path: Path) -> tuple[S3BucketStore, Stubber, Any]:
    """botocore's Stubber plays a store that answers as told (the double grants everything)."""
    client = boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id=DOUBLE_KEY_ID,
        aws_secret_access_key=DOUBLE_SECRET,
    )
    store = S3BucketStore(
        double_settings("http://unused.invalid", ["s3://denied"]), tmp_path, client=client
    )
    return store, Stubber(client), client


def test_access_denied_is_unavailable_for_listing_and_refused_for_a_new_source(
    tmp_path: Path,
) -> None:
    store, stubber, client = _stubbed_store(tmp_path)
    for _ in range(2):
        stubber.add_client_error(
            "list_objects_v2", service_error_code="AccessDenied", http_status_code=403
        )
    with stubber:
        with pytest.raises(DependencyUnavailableError) as caught:
            list(store.list_objects("b", "s3://denied/docs"))
        assert "AccessDenied" in caught.value.message
        with pytest.raises(InvalidInputError):
            store.check_source("s3://denied/docs")
        stubber.assert_no_pending_responses()
    client.close()


# -- path_for ------------------------------------------------------------------------


def test_path_for_downloads_the_current_bytes_privately(
    s3_bucket: S3Double, store: S3BucketStore, source: str, tmp_path: Path
) -> None:
    _put(s3_bucket, "docs/sub/a.txt", b"version one")
    path = store.path_for("b", source, "sub/a.txt")
    assert path == tmp_path / "cache" / s3_bucket.bucket / "docs" / "sub" / "a.txt"
    assert path.read_bytes() == b"version one"
    _put(s3_bucket, "docs/sub/a.txt", b"version two")
    assert store.path_for("b", source, "sub/a.txt").read_bytes() == b"version two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert _files_under(tmp_path / "cache") == [f"{s3_bucket.bucket}/docs/sub/a.txt"]


def test_path_for_an_object_gone_from_the_store_is_a_missing_file(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    _put(s3_bucket, "docs/a.txt", b"soon gone")
    cached = store.path_for("b", source, "a.txt")
    assert cached.is_file()
    s3_bucket.client.delete_object(Bucket=s3_bucket.bucket, Key="docs/a.txt")
    again = store.path_for("b", source, "a.txt")
    assert again == cached
    assert not again.exists()


def test_path_for_replaces_a_stale_copy_in_the_way(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    _put(s3_bucket, "docs/a", b"a file first")
    store.path_for("b", source, "a")
    s3_bucket.client.delete_object(Bucket=s3_bucket.bucket, Key="docs/a")
    _put(s3_bucket, "docs/a/b.txt", b"then a folder")
    assert store.path_for("b", source, "a/b.txt").read_bytes() == b"then a folder"


@pytest.mark.parametrize("key", ["../x", "a/../../x", "", "a//b"])
def test_path_for_refuses_keys_that_leave_the_cache(
    store: S3BucketStore, source: str, key: str
) -> None:
    with pytest.raises(InvalidInputError):
        store.path_for("b", source, key)


def test_path_for_on_an_unreachable_store_is_unavailable(
    unreachable: S3BucketStore, s3_bucket: S3Double
) -> None:
    with pytest.raises(DependencyUnavailableError):
        unreachable.path_for("b", f"s3://{s3_bucket.bucket}/docs", "a.txt")


# -- write ---------------------------------------------------------------------------


def test_write_uploads_under_the_prefix_and_keeps_a_cached_copy(
    s3_bucket: S3Double, store: S3BucketStore, source: str, tmp_path: Path
) -> None:
    obj = store.write("b", source, "x/y.txt", io.BytesIO(b"hello"), max_bytes=10)
    assert obj.key == "x/y.txt"
    assert obj.path == tmp_path / "cache" / s3_bucket.bucket / "docs" / "x" / "y.txt"
    assert _files_under(tmp_path / "cache") == [f"{s3_bucket.bucket}/docs/x/y.txt"]
    assert obj.size_bytes == 5
    assert obj.content_hash == hashlib.sha256(b"hello").hexdigest()
    assert obj.path.read_bytes() == b"hello"
    stored = s3_bucket.client.get_object(Bucket=s3_bucket.bucket, Key="docs/x/y.txt")
    assert stored["Body"].read() == b"hello"
    assert _keys(store, source) == ["x/y.txt"]


def test_write_escapes_names_into_listable_keys(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    for name in (".env", "100% sure.txt", "line\nbreak.txt"):
        store.write("b", source, name, io.BytesIO(b"1"), max_bytes=10)
    assert _keys(store, source) == ["%2Eenv", "100%25 sure.txt", "line%0Abreak.txt"]


def test_a_too_large_upload_uploads_nothing_and_leaves_no_temp_file(
    s3_bucket: S3Double, store: S3BucketStore, source: str, tmp_path: Path
) -> None:
    with pytest.raises(PayloadTooLargeError):
        store.write("b", source, "big.bin", io.BytesIO(b"x" * 100), max_bytes=10)
    assert _all_keys(s3_bucket) == []
    assert _files_under(tmp_path / "cache") == []


def test_a_foreign_object_is_not_overwritten_but_a_registered_one_is(
    s3_bucket: S3Double, store: S3BucketStore, source: str, tmp_path: Path
) -> None:
    _put(s3_bucket, "docs/a.txt", b"someone else's")
    with pytest.raises(ConflictError):
        store.write("b", source, "a.txt", io.BytesIO(b"mine"), max_bytes=10)
    with pytest.raises(ConflictError):
        store.write(
            "b", source, "a.txt", io.BytesIO(b"mine"), max_bytes=10, registered=lambda k: False
        )
    body = s3_bucket.client.get_object(Bucket=s3_bucket.bucket, Key="docs/a.txt")["Body"]
    assert body.read() == b"someone else's"
    assert _files_under(tmp_path / "cache") == []  # the spooled bytes are gone too
    asked: list[str] = []

    def registered(key: str) -> bool:
        asked.append(key)
        return key == "a.txt"

    store.write("b", source, "a.txt", io.BytesIO(b"mine"), max_bytes=10, registered=registered)
    assert asked == ["a.txt"]
    body = s3_bucket.client.get_object(Bucket=s3_bucket.bucket, Key="docs/a.txt")["Body"]
    assert body.read() == b"mine"


def test_an_object_put_during_the_upload_is_not_overwritten(
    s3_bucket: S3Double, store: S3BucketStore, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = store._check_placement

    def then_someone_puts(*args: Any) -> bool:
        exists = check(*args)
        _put(s3_bucket, "docs/a.txt", b"theirs")
        return exists

    monkeypatch.setattr(store, "_check_placement", then_someone_puts)
    with pytest.raises(ConflictError, match="during the upload"):
        store.write("b", source, "a.txt", io.BytesIO(b"mine"), max_bytes=10)
    body = s3_bucket.client.get_object(Bucket=s3_bucket.bucket, Key="docs/a.txt")["Body"]
    assert body.read() == b"theirs"


@pytest.mark.parametrize("name", ["../etc/passwd", "a/../../b", "", "/", ".."])
def test_traversal_and_empty_names_upload_nothing(
    s3_bucket: S3Double, store: S3BucketStore, source: str, name: str
) -> None:
    with pytest.raises(InvalidInputError):
        store.write("b", source, name, io.BytesIO(b"x"), max_bytes=10)
    assert _all_keys(s3_bucket) == []


def test_a_file_and_a_folder_in_the_way_are_conflicts(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    _put(s3_bucket, "docs/report", b"a file")
    _put(s3_bucket, "docs/folder/inner.txt", b"inside")
    with pytest.raises(ConflictError, match="is a file"):
        store.write("b", source, "report/x.txt", io.BytesIO(b"1"), max_bytes=10)
    with pytest.raises(ConflictError, match="is a folder"):
        store.write("b", source, "folder", io.BytesIO(b"1"), max_bytes=10)
    assert sorted(_all_keys(s3_bucket)) == ["docs/folder/inner.txt", "docs/report"]


def test_a_key_past_the_s3_limit_with_its_prefix_is_invalid(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    name = "/".join(["p" * 200] * 5) + "/" + "x" * 15  # a 1020-byte key, 1025 with "docs/"
    with pytest.raises(InvalidInputError, match="S3 prefix"):
        store.write("b", source, name, io.BytesIO(b"1"), max_bytes=10)
    assert _all_keys(s3_bucket) == []


def test_a_name_part_over_255_bytes_is_invalid_input(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    with pytest.raises(InvalidInputError):
        store.write("b", source, "ж" * 148 + ".md", io.BytesIO(b"1"), max_bytes=10)
    assert _all_keys(s3_bucket) == []


def test_write_to_an_unreachable_store_is_unavailable(
    unreachable: S3BucketStore, s3_bucket: S3Double
) -> None:
    with pytest.raises(DependencyUnavailableError):
        unreachable.write(
            "b", f"s3://{s3_bucket.bucket}/docs", "a.txt", io.BytesIO(b"1"), max_bytes=10
        )


# -- delete_object -------------------------------------------------------------------


def test_delete_object_removes_the_object_and_its_cached_copy(
    s3_bucket: S3Double, store: S3BucketStore, source: str
) -> None:
    _put(s3_bucket, "docs/a.txt", b"mine")
    _put(s3_bucket, "docs/b.txt", b"stays")
    cached = store.path_for("b", source, "a.txt")
    store.delete_object("b", source, "a.txt")
    store.delete_object("b", source, "a.txt")  # gone already is fine
    assert sorted(_all_keys(s3_bucket)) == ["docs/b.txt"]
    assert not cached.exists()


def test_delete_object_on_an_unreachable_store_is_unavailable(
    unreachable: S3BucketStore, s3_bucket: S3Double
) -> None:
    with pytest.raises(DependencyUnavailableError):
        unreachable.delete_object("b", f"s3://{s3_bucket.bucket}/docs", "a.txt")


# -- check_source --------------------------------------------------------------------


@pytest.fixture
def docs_only(s3_bucket: S3Double, tmp_path: Path) -> Iterator[S3BucketStore]:
    """Allows ``s3://<bucket>/docs`` and a bucket that does not exist."""
    settings = double_settings(
        s3_bucket.endpoint_url, [f"s3://{s3_bucket.bucket}/docs", "s3://ragline-missing-bucket"]
    )
    opened = S3BucketStore(settings, tmp_path / "cache")
    yield opened
    opened.close()


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("s3://{b}/docs", "s3://{b}/docs"),
        ("s3://{b}/docs/", "s3://{b}/docs"),
        ("S3://{b}/docs/team a/2024", "s3://{b}/docs/team a/2024"),
    ],
)
def test_a_source_under_an_allowed_one_is_canonical(
    s3_bucket: S3Double, docs_only: S3BucketStore, raw: str, canonical: str
) -> None:
    b = s3_bucket.bucket
    assert docs_only.check_source(raw.format(b=b)) == canonical.format(b=b)


@pytest.mark.parametrize(
    "raw",
    [
        "s3://{b}/docs-secret",  # a string prefix of the allowed source, not a path prefix
        "s3://{b}",  # wider than allowed
        "s3://{b}/other",
        "s3://{b}/docs/../other",
        "s3://{b}/docs/./x",
        "s3://{b}//docs",
        "s3://{b}/docs//x",
        "s3:///{b}/docs",
        "s3://{b}/docs/x\x00y",
        "s3://{b}/docs/x\ny",
        "s3://ragline-missing-bucket",  # allowed, but no such bucket
        "s3://ragline-missing-bucket/docs",
        "s3://",
        "s3://ab",
        "s3://UPPER/docs",
        "s3://under_score/docs",
        "s3://192.168.1.1/docs",
        "s3://a..b/docs",
        "s3://-leading/docs",
        "s3://xn--punycode/docs",
        "s3://name-s3alias/docs",
        "http://{b}/docs",
        "/{b}/docs",
        "s3://{b}/docs/" + "x" * 5000,
        "s3://{b}/docs/\ud800",
    ],
)
def test_every_refused_source_gets_one_message(
    s3_bucket: S3Double, docs_only: S3BucketStore, raw: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        docs_only.check_source(raw.format(b=s3_bucket.bucket))
    with pytest.raises(InvalidInputError) as reference:
        docs_only.check_source(f"s3://{s3_bucket.bucket}/docs-secret")
    assert caught.value.message == reference.value.message
    assert "RAGLINE_S3__ALLOWED_SOURCES" in caught.value.message


def test_no_allowed_sources_refuses_every_s3_source(s3_bucket: S3Double, tmp_path: Path) -> None:
    closed = S3BucketStore(double_settings(s3_bucket.endpoint_url, []), tmp_path)
    try:
        with pytest.raises(InvalidInputError, match="none configured"):
            closed.check_source(f"s3://{s3_bucket.bucket}")
    finally:
        closed.close()


def test_check_source_on_an_unreachable_store_is_unavailable(
    unreachable: S3BucketStore, s3_bucket: S3Double
) -> None:
    with pytest.raises(DependencyUnavailableError):
        unreachable.check_source(f"s3://{s3_bucket.bucket}/docs")


@pytest.mark.parametrize("entry", ["docs", "s3://Bad/docs", "s3://b//x", "/srv/docs"])
def test_a_malformed_allowed_source_is_a_configuration_error(
    s3_endpoint: str, tmp_path: Path, entry: str
) -> None:
    with pytest.raises(ConfigurationError, match="RAGLINE_S3__ALLOWED_SOURCES"):
        S3BucketStore(double_settings(s3_endpoint, [entry]), tmp_path)


def test_half_a_key_pair_is_a_configuration_error(s3_endpoint: str, tmp_path: Path) -> None:
    settings = double_settings(s3_endpoint, []).model_copy(update={"secret_access_key": None})
    with pytest.raises(ConfigurationError, match="both"):
        S3BucketStore(settings, tmp_path)


# -- secrets -------------------------------------------------------------------------


def test_the_secret_never_reaches_logs_errors_or_reprs(
    docs_only: S3BucketStore,
    unreachable: S3BucketStore,
    source: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = docs_only
    errors: list[str] = []
    with caplog.at_level(logging.DEBUG):
        store.check_source(source)
        store.write("b", source, "a.txt", io.BytesIO(b"1"), max_bytes=10)
        list(store.list_objects("b", source))
        store.path_for("b", source, "a.txt")
        store.path_for("b", source, "gone.txt")
        for call in (
            lambda: store.check_source("s3://ragline-missing-bucket"),
            lambda: store.write("b", source, "a.txt", io.BytesIO(b"1"), max_bytes=10),
            lambda: store.write("b", source, "big", io.BytesIO(b"1" * 11), max_bytes=10),
            lambda: unreachable.check_source(source),
            lambda: list(unreachable.list_objects("b", source)),
            lambda: unreachable.path_for("b", source, "a.txt"),
            lambda: list(store.list_objects("b", "s3://ragline-missing-bucket/x")),
        ):
            with pytest.raises(RaglineError) as caught:
                call()
            errors.append(f"{caught.value!s} {caught.value!r}")
    assert len(errors) == 7
    assert len(caplog.records) > 10  # boto3 and botocore did log at DEBUG
    shown = "\n".join([caplog.text, *errors, repr(store), repr(vars(store))])
    assert DOUBLE_SECRET not in shown
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ingest"))
    assert "refused" in ours
    assert "unavailable" in "\n".join(errors)
    assert DOUBLE_KEY_ID not in ours
    assert DOUBLE_KEY_ID not in "\n".join([*errors, repr(store), repr(vars(store))])
