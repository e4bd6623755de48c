"""Outages as a user of the HTTP API sees them (distributed mode).

Redis or PostgreSQL briefly down: ``/ask`` keeps answering, uploads get a clear 503
with ``Retry-After``, ``/ready`` names what is down, and ingestion resumes by itself
when they return. Qdrant unreachable: ``/ask`` answers 503 with a JSON error and
``Retry-After``, never a stack trace.

The servers are the test's own (tests/private_services.py), stopped and started
under a running API: a PostgreSQL cluster for the registry and a ``redis-server``
for the broker; the index is qdrant-client's local mode, held by the API process.
Because local mode allows one client per folder, the ingestion worker runs in this
process too: a real Celery worker on the Redis broker, in a thread, on the API's own
components (see :class:`Worker`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.deps import AppServices
from ingest.pipeline import IngestionDeps
from ingest.ports import DocumentRegistry, RefreshLog
from ingest.refresh import RefreshPolicy
from ingest.reindex import ReindexLog, ReindexPolicy
from kernel.settings import Settings
from ragline.schema import ensure_schema
from ragline.service import create_app
from retrieval.encoders import DenseEncoder
from tests.conftest import ADMIN_KEY, HR_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done
from tests.private_services import PrivatePostgres, PrivateRedis
from workers.celery_app import INGEST_QUEUE, INGEST_SMALL_QUEUE, RaglineCelery, create_celery
from workers.resend import Resender

pytestmark = [
    pytest.mark.e2e,
    # qdrant-client's local mode (the index here) warns that it ignores payload indexes.
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning"),
]

BADGES = b"# Badges\n\nLost badges are replaced by the front desk within one working day.\n"
PARKING = b"# Parking\n\nVisitors park in the north lot; the south lot is for staff only.\n"
LOCKERS = b"# Lockers\n\nLockers on the third floor are assigned by the facilities team.\n"
CANTEEN = b"# Canteen\n\nThe canteen serves breakfast from seven until half past nine.\n"
BADGE_QUESTION = "Who replaces lost badges?"


Reply = Any  # what TestClient returns: an httpx2 response, which httpx's type does not cover


@dataclass
class WorkerRuntime:
    """What tasks need (``workers.celery_app.TaskRuntime``), taken from the API's services."""

    ingestion: IngestionDeps
    registry: DocumentRegistry
    refresh_runs: RefreshLog
    reindex_runs: ReindexLog
    refresh_policy: RefreshPolicy = field(default_factory=RefreshPolicy)
    reindex_policy: ReindexPolicy = field(default_factory=ReindexPolicy)

    def stopping(self) -> bool:
        return False


class Worker:
    """One Celery worker on both ingestion lanes, in a thread of this process.

    One worker, not one per lane as in embedded mode: kombu's Redis transport keeps its
    event loop per process, which two workers in one process would share. It stays up
    through the outages and reconnects by itself, as a worker process does. Two things
    differ from a worker process, for the test's sake: Celery 5 warns on every lost
    connection unless ``worker_cancel_long_running_tasks_on_connection_loss`` is set
    (warnings are errors here; ingestion tasks are idempotent either way), and it is
    stopped by a broadcast ``shutdown`` that it carries out in its own thread (stopping
    a Redis worker's event loop from another thread races with it).
    """

    HOSTNAME = "outage-worker@tests"

    def __init__(self, settings: Settings, services: AppServices) -> None:
        self._app = create_celery(settings)
        self._app.conf.worker_cancel_long_running_tasks_on_connection_loss = True
        self._app.runtime = WorkerRuntime(
            services.ingestion, services.registry, services.refresh_runs, services.reindex_runs
        )
        worker = self._app.Worker(
            hostname=self.HOSTNAME,
            pool="solo",
            concurrency=1,
            loglevel="WARNING",
            quiet=True,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            queues=[INGEST_SMALL_QUEUE, INGEST_QUEUE],
        )
        self._thread = threading.Thread(target=worker.start, name="outage-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._app.control.shutdown(destination=[self.HOSTNAME])
        self._thread.join(60)
        assert not self._thread.is_alive(), "the worker did not stop"
        self._app.close()


@dataclass
class Stack:
    client: TestClient
    postgres: PrivatePostgres
    redis: PrivateRedis
    worker: Worker
    settings: Settings
    docs: dict[str, str]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, embedder: DenseEncoder) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("outages")
    with PrivatePostgres.create() as postgres, PrivateRedis.create() as broker:
        ensure_schema(postgres.url, auto_upgrade=True)  # `ragline db upgrade`
        settings = make_settings(
            root / "data",
            mode="distributed",
            database_url=postgres.url,
            broker={"url": broker.url},
            qdrant={"local_path": root / "qdrant"},
        )
        with TestClient(create_app(settings, dense=embedder)) as client:
            worker = Worker(settings, client.app.state.services)  # type: ignore[attr-defined]
            worker.start()
            try:
                resp = client.post(
                    "/buckets",
                    json={"name": "office", "roles": ["public"]},
                    headers=auth(ADMIN_KEY),
                )
                assert resp.status_code == 201, resp.text
                badges = upload(client, "office", "badges.md", BADGES)["document_id"]
                assert wait_done(client, badges)["status"] == "indexed"
                yield Stack(client, postgres, broker, worker, settings, {"badges": badges})
            finally:
                if not broker.running:
                    broker.start()
                if not (postgres.data / "postmaster.pid").exists():
                    postgres.start()
                worker.stop()


def ask(client: TestClient, question: str, **extra: Any) -> Reply:
    return client.post("/ask", json={"question": question, **extra}, headers=auth(ADMIN_KEY))


def post_upload(client: TestClient, name: str, content: bytes) -> Reply:
    return client.post(
        "/buckets/office/documents", files={"file": (name, content)}, headers=auth(ADMIN_KEY)
    )


def cited(resp: Reply) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [c["document_id"] for c in resp.json()["citations"]]


def wait_ready(client: TestClient, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        resp = client.get("/ready")
        body: dict[str, Any] = resp.json()
        if body["status"] == "ok" or time.monotonic() > deadline:
            assert resp.status_code == 200, body
            return body
        time.sleep(0.5)


def assert_outage(resp: Reply, retry_after: str, message: str) -> None:
    assert resp.status_code == 503, resp.text
    assert resp.headers["retry-after"] == retry_after
    assert resp.json() == {"error": {"code": "dependency_unavailable", "message": message}}


def test_with_redis_down_uploads_wait_and_ask_answers(stack: Stack) -> None:
    client, badges = stack.client, stack.docs["badges"]
    assert cited(ask(client, BADGE_QUESTION)) == [badges]
    stack.redis.kill()
    try:
        resp = post_upload(client, "parking.md", PARKING)
        parking = resp.json()["error"]["message"].split("'")[1]
        assert_outage(
            resp,
            "30",
            f"The message broker is unavailable: document '{parking}' is stored and queued, "
            "and will be ingested once the broker is back; there is no need to send it again.",
        )
        queued = client.get("/documents?status=queued", headers=auth(ADMIN_KEY)).json()
        assert [d["source"] for d in queued["documents"]] == ["parking.md"]
        retry = client.post(f"/documents/{parking}/retry", headers=auth(ADMIN_KEY))
        assert retry.status_code == 503 and retry.headers["retry-after"] == "30"

        assert cited(ask(client, BADGE_QUESTION)) == [badges]  # /ask needs no broker

        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "degraded",
            "checks": {
                "registry": "ok",
                "index": "ok",
                "broker": "unavailable",
                "worker": "unavailable",
            },
            "reasons": {
                "broker": "the message broker did not answer",
                "worker": "the workers cannot be asked while the broker is down",
            },
        }
    finally:
        stack.redis.start()

    # Back: the kept upload reaches a worker through the scheduler's sweep, not a new upload.
    services: AppServices = client.app.state.services  # type: ignore[attr-defined]
    producer: RaglineCelery = create_celery(stack.settings)
    try:
        resend = Resender(producer, services.registry, services.ingestion.buckets,
                          services.refresh_runs)  # fmt: skip
        assert resend(datetime.now(UTC) + timedelta(minutes=11)) == [parking]
    finally:
        producer.close()
    assert wait_done(client, parking)["status"] == "indexed"
    assert cited(ask(client, "Where do visitors park?")) == [parking]
    assert wait_ready(client)["checks"] == dict.fromkeys(
        ("registry", "index", "broker", "worker"), "ok"
    )
    stack.docs["parking"] = parking


def test_with_postgres_down_ask_answers_from_memory_and_uploads_wait(stack: Stack) -> None:
    client, badges = stack.client, stack.docs["badges"]
    # hr only: the admin key's questions (roles admin, public) never meet it.
    resp = client.post(
        "/buckets", json={"name": "canteen", "roles": ["hr"]}, headers=auth(ADMIN_KEY)
    )
    assert resp.status_code == 201, resp.text
    canteen = upload(client, "canteen", "canteen.md", CANTEEN)["document_id"]
    assert wait_done(client, canteen)["status"] == "indexed"
    assert cited(ask(client, BADGE_QUESTION)) == [badges]  # seen by the gate just now
    breakfast = {"question": "When is breakfast served?", "filters": {"bucket": ["canteen"]}}

    stack.postgres.stop()
    try:
        assert cited(ask(client, BADGE_QUESTION)) == [badges]
        assert cited(ask(client, BADGE_QUESTION, filters={"bucket": ["office"]})) == [badges]
        # Only the canteen's document could answer, and the gate never saw it: 503, not
        # an answer that claims the documents say nothing.
        database_down = "The database is unavailable; try again shortly."
        assert_outage(client.post("/ask", json=breakfast, headers=auth(HR_KEY)), "5", database_down)
        assert_outage(post_upload(client, "lockers.md", LOCKERS), "5", database_down)
        assert_outage(client.get("/documents", headers=auth(ADMIN_KEY)), "5", database_down)
        assert_outage(client.get(f"/documents/{badges}", headers=auth(HR_KEY)), "5", database_down)

        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "degraded",
            "checks": {"registry": "unavailable", "index": "ok", "broker": "ok", "worker": "ok"},
            "reasons": {
                "registry": "the database did not answer; /ask answers from recently served "
                "documents meanwhile",
            },
        }
    finally:
        stack.postgres.start()

    assert cited(client.post("/ask", json=breakfast, headers=auth(HR_KEY))) == [canteen]
    lockers = upload(client, "office", "lockers.md", LOCKERS)["document_id"]
    assert wait_done(client, lockers)["status"] == "indexed"
    listed = client.get("/documents?bucket=office", headers=auth(ADMIN_KEY))
    assert listed.status_code == 200
    assert {d["source"] for d in listed.json()["documents"]} >= {"badges.md", "lockers.md"}
    assert wait_ready(client)["status"] == "ok"


class QdrantStartupDouble:
    """A stand-in for a Qdrant server that answers the start-up check, then goes away.

    No Qdrant server runs here, and an API does not start without its index (it checks
    the collection at start-up, on purpose). This double serves Qdrant's REST reads
    (collections, aliases) from qdrant-client's local mode, in which the real adapter
    prepared the collection first, so the API finds exactly what a prepared server
    holds; writes are acknowledged. Stopping it closes the port: from then on the real
    qdrant-client meets what an outage looks like from the API, connection refused.
    """

    def __init__(self, collection: str, dim: int) -> None:
        from qdrant_client import QdrantClient

        from retrieval.index.client import QdrantClientIndex

        local = QdrantClient(":memory:")
        QdrantClientIndex(local, collection, dim).ensure_ready()
        reads: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
            (re.compile(r"/aliases"), local.get_aliases),
            (re.compile(r"/collections"), local.get_collections),
            (re.compile(r"/collections/([^/]+)/aliases"), local.get_collection_aliases),
            (
                re.compile(r"/collections/([^/]+)/exists"),
                lambda name: {"exists": local.collection_exists(name)},
            ),
            (re.compile(r"/collections/([^/]+)"), local.get_collection),
        ]

        def read(path: str) -> object:
            for pattern, answer in reads:
                if matched := pattern.fullmatch(path):
                    try:
                        result = answer(*matched.groups())
                    except ValueError:  # local mode: no such collection
                        return None
                    dump = getattr(result, "model_dump", None)
                    return dump(mode="json") if dump else result
            return None

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(read(self.path.split("?")[0]))

            def do_PUT(self) -> None:  # a payload index (local mode keeps none): made
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self._answer({"operation_id": 0, "status": "completed"})

            def do_POST(self) -> None:  # anything else written at start-up: acknowledged
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self._answer(True)

            def _answer(self, result: object) -> None:
                body = json.dumps({"result": result, "status": "ok", "time": 0.0}).encode()
                self.send_response(200 if result is not None else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self._local = local
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(10)
        self._server.server_close()
        self._local.close()


def test_with_qdrant_unreachable_ask_is_a_clear_503(tmp_path: Path, embedder: DenseEncoder) -> None:
    settings = make_settings(tmp_path / "data")
    double = QdrantStartupDouble(settings.qdrant.collection, embedder.dim)
    settings = make_settings(tmp_path / "data", qdrant={"url": double.url})
    try:
        with TestClient(create_app(settings, dense=embedder)) as client:
            double.stop()
            resp = ask(client, BADGE_QUESTION)
            assert_outage(resp, "5", "The search index is unavailable: qdrant could not search.")
            assert "Traceback" not in resp.text
            ready = client.get("/ready")
            assert ready.status_code == 503
            body = ready.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["index"] == "unavailable"
            assert body["reasons"]["index"] == "the search index did not answer"
            assert body["checks"]["registry"] == "ok"
    finally:
        double.stop()
