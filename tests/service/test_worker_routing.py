"""Lanes: a document goes to the small lane or the general lane by its size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.bucket_catalog import BucketCatalog
from ingest.registry import Registry
from kernel.settings import Settings
from tests.conftest import make_settings
from workers.celery_app import (
    INGEST_QUEUE,
    INGEST_SMALL_QUEUE,
    RaglineCelery,
    create_celery,
    queue_for,
)
from workers.embedded import requeue_unfinished
from workers.tasks import INGEST_TASK, enqueue_ingest, enqueue_registered

pytestmark = pytest.mark.service

THRESHOLD = 1_000


@pytest.fixture
def lane_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", workers={"small_document_bytes": THRESHOLD})


@pytest.fixture
def app(lane_settings: Settings) -> Iterator[RaglineCelery]:
    celery = create_celery(lane_settings)
    yield celery
    celery.close()


def drain(app: RaglineCelery, queue: str) -> list[str]:
    """The document ids waiting in ``queue``, taken off it."""
    ids: list[str] = []
    with app.connection_for_read() as conn:
        simple = conn.SimpleQueue(queue)
        try:
            while True:
                message = simple.get(block=False)
                assert message.headers["task"] == INGEST_TASK
                ids.append(message.payload[0][0])
                message.ack()
        except simple.Empty:
            pass
        finally:
            simple.close()
    return ids


def test_queue_for_picks_the_lane_by_size() -> None:
    assert queue_for(0, THRESHOLD) == INGEST_SMALL_QUEUE
    assert queue_for(THRESHOLD, THRESHOLD) == INGEST_SMALL_QUEUE
    assert queue_for(THRESHOLD + 1, THRESHOLD) == INGEST_QUEUE
    assert queue_for(None, THRESHOLD) == INGEST_QUEUE


def test_enqueue_sends_each_document_to_its_lane(app: RaglineCelery) -> None:
    assert enqueue_ingest(app, "small-doc", 10) == INGEST_SMALL_QUEUE
    assert enqueue_ingest(app, "large-doc", THRESHOLD * 50) == INGEST_QUEUE
    assert enqueue_ingest(app, "unknown-doc") == INGEST_QUEUE
    assert drain(app, INGEST_SMALL_QUEUE) == ["small-doc"]
    assert sorted(drain(app, INGEST_QUEUE)) == ["large-doc", "unknown-doc"]


def test_registered_and_requeued_documents_are_routed_by_their_registered_size(
    app: RaglineCelery, lane_settings: Settings
) -> None:
    registry = Registry(lane_settings.registry_url)
    try:
        BucketCatalog(registry.engine).create_bucket("b", ["public"], None, None)
        ids = {}
        for name, size in (("small.md", 200), ("large.pdf", THRESHOLD * 5)):
            reg = registry.register(
                bucket="b",
                key=name,
                content_hash=name,
                size_bytes=size,
                roles=["public"],
                doc_type=None,
                title=None,
            )
            ids[name] = reg.document.id
        enqueue_registered(app, registry, ids["small.md"])
        enqueue_registered(app, registry, ids["large.pdf"])
        enqueue_registered(app, registry, "deleted-meanwhile")
        assert drain(app, INGEST_SMALL_QUEUE) == [ids["small.md"]]
        assert sorted(drain(app, INGEST_QUEUE)) == sorted([ids["large.pdf"], "deleted-meanwhile"])

        assert requeue_unfinished(app, registry) == 2
        assert drain(app, INGEST_SMALL_QUEUE) == [ids["small.md"]]
        assert drain(app, INGEST_QUEUE) == [ids["large.pdf"]]
    finally:
        registry.close()
