"""A broker outage: sends fail fast as ``DependencyUnavailableError`` naming the broker, and
the resender sends the work that was kept once the broker is back.

A ``redis-server`` of the test's own (tests/private_services.py) is killed and started
again; the registry is a real one (SQLite under tmp_path). What reached the broker is
read back from Redis itself: kombu keeps each queue as a list named after it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from kombu.exceptions import OperationalError

from ingest.bucket_catalog import BucketCatalog
from ingest.refresh_log import RefreshRuns
from ingest.registry import Registry
from ingest.reindex_log import ReindexRuns
from kernel.errors import DependencyUnavailableError
from kernel.settings import Settings
from tests.conftest import KEYS
from tests.private_services import PrivateRedis
from workers.celery_app import (
    BROKER_CONNECT_TIMEOUT_S,
    BROKER_SOCKET_TIMEOUT_S,
    INGEST_QUEUE,
    INGEST_SMALL_QUEUE,
    REFRESH_QUEUE,
    RaglineCelery,
    create_celery,
    socket_timeouts,
)
from workers.health import BROKER, OK, UNAVAILABLE, WORKER, IngestionReadiness, queue_check
from workers.resend import Resender
from workers.tasks import (
    INGEST_TASK,
    REFRESH_TASK,
    REINDEX_TASK,
    enqueue_ingest,
    enqueue_refresh,
    enqueue_reindex,
)

pytestmark = pytest.mark.service

SMALL = 1_000  # bytes; the small lane takes documents up to 1 MB by default
LARGE = 5_000_000
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def broker() -> Iterator[PrivateRedis]:
    with PrivateRedis.create() as server:
        yield server


@pytest.fixture
def app(broker: PrivateRedis, tmp_path: Path) -> Iterator[RaglineCelery]:
    if not broker.running:
        broker.start()
    redis.Redis.from_url(broker.url).flushdb()
    settings = Settings(
        mode="distributed",
        data_dir=tmp_path / "data",
        api_keys=json.dumps(KEYS),  # type: ignore[arg-type]
        broker={"url": broker.url},  # type: ignore[arg-type]
    )
    celery = create_celery(settings)
    try:
        yield celery
    finally:
        celery.close()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    registry = Registry(f"sqlite:///{tmp_path / 'registry.db'}")
    BucketCatalog(registry.engine).create_bucket("docs", ["public"], None, None)
    try:
        yield registry
    finally:
        registry.close()


def sent(broker: PrivateRedis, queue: str) -> list[tuple[str, str]]:
    """(task name, its one argument) of each message waiting in ``queue``, oldest first."""
    client = redis.Redis.from_url(broker.url)
    out = []
    for raw in reversed(client.lrange(queue, 0, -1)):  # LPUSH: newest first
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        out.append((message["headers"]["task"], args[0]))
    return out


def register(registry: Registry, key: str, size_bytes: int) -> str:
    return registry.register(
        bucket="docs",
        key=key,
        content_hash=f"hash-{key}",
        size_bytes=size_bytes,
        roles=["public"],
        doc_type=None,
        title=None,
    ).document.id


def test_sending_with_the_broker_down_names_the_broker_and_keeps_the_work(
    app: RaglineCelery, broker: PrivateRedis
) -> None:
    assert enqueue_ingest(app, "doc-before", SMALL) == INGEST_SMALL_QUEUE
    broker.kill()
    with pytest.raises(DependencyUnavailableError) as ingest:
        enqueue_ingest(app, "doc-1", SMALL)
    assert ingest.value.message == (
        "The message broker is unavailable: document 'doc-1' is stored and queued, and will "
        "be ingested once the broker is back; there is no need to send it again."
    )
    assert ingest.value.retry_after_s == 30
    assert isinstance(ingest.value.__cause__, OperationalError)
    with pytest.raises(DependencyUnavailableError) as refresh:
        enqueue_refresh(app, "run-1")
    assert refresh.value.message == (
        "The message broker is unavailable: refresh 'run-1' is recorded as queued and will "
        "start once the broker is back."
    )
    with pytest.raises(DependencyUnavailableError) as reindex:
        enqueue_reindex(app, "reindex-1")
    assert reindex.value.message == (
        "The message broker is unavailable: re-index 'reindex-1' is recorded as queued and "
        "will start once the broker is back."
    )
    assert str(broker.port) not in ingest.value.message + refresh.value.message
    broker.start()
    # The producer's pooled connection died with the broker: the next send replaces it.
    assert enqueue_ingest(app, "doc-after", LARGE) == INGEST_QUEUE
    assert sent(broker, INGEST_QUEUE) == [(INGEST_TASK, "doc-after")]


def test_sends_and_probes_are_bounded(app: RaglineCelery) -> None:
    """No wait without an end: a broker that takes a connection and never answers (not
    one that refuses it) would otherwise hold an upload or a probe forever."""
    conf = app.conf
    assert conf.broker_connection_timeout == BROKER_CONNECT_TIMEOUT_S == 2.0
    assert conf.broker_transport_options["socket_connect_timeout"] == 2.0
    assert conf.broker_transport_options["socket_timeout"] == BROKER_SOCKET_TIMEOUT_S == 4.0
    assert conf.task_publish_retry_policy["max_retries"] == 1


@pytest.mark.parametrize(
    ("url", "bounded"),
    [
        ("redis://127.0.0.1:6379/0", True),
        ("rediss://cache.example:6380/0", True),
        ("sqla+sqlite:////var/lib/ragline/queue.db", False),  # SQLAlchemy would refuse them
        ("amqp://guest@rabbit//", False),
    ],
)
def test_socket_timeouts_go_only_to_brokers_that_take_them(url: str, bounded: bool) -> None:
    expected = {"socket_connect_timeout": 1.0, "socket_timeout": 3.0} if bounded else {}
    assert socket_timeouts(url, connect_s=1.0, reply_s=3.0) == expected


def test_a_silent_broker_fails_the_send_instead_of_holding_it(tmp_path: Path) -> None:
    """A listener that accepts connections and never replies: the send ends with the outage."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        settings = Settings(
            mode="distributed",
            data_dir=tmp_path / "data",
            api_keys=json.dumps(KEYS),  # type: ignore[arg-type]
            broker={"url": f"redis://127.0.0.1:{port}/0"},  # type: ignore[arg-type]
        )
        celery = create_celery(settings)
        try:
            with pytest.raises(DependencyUnavailableError, match="message broker is unavailable"):
                enqueue_ingest(celery, "doc-1", SMALL)
            assert queue_check(celery) == UNAVAILABLE
        finally:
            celery.close()


def test_readiness_names_the_broker_and_skips_the_ping_when_it_is_down(
    app: RaglineCelery, broker: PrivateRedis
) -> None:
    class Workers:
        asked = 0

        def check(self) -> str:
            self.asked += 1
            return OK

    workers = Workers()
    readiness = IngestionReadiness(app, workers)
    assert readiness() == {BROKER: OK, WORKER: OK}
    broker.kill()
    try:
        assert readiness() == {BROKER: UNAVAILABLE, WORKER: UNAVAILABLE}
    finally:
        broker.start()
    assert workers.asked == 1


def test_the_resender_sends_stale_queued_documents_to_their_lanes(
    app: RaglineCelery, broker: PrivateRedis, registry: Registry
) -> None:
    small, large = register(registry, "small.md", SMALL), register(registry, "large.pdf", LARGE)
    catalog = BucketCatalog(registry.engine)
    resend = Resender(app, registry, catalog, RefreshRuns(registry.engine), every_s=0)
    t0 = datetime.now(UTC)

    assert resend(t0 + MINUTE) == []  # queued a minute ago: its message may well be waiting
    assert resend(t0 + 11 * MINUTE) == [large, small]  # in (bucket, key) order
    assert sent(broker, INGEST_SMALL_QUEUE) == [(INGEST_TASK, small)]
    assert sent(broker, INGEST_QUEUE) == [(INGEST_TASK, large)]
    assert resend(t0 + 12 * MINUTE) == []  # sent 1 minute ago by this resender
    assert resend(t0 + 22 * MINUTE) == [large, small]  # still queued 10 minutes later


def test_the_resender_sends_documents_stuck_in_processing_after_an_hour(
    app: RaglineCelery, broker: PrivateRedis, registry: Registry
) -> None:
    doc = register(registry, "stuck.md", SMALL)
    registry.mark_processing(doc)
    resend = Resender(app, registry, BucketCatalog(registry.engine), RefreshRuns(registry.engine))
    t0 = datetime.now(UTC)
    assert resend(t0 + 30 * MINUTE) == []
    assert resend(t0 + 61 * MINUTE) == [doc]
    assert sent(broker, INGEST_SMALL_QUEUE) == [(INGEST_TASK, doc)]


def test_the_resender_sends_stale_queued_refreshes_and_reindexes(
    app: RaglineCelery, broker: PrivateRedis, registry: Registry
) -> None:
    runs, reindexes = RefreshRuns(registry.engine), ReindexRuns(registry.engine)
    t0 = datetime.now(UTC)
    refresh, created = runs.request("docs", "api", t0)
    assert created
    reindex, created = reindexes.request("api", t0)
    assert created
    resend = Resender(app, registry, BucketCatalog(registry.engine), runs, reindexes)
    assert resend(t0 + 5 * MINUTE) == []
    assert resend(t0 + 11 * MINUTE) == [refresh.id, reindex.id]
    assert sent(broker, REFRESH_QUEUE) == [(REFRESH_TASK, refresh.id), (REINDEX_TASK, reindex.id)]


def test_the_resender_waits_for_the_broker_and_sweeps_at_most_every_minute(
    app: RaglineCelery, broker: PrivateRedis, registry: Registry
) -> None:
    doc = register(registry, "waiting.md", SMALL)
    resend = Resender(app, registry, BucketCatalog(registry.engine), RefreshRuns(registry.engine))
    t0 = datetime.now(UTC) + 11 * MINUTE
    broker.kill()
    try:
        assert resend(t0) == []  # the send failed: nothing counted as sent
    finally:
        broker.start()
    assert resend(t0 + timedelta(seconds=30)) == []  # too soon after the last sweep
    assert resend(t0 + MINUTE) == [doc]
    assert sent(broker, INGEST_SMALL_QUEUE) == [(INGEST_TASK, doc)]
