"""``SourceRouter``: ``s3://`` sources reach the S3 store, everything else the folder store.

The folder store is real (tmp folders). botocore's Stubber stands in for S3 (a double:
no network here): each test queues the answers S3 would give and checks that exactly
those calls, with exactly those parameters, were made.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from pydantic import SecretStr

from ingest.ports import BucketStore
from ingest.s3_store import S3BucketStore
from ingest.source_router import SourceRouter
from ingest.storage import LocalBucketStore
from kernel.errors import InvalidInputError
from kernel.settings import S3Settings

pytestmark = pytest.mark.unit

SOURCE = "s3://team-docs/hr"


@pytest.fixture
def s3_client() -> Iterator[Any]:
    client = boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="AKIASTUBBED000000001",
        aws_secret_access_key="stubbed-secret",
    )
    yield client
    client.close()


@pytest.fixture
def stubber(s3_client: Any) -> Iterator[Stubber]:
    with Stubber(s3_client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def roots(tmp_path: Path) -> Path:
    (tmp_path / "roots" / "docs").mkdir(parents=True)
    return tmp_path


@pytest.fixture
def router(roots: Path, s3_client: Any) -> SourceRouter:
    local = LocalBucketStore(
        roots / "data" / "buckets",
        roots / "data" / "derived",
        source_roots=[roots / "roots"],
        data_dir=roots / "data",
    )
    settings = S3Settings(
        access_key_id=SecretStr("AKIASTUBBED000000001"),
        secret_access_key=SecretStr("stubbed-secret"),
        allowed_sources=["s3://team-docs"],
    )
    return SourceRouter(local, S3BucketStore(settings, roots / "cache", client=s3_client))


def test_the_router_is_a_bucket_store(router: SourceRouter) -> None:
    store: BucketStore = router  # mypy checks the port; the runtime relies on it
    assert callable(store.delete_object)


def test_check_source_dispatches_on_the_scheme(
    router: SourceRouter, stubber: Stubber, roots: Path
) -> None:
    stubber.add_response(
        "list_objects_v2",
        {"KeyCount": 0},
        {"Bucket": "team-docs", "Prefix": "hr/", "MaxKeys": 1},
    )
    assert router.check_source("S3://team-docs/hr/") == SOURCE
    assert router.check_source(str(roots / "roots" / "docs")) == str(
        (roots / "roots" / "docs").resolve()
    )
    with pytest.raises(InvalidInputError, match="absolute folder path"):
        router.check_source("team-docs/hr")  # no scheme: a (relative) folder
    with pytest.raises(InvalidInputError, match="RAGLINE_S3__ALLOWED_SOURCES"):
        router.check_source("s3://other-docs/hr")  # refused before any call to S3


def test_list_objects_dispatches_on_the_source(
    router: SourceRouter, stubber: Stubber, roots: Path
) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    stubber.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "hr/policy.md", "Size": 3, "ETag": '"abc"', "LastModified": when}]},
        {"Bucket": "team-docs", "Prefix": "hr/", "MaxKeys": 1000},
    )
    [remote] = router.list_objects("b", SOURCE)
    assert (remote.key, remote.size_bytes, remote.tag, remote.changed_at) == (
        "policy.md",
        3,
        "abc",
        when,
    )
    (roots / "roots" / "docs" / "local.md").write_text("x")
    assert [o.key for o in router.list_objects("b", str(roots / "roots" / "docs"))] == ["local.md"]
    assert list(router.list_objects("own", None)) == []


def test_path_for_and_write_dispatch_on_the_source(
    router: SourceRouter, stubber: Stubber, roots: Path
) -> None:
    stubber.add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(b"remote"), 6), "ContentLength": 6},
        {"Bucket": "team-docs", "Key": "hr/policy.md"},
    )
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stubber.add_response("list_objects_v2", {"KeyCount": 0})
    stubber.add_response(
        "put_object",
        {"ETag": '"e"'},
        {
            "Bucket": "team-docs",
            "Key": "hr/new.md",
            "Body": ANY,
            "ContentLength": 3,
            "ChecksumSHA256": ANY,
            "IfNoneMatch": "*",
        },
    )
    assert router.path_for("b", SOURCE, "policy.md").read_bytes() == b"remote"
    stored = router.write("b", SOURCE, "new.md", io.BytesIO(b"new"), max_bytes=10)
    assert stored.path == roots / "cache" / "team-docs" / "hr" / "new.md"

    folder = roots / "roots" / "docs"
    local = router.write("b", str(folder), "here.md", io.BytesIO(b"abc"), max_bytes=10)
    assert local.path == folder / "here.md"
    assert router.path_for("b", str(folder), "here.md") == folder / "here.md"
    assert router.path_for("own", None, "x.md") == roots / "data" / "buckets" / "own" / "x.md"


def test_delete_object_dispatches_on_the_source(
    router: SourceRouter, stubber: Stubber, roots: Path
) -> None:
    stubber.add_response("delete_object", {}, {"Bucket": "team-docs", "Key": "hr/old.md"})
    router.delete_object("b", SOURCE, "old.md")
    folder = roots / "roots" / "docs"
    (folder / "old.md").write_text("x")
    router.delete_object("b", str(folder), "old.md")
    assert not (folder / "old.md").exists()


def test_derived_files_always_stay_local(router: SourceRouter, roots: Path) -> None:
    stored = router.write_derived("doc-1", "agenda.txt", b"items")
    assert stored.path == roots / "data" / "derived" / "doc-1" / "agenda.txt"
    assert router.derived_path("doc-1", "agenda.txt") == stored.path
    router.delete_derived("doc-1")
    assert not stored.path.exists()


def test_the_sweep_visits_local_folders_only(router: SourceRouter, roots: Path) -> None:
    folder = roots / "roots" / "docs"
    (folder / ".upload-abcd1234").write_bytes(b"partial")
    assert router.sweep_partial_uploads([str(folder), SOURCE, None]) == 1
    assert not (folder / ".upload-abcd1234").exists()
