"""Distributed mode as real processes: `ragline worker`, `ragline beat`, `ragline serve`.

Every ragline process here is a subprocess in its own process group, configured by the
environment only (``RAGLINE_MODE=distributed``, ``RAGLINE_DATABASE_URL`` on a fresh
PostgreSQL database migrated by ``ragline db upgrade``, ``RAGLINE_BROKER__URL`` on Redis
database 11). What each test proves:

- a worker killed with SIGKILL in the middle of a document loses nothing and duplicates
  nothing: once a new worker runs, every accepted document ends indexed or failed, with
  one served version whose chunks alone remain in the index;
- two `ragline beat` processes and a worker on every queue keep a folder bucket indexed
  by themselves, one refresh run per firing, never two runs of the bucket at once; the
  worker has two threads because a refresh task waits for the ingestions it queued,
  which need a thread of their own;
- `ragline beat` stops cleanly on SIGTERM;
- `ragline serve` answers /ask with a citation from what the workers indexed, and
  /ready names each of its checks.

The index. No Qdrant server binary can be installed on this machine kind, so the index
is qdrant-client's local mode (``RAGLINE_QDRANT__LOCAL_PATH``), whose folder one
process may hold at a time; the server adapter's contract is tested through that same
client in ``tests/contract``. ``ragline serve`` opens the index when it starts, in
distributed mode too, so the phases take turns: while workers ingest, no API runs and
the test registers and enqueues documents through the Python API, as an upload would
(bucket store, registry, broker); the test itself opens the index only once every
process has stopped; then ``ragline serve`` holds it for /ask. For /ready's worker
check a worker is started beside the API on a scratch index of its own: it takes no
task, since nothing is queued.

Redelivery. Tasks are acknowledged late; with Redis, a killed worker's unacknowledged
task is delivered again once the broker's visibility timeout has passed since it was
delivered (kombu's default: one hour). The test sets it to 30 s through
``RAGLINE_BROKER__VISIBILITY_TIMEOUT_S``, which ragline must pass on to the broker as
``broker_transport_options``; without that setting, the killed worker's documents stay
``processing`` for an hour and the SIGKILL test fails.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from ingest.bucket_catalog import BucketCatalog
from ingest.pipeline import chunk_id_for
from ingest.records import Document, RefreshRun
from ingest.refresh_log import RefreshRuns
from ingest.registry import Registry
from ingest.registry_tables import VersionCounterRow
from ingest.schedule_book import ScheduleBook
from ingest.scheduling import set_schedule
from ingest.storage import LocalBucketStore
from kernel.settings import Settings
from tests.conftest import ADMIN_KEY, KEYS
from tests.postgres_db import fresh_database
from workers.celery_app import create_celery
from workers.tasks import enqueue_registered

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/11"
WAIT_S = 300.0
VISIBILITY_TIMEOUT_S = 30
RAGLINE = [sys.executable, "-m", "ragline", "--log-level", "INFO"]
ALL_LANES = ["worker", "--queues", "ingest,ingest_small,refresh", "--concurrency", "2"]
TURN_KEY = "ragline-test:distributed-processes:turn"
TAG = "RAGLINE_TEST_PROCESS"  # marks every process a test started, and their children

BADGES = b"# Badges\n\nLost badges are replaced by the front desk within one working day.\n"
SMALL_DOCUMENTS = {
    "badges.md": BADGES,
    "parking.md": b"# Parking\n\nVisitors park on level two of the north garage.\n",
    "kitchen.md": b"# Kitchen\n\nThe kitchen closes at nine for cleaning every evening.\n",
    "printers.md": b"# Printers\n\nColour printing needs a request to the office manager.\n",
}
BROKEN = ("broken.pdf", b"%PDF-1.7\nthis is not a PDF body at all\n")


def slow_document(sections: int = 40) -> bytes:
    """Markdown of about 120 chunks: long enough to embed to be killed while it does."""
    parts = ["# Operations manual\n"]
    for n in range(sections):
        parts.append(f"\n## Procedure {n}\n\n")
        parts.extend(
            f"Step {m} of procedure {n}: inspect valve {n * 31 + m} in hall {m % 7}, record "
            f"pressure reading {n * 7 + m} and sign the log sheet number {n}-{m}. "
            for m in range(16)
        )
    return "".join(parts).encode()


def clear_test_redis() -> None:
    """Empty Redis database 11, this module's own (CI's full run uses database 7), but
    for the key that gives this run its turn (see ``redis_turn``)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        for key in client.scan_iter():
            if key != TURN_KEY.encode():
                client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="module")
def redis_turn() -> Iterator[None]:
    """One run of this module at a time on database 11 (another clone, CI, a colleague):
    two would take each other's tasks, which name documents of another database."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    turn = client.lock(TURN_KEY, timeout=3600, blocking_timeout=3600)
    try:
        assert turn.acquire(), "another run of this module held Redis database 11 for an hour"
        try:
            yield
        finally:
            with contextlib.suppress(redis.exceptions.LockError):  # expired meanwhile
                turn.release()
    finally:
        client.close()


class Cluster:
    """One distributed deployment on one data directory and database; starts processes.

    Every process gets its own process group and a tag in its environment, which its
    children inherit, so that cleanup finds them all (parser children lead their own
    process groups and outlive a worker killed with SIGKILL until their pipe closes).
    """

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.database_url = database_url
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.tags: dict[str, str] = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RAGLINE_")}
        self.env.update(
            RAGLINE_MODE="distributed",
            RAGLINE_API_KEYS=json.dumps(KEYS),
            RAGLINE_DATA_DIR=str(self.data_dir),
            RAGLINE_DATABASE_URL=database_url,
            RAGLINE_BROKER__URL=REDIS_URL,
            RAGLINE_BROKER__VISIBILITY_TIMEOUT_S=str(VISIBILITY_TIMEOUT_S),
            RAGLINE_QDRANT__LOCAL_PATH=str(self.data_dir / "qdrant"),
            RAGLINE_REFRESH__MIN_EVERY_S="1",
            RAGLINE_REFRESH__BEAT_INTERVAL_S="0.5",
            HF_HUB_OFFLINE="1",
            DO_NOT_TRACK="1",
            TOKENIZERS_PARALLELISM="false",
            PYTHONWARNINGS="ignore",
        )
        self.settings = Settings(
            mode="distributed",
            data_dir=self.data_dir,
            api_keys=json.dumps(KEYS),  # type: ignore[arg-type]
            database_url=database_url,
            broker={"url": REDIS_URL},  # type: ignore[arg-type]
            qdrant={"local_path": self.data_dir / "qdrant"},  # type: ignore[arg-type]
            refresh={"min_every_s": 1, "beat_interval_s": 0.5},  # type: ignore[arg-type]
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*RAGLINE, *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
        )

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        self.tags[name] = f"{name}-{uuid.uuid4().hex}"
        with (self.root / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                [*RAGLINE, *args],
                cwd=REPO,
                env={**self.env, **env, TAG: self.tags[name]},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def stop(self, name: str, how: signal.Signals = signal.SIGTERM) -> int:
        """Signal the process group to stop (a warm shutdown); its exit code."""
        proc = self.procs[name]
        if proc.poll() is None:
            os.killpg(proc.pid, how)
        return proc.wait(WAIT_S)

    def kill(self, name: str) -> None:
        """SIGKILL to the whole process group, as an OOM killer or a lost node would."""
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(WAIT_S)

    def survivors(self, name: str) -> list[int]:
        """Pids still running with this process's tag (itself or a child that outlived it)."""
        marker = f"{TAG}={self.tags[name]}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if marker in (entry / "environ").read_bytes().split(b"\0"):
                        found.append(int(entry.name))
        return found

    def close(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(WAIT_S)
            for pid in self.survivors(name):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def wait_for(self, predicate: Callable[[], bool], what: str, *alive: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not predicate():
            for name in alive:
                code = self.procs[name].poll()
                assert code is None, (
                    f"{name} exited ({code}) before {what}:\n{self.log(name)[-3000:]}"
                )
            assert time.monotonic() < deadline, f"waited {WAIT_S:g} s for {what}"
            time.sleep(0.3)


@pytest.fixture
def cluster(tmp_path: Path, redis_turn: None) -> Iterator[Cluster]:
    clear_test_redis()
    with fresh_database("ragline_dist") as url:
        deployment = Cluster(tmp_path, url)
        try:
            migrated = deployment.run("db", "upgrade")
            assert migrated.returncode == 0, migrated.stderr
            assert "upgraded from no revision to" in migrated.stdout
            yield deployment
        finally:
            deployment.close()
            clear_test_redis()


class Front:
    """What the API process would hold to accept uploads: the registry, the broker, the
    bucket store. The test accepts documents through it while a worker holds the index."""

    def __init__(self, cluster: Cluster) -> None:
        settings = cluster.settings
        self.registry = Registry(cluster.database_url)
        self.app = create_celery(settings)
        self.store = LocalBucketStore(settings.buckets_dir, settings.data_dir / "derived")

    def accept(self, bucket: str, name: str, body: bytes) -> str:
        """Store, register and enqueue one document, as ``POST /buckets/{b}/documents`` does."""
        stored = self.store.write(bucket, None, name, io.BytesIO(body), max_bytes=50_000_000)
        registration = self.registry.register(
            bucket=bucket,
            key=stored.key,
            content_hash=stored.content_hash,
            size_bytes=stored.size_bytes,
            roles=["public"],
            doc_type=None,
            title=None,
        )
        enqueue_registered(self.app, self.registry, registration.document.id)
        return registration.document.id

    def close(self) -> None:
        self.app.close()
        self.registry.close()


@contextlib.contextmanager
def front(cluster: Cluster) -> Iterator[Front]:
    opened = Front(cluster)
    try:
        yield opened
    finally:
        opened.close()


def last_version(registry: Registry, document_id: str) -> int:
    """The last version the registry handed to an attempt at the document (0: none yet)."""
    with registry.engine.connect() as conn:
        found = conn.scalar(
            select(VersionCounterRow.last_version).where(
                VersionCounterRow.document_id == document_id
            )
        )
    return int(found or 0)


def settled(registry: Registry, ids: list[str]) -> bool:
    return all(registry.get(i).status in ("indexed", "failed") for i in ids)


def statuses(registry: Registry, ids: list[str]) -> dict[str, str]:
    return {registry.get(i).key: registry.get(i).status for i in ids}


def index_points(cluster: Cluster) -> dict[str, list[dict[str, Any]]]:
    """Every chunk in the on-disk index, by document (only when no process holds it)."""
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(cluster.data_dir / "qdrant"))
    try:
        by_document: dict[str, list[dict[str, Any]]] = defaultdict(list)
        offset = None
        while True:
            points, offset = client.scroll(
                cluster.settings.qdrant.collection, limit=256, offset=offset, with_payload=True
            )
            for point in points:
                payload = dict(point.payload or {})
                payload["id"] = str(point.id)
                by_document[payload["document_id"]].append(payload)
            if offset is None:
                return by_document
    finally:
        client.close()


def assert_served_alone(doc: Document, points: list[dict[str, Any]]) -> None:
    """One served version, all its chunks, once each, and nothing of any other version."""
    assert doc.status == "indexed" and doc.indexed_version >= 1 and doc.chunks >= 1, doc
    assert {p["document_version"] for p in points} == {doc.indexed_version}, doc.key
    assert sorted(p["chunk_index"] for p in points) == list(range(doc.chunks)), doc.key
    expected = {chunk_id_for(doc.id, doc.indexed_version, i) for i in range(doc.chunks)}
    assert {p["id"] for p in points} == expected, doc.key


def test_a_worker_killed_mid_document_loses_nothing_and_duplicates_nothing(
    cluster: Cluster,
) -> None:
    with front(cluster) as api:
        registry = api.registry
        BucketCatalog(registry.engine).create_bucket("handbook", ["public"], None, None)
        slow = api.accept("handbook", "manual.md", slow_document())
        broken = api.accept("handbook", *BROKEN)
        small = [api.accept("handbook", n, b) for n, b in SMALL_DOCUMENTS.items()]
        everything = [slow, broken, *small]

        cluster.start("worker-1", *ALL_LANES)
        # Parsed and chunked: the attempt holds version 1 and is embedding its chunks.
        cluster.wait_for(lambda: last_version(registry, slow) == 1, "version 1", "worker-1")
        cluster.kill("worker-1")
        assert registry.get(slow).status == "processing", "the kill came after the document"

        cluster.start("worker-2", *ALL_LANES)
        try:
            cluster.wait_for(lambda: settled(registry, everything), "every end", "worker-2")
        except AssertionError as exc:
            # Unfinished ones: the killed worker's tasks, not delivered again (yet).
            raise AssertionError(f"{exc}: {statuses(registry, everything)}") from None
        assert cluster.stop("worker-2") == 0, cluster.log("worker-2")[-3000:]
        docs = {i: registry.get(i) for i in everything}

    # Parser children lead their own process groups: they exit once their parent is gone.
    cluster.wait_for(lambda: not cluster.survivors("worker-1"), "its orphans to exit")
    assert docs[broken].status == "failed" and docs[broken].error_code, docs[broken]
    assert docs[broken].chunks == 0
    assert docs[slow].attempts >= 2, "the killed attempt was not taken again"
    assert docs[slow].indexed_version >= 2, "the killed attempt's version is served"
    points = index_points(cluster)
    for i in [slow, *small]:
        assert_served_alone(docs[i], points.get(i, []))
    assert broken not in points
    assert sum(len(p) for p in points.values()) == sum(d.chunks for d in docs.values())
    assert "without a runtime" not in cluster.log("worker-2")


def fired_runs(log: str) -> list[str]:
    """The refresh run ids a `ragline beat` process reports having started."""
    marker = "scheduled refreshes started: "
    return [
        run_id
        for line in log.splitlines()
        if marker in line
        for run_id in line.split(marker, 1)[1].split(", ")
    ]


def test_two_beats_and_a_worker_keep_a_folder_bucket_indexed(cluster: Cluster) -> None:
    source = cluster.data_dir / "sources" / "handbook"
    source.mkdir(parents=True)
    (source / "badges.md").write_bytes(BADGES)
    every_s = 2
    with front(cluster) as api:
        registry = api.registry
        catalog = BucketCatalog(registry.engine)
        catalog.create_bucket("handbook", ["public"], None, str(source))
        set_schedule(
            ScheduleBook(registry.engine),
            catalog,
            "handbook",
            every=f"{every_s}s",
            cron=None,
            timezone=None,
            min_every_s=cluster.settings.refresh.min_every_s,
            now=datetime.now(UTC),
        )
        runs = RefreshRuns(registry.engine)

        def indexed_keys() -> set[str]:
            docs = registry.list_documents(bucket="handbook", limit=100)
            return {d.key for d in docs if d.status == "indexed"}

        def history() -> list[RefreshRun]:
            return sorted(runs.list_runs("handbook", 1000), key=lambda r: r.queued_at)

        cluster.start("worker", *ALL_LANES)
        cluster.start("beat-1", "beat")
        cluster.start("beat-2", "beat")
        everyone = ("worker", "beat-1", "beat-2")
        cluster.wait_for(lambda: indexed_keys() == {"badges.md"}, "a first refresh", *everyone)
        (source / "parking.md").write_bytes(SMALL_DOCUMENTS["parking.md"])
        cluster.wait_for(lambda: "parking.md" in indexed_keys(), "the new file", *everyone)
        cluster.wait_for(lambda: len(history()) >= 8, "8 runs", *everyone)
        # Ctrl-C: see test_beat_stops_cleanly_on_sigterm for SIGTERM.
        assert cluster.stop("beat-1", signal.SIGINT) == cluster.stop("beat-2", signal.SIGINT) == 0
        cluster.wait_for(lambda: not any(r.active for r in history()), "the last run", "worker")
        assert cluster.stop("worker") == 0, cluster.log("worker")[-3000:]
        ran = history()
        docs = {d.key: d for d in registry.list_documents(bucket="handbook", limit=100)}

    assert {r.status for r in ran} <= {"finished", "skipped"}, ran
    assert {r.trigger for r in ran} == {"schedule"}
    # Each firing was claimed by one scheduler, whose next firing came a period later.
    fired = {name: fired_runs(cluster.log(name)) for name in ("beat-1", "beat-2")}
    assert sorted(fired["beat-1"] + fired["beat-2"]) == sorted(r.id for r in ran), fired
    gaps = [b.queued_at - a.queued_at for a, b in itertools.pairwise(ran)]
    assert min(gaps) >= timedelta(seconds=every_s), gaps
    # Never two runs of the bucket at once.
    for earlier, later in itertools.pairwise([r for r in ran if r.started_at is not None]):
        assert earlier.finished_at is not None and later.started_at is not None
        assert earlier.finished_at <= later.started_at, (earlier, later)
    assert sum(r.counts.new for r in ran) == 2  # each file counted new once
    assert set(docs) == {"badges.md", "parking.md"}
    points = index_points(cluster)
    for doc in docs.values():
        assert_served_alone(doc, points.get(doc.id, []))


def test_beat_stops_cleanly_on_sigterm(cluster: Cluster) -> None:
    """SIGTERM is how a service manager or Kubernetes stops a process: the scheduler
    ends its tick, closes its connections and exits 0, as it does on Ctrl-C."""
    cluster.start("beat", "beat")
    cluster.wait_for(lambda: "checking schedules every" in cluster.log("beat"), "its start", "beat")
    time.sleep(2)  # a few ticks
    code = cluster.stop("beat")
    output = cluster.log("beat")
    assert (code, "scheduler stopped" in output) == (0, True), output[-3000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_from_what_the_workers_indexed(cluster: Cluster) -> None:
    with front(cluster) as api:
        BucketCatalog(api.registry.engine).create_bucket("handbook", ["public"], None, None)
        ids = [api.accept("handbook", n, b) for n, b in SMALL_DOCUMENTS.items()]
        cluster.start("worker", "worker")
        cluster.wait_for(lambda: settled(api.registry, ids), "every end", "worker")
        assert cluster.stop("worker") == 0  # it releases the index for the API
        badges = api.registry.get(ids[0])
    assert badges.status == "indexed"

    port = free_port()
    cluster.start("serve", "serve", "--port", str(port))
    base_url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:

        def up() -> bool:
            with contextlib.suppress(httpx.TransportError):
                return http.get("/health").status_code == 200
            return False

        cluster.wait_for(up, "the API", "serve")
        answer = http.post("/ask", json={"question": "Who replaces lost badges?"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["found"] is True
        first = body["citations"][0]
        assert (first["document_id"], first["source"]) == (badges.id, "badges.md")
        assert "front desk" in first["text"]
        anonymous = httpx.post(f"{base_url}/ask", json={"question": "badges?"}, timeout=60)
        assert anonymous.status_code == 401

        # No worker runs (the API holds the index): /ready says which check fails, and
        # stays 200: /ask needs no worker.
        ready = http.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "degraded",
            "checks": {"registry": "ok", "index": "ok", "broker": "ok", "worker": "unavailable"},
            "reasons": {"worker": "no ingestion worker answered"},
        }
        # A worker that answers pings. It must open an index to start, and the API holds
        # the real one, so it gets a scratch index of its own; it takes no task (none is
        # queued), so it writes nothing anywhere.
        scratch = str(cluster.root / "scratch-index")
        cluster.start("pinger", "worker", RAGLINE_QDRANT__LOCAL_PATH=scratch)
        cluster.wait_for(
            lambda: http.get("/ready").json()["status"] == "ok", "/ready", "serve", "pinger"
        )
        assert http.get("/ready").json() == {
            "status": "ok",
            "checks": {"registry": "ok", "index": "ok", "broker": "ok", "worker": "ok"},
            "reasons": {},
        }
    assert cluster.stop("pinger") == 0
    # uvicorn shuts down gracefully, then raises the signal again to exit by it.
    assert cluster.stop("serve") == -signal.SIGTERM, cluster.log("serve")[-3000:]
    assert len(index_points(cluster)[badges.id]) == badges.chunks  # released, intact
