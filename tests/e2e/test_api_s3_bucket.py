"""An S3 bucket source followed by a schedule, as a user drives it over HTTP.

moto's S3 server on loopback stands in for S3 (``tests/s3_double.py``). The user
creates a bucket on ``s3://<bucket>/docs``, schedules it, then adds, changes and
deletes objects with their own S3 client; ``/ask`` must follow without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ragline.service import create_app
from tests.conftest import ADMIN_KEY, ENG_KEY, make_settings
from tests.e2e.conftest import auth
from tests.e2e.test_api_refresh import ask, cited, cited_text, refreshes
from tests.s3_double import S3Double, double_settings

pytestmark = pytest.mark.e2e

TIMEOUT_S = 120.0


@pytest.fixture
def s3_api(
    s3_bucket: S3Double, tmp_path_factory: pytest.TempPathFactory, embedder: Any
) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("s3api") / "data",
        s3=double_settings(s3_bucket.endpoint_url, [f"s3://{s3_bucket.bucket}/docs"]),
        refresh={"min_every_s": 1, "beat_interval_s": 0.2},
    )
    with TestClient(create_app(settings, dense=embedder)) as client:
        yield client


def _put(s3: S3Double, key: str, text: str) -> None:
    s3.client.put_object(Bucket=s3.bucket, Key=f"docs/{key}", Body=text.encode())


def _until(what: str, check: Any) -> Any:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"not within {TIMEOUT_S} s: {what}")


def test_a_scheduled_s3_bucket_follows_adds_changes_and_deletes(
    s3_api: TestClient, s3_bucket: S3Double
) -> None:
    _put(s3_bucket, "ferry.txt", "The island ferry leaves the harbour at 07:15 every day.")
    _put(s3_bucket, "library.txt", "The town library lends telescopes for two weeks.")
    _put(s3_bucket, "other-prefix.txt", "A third object under the prefix.")
    s3_bucket.client.put_object(Bucket=s3_bucket.bucket, Key="private/salary.txt", Body=b"x")
    source = f"s3://{s3_bucket.bucket}/docs"
    resp = s3_api.post(
        "/buckets",
        json={"name": "island", "roles": ["public"], "source": source},
        headers=auth(ADMIN_KEY),
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["source"] == source
    refused = s3_api.post(
        "/buckets",
        json={"name": "sneaky", "roles": ["public"], "source": f"s3://{s3_bucket.bucket}"},
        headers=auth(ADMIN_KEY),
    )
    assert refused.status_code == 422, refused.text
    resp = s3_api.put("/buckets/island/schedule", json={"every": "1s"}, headers=auth(ADMIN_KEY))
    assert resp.status_code == 200, resp.text

    first = _until(
        "the ferry is answerable",
        lambda: (
            (b := ask(s3_api, ENG_KEY, "When does the ferry leave?", "island"))
            and "ferry.txt" in cited(b)
            and b
        ),
    )
    assert "07:15" in cited_text(first)
    keys = {d["source"] for d in _documents(s3_api)}
    assert keys == {"ferry.txt", "library.txt", "other-prefix.txt"}  # never private/

    _put(s3_bucket, "ferry.txt", "The island ferry now leaves the harbour at 08:40.")
    _put(s3_bucket, "museum.txt", "The lighthouse museum opens on Sundays at noon.")
    s3_bucket.client.delete_object(Bucket=s3_bucket.bucket, Key="docs/library.txt")

    changed = _until(
        "the new ferry time is answerable",
        lambda: (
            (b := ask(s3_api, ENG_KEY, "When does the ferry leave?", "island"))
            and "08:40" in cited_text(b)
            and b
        ),
    )
    assert "07:15" not in cited_text(changed)
    _until(
        "the museum is answerable",
        lambda: (
            "museum.txt"
            in cited(ask(s3_api, ENG_KEY, "When does the lighthouse museum open?", "island"))
        ),
    )
    _until("the library is gone", lambda: "library.txt" not in _sources(s3_api))
    telescopes = ask(s3_api, ENG_KEY, "Who lends telescopes?", "island")
    assert "library.txt" not in cited(telescopes)

    # A run's counts are recorded when its ingestions settle, a moment after they are
    # searchable: wait for the finished runs to account for every object.
    def totals() -> tuple[int, int]:
        done = [r for r in refreshes(s3_api, "island") if r["status"] == "finished"]
        assert all(r["trigger"] == "schedule" for r in done)
        return sum(r["new"] for r in done), sum(r["deleted"] for r in done)

    _until("the refreshes record 4 new objects and 1 deletion", lambda: totals() == (4, 1))
    detail = s3_api.get("/buckets/island", headers=auth(ADMIN_KEY)).json()
    assert detail["schedule"]["every_s"] == 1 and detail["source"] == source
    _until(
        "the bucket reports no lag",
        lambda: (
            s3_api.get("/buckets/island", headers=auth(ADMIN_KEY)).json()["freshness"]["lag_s"] == 0
        ),
    )


def _documents(api: TestClient) -> list[dict[str, Any]]:
    resp = api.get("/documents?bucket=island", headers=auth(ADMIN_KEY))
    assert resp.status_code == 200, resp.text
    docs: list[dict[str, Any]] = resp.json()["documents"]
    return docs


def _sources(api: TestClient) -> set[str]:
    return {d["source"] for d in _documents(api)}
