"""A worker in its own process, on Redis, builds its own runtime and indexes documents."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.bucket_catalog import BucketCatalog
from ingest.registry import Registry
from ingest.storage import LocalBucketStore
from kernel.settings import Settings
from tests.conftest import KEYS
from workers.celery_app import RaglineCelery, create_celery
from workers.health import OK, UNAVAILABLE, PingProbe, queue_check
from workers.tasks import enqueue_registered

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
REDIS_DB = 7
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
WAIT_S = 300.0
MARKDOWN = b"# Badges\n\nLost badges are replaced by the front desk within one working day.\n"


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    import redis

    if not _redis_answers():
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed and no Redis answers on 127.0.0.1:6379")
        start = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379"]
        subprocess.run([*start, "--save", "", "--appendonly", "no"], check=True)
        deadline = time.monotonic() + 30
        while not _redis_answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.2)
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


def worker_env(data_dir: Path, broker: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RAGLINE_MODE="distributed",
        RAGLINE_API_KEYS=json.dumps(KEYS),
        RAGLINE_DATA_DIR=str(data_dir),
        RAGLINE_BROKER__URL=broker,
        RAGLINE_QDRANT__LOCAL_PATH=str(data_dir / "qdrant"),
        HF_HUB_OFFLINE="1",
        DO_NOT_TRACK="1",
        PYTHONWARNINGS="ignore",
    )
    return env


def worker_settings(data_dir: Path, broker: str) -> Settings:
    return Settings(
        mode="distributed",
        data_dir=data_dir,
        api_keys=json.dumps(KEYS),  # type: ignore[arg-type]
        broker={"url": broker},  # type: ignore[arg-type]
        qdrant={"local_path": data_dir / "qdrant"},  # type: ignore[arg-type]
    )


COMMANDS = {
    "celery-cli": [
        sys.executable, "-m", "celery", "-A", "ragline.worker", "worker",
        "-Q", "ingest,ingest_small", "--loglevel", "INFO", "-n", "standalone-test@%h",
    ],
    "ragline-worker": [
        sys.executable, "-m", "ragline", "--log-level", "INFO", "worker",
        "--queues", "ingest,ingest_small",
    ],
}  # fmt: skip


def stop_worker(worker: subprocess.Popen[bytes]) -> int:
    """SIGTERM (a warm shutdown), then its exit code; killed if it does not stop in time."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(WAIT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        raise


def wait_for(predicate: object, what: str, worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():  # type: ignore[operator]
        assert worker.poll() is None, f"the worker exited ({worker.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {WAIT_S:g} s"
        time.sleep(0.5)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_standalone_worker_indexes_a_document(
    command: str, redis_url: str, tmp_path: Path
) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    data_dir = tmp_path / "data"
    settings = worker_settings(data_dir, redis_url)
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            COMMANDS[command],
            cwd=REPO,
            env=worker_env(data_dir, redis_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    app: RaglineCelery = create_celery(settings)
    try:
        probe = PingProbe(app, timeout_s=1.0)
        wait_for(lambda: probe.check() == OK, "answer to a ping", worker)
        assert queue_check(app) == OK

        registry = Registry(settings.registry_url)
        try:
            BucketCatalog(registry.engine).create_bucket("standalone", ["public"], None, None)
            store = LocalBucketStore(settings.buckets_dir, data_dir / "derived")
            stored = store.write(
                "standalone", None, "badges.md", io.BytesIO(MARKDOWN), max_bytes=1_000_000
            )
            registration = registry.register(
                bucket="standalone",
                key=stored.key,
                content_hash=stored.content_hash,
                size_bytes=stored.size_bytes,
                roles=["public"],
                doc_type=None,
                title=None,
            )
            doc_id = registration.document.id
            enqueue_registered(app, registry, doc_id)
            wait_for(lambda: registry.get(doc_id).status in ("indexed", "failed"), "end", worker)
            doc = registry.get(doc_id)
            assert (doc.status, doc.error) == ("indexed", None)
            assert doc.chunks >= 1
        finally:
            registry.close()
    finally:
        code = stop_worker(worker)
    output = log_path.read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert "without a runtime" not in output
    assert PingProbe(app, timeout_s=1.0).check() == UNAVAILABLE
    app.close()

    from retrieval.index.client import from_local_path

    index = from_local_path(data_dir / "qdrant", settings.qdrant.collection, 384)
    try:
        assert index.count(document_id=doc_id) == doc.chunks
    finally:
        index.close()


def test_the_queue_check_fails_when_the_broker_does_not_answer(tmp_path: Path) -> None:
    app = create_celery(worker_settings(tmp_path / "data", "redis://127.0.0.1:9/0"))
    try:
        assert queue_check(app) == UNAVAILABLE
        assert PingProbe(app, timeout_s=0.5).check() == UNAVAILABLE
    finally:
        app.close()
