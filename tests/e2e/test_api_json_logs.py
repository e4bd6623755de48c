"""JSON log lines from a real embedded service: one request id from upload to ingestion.

Logging is configured the way ``ragline serve`` configures it (``configure_logging``
with ``RAGLINE_LOG__FORMAT=json``); its handler writes to the process's stderr, which
``capsys`` holds during each test, the embedded worker threads' lines included.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from celery import signals
from fastapi import Request
from fastapi.testclient import TestClient
from opentelemetry import trace

from kernel.settings import Settings
from observability.tracing import active_tracer
from ragline.logging_setup import ConsoleHandler, configure_logging
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.e2e.conftest import auth, wait_done

pytestmark = pytest.mark.e2e

HANDBOOK = b"# Leave\n\nFull-time employees get 25 vacation days per year.\n"
MANAGED_SHAPED_KEY = "rk_" + "Zq8" * 12
CARD = "4111 1111 1111 1111"
EMAIL = "ann.lee@example.com"

Line = dict[str, Any]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(
        tmp_path_factory.mktemp("json-logs") / "data", log={"format": "json"}, log_level="INFO"
    )


@pytest.fixture(scope="module")
def json_logging(settings: Settings) -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    configure_logging(settings, force=True)  # force: pytest's own handlers are on root
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if isinstance(h, ConsoleHandler)]:
            root.removeHandler(handler)
        root.setLevel(level)
        signals.setup_logging.disconnect(dispatch_uid="ragline-logs")


@pytest.fixture(scope="module")
def client(settings: Settings, json_logging: None, embedder: Any) -> Iterator[TestClient]:
    app = create_app(settings, dense=embedder)

    # Stands for any code that logs what a caller sent (a mistake the filters catch).
    @app.post("/test-only/log-it", include_in_schema=False)
    async def log_it(request: Request) -> dict[str, str]:
        body = await request.json()
        logging.getLogger("ragline.test").warning(
            "caller wrote %s", body["text"], extra={"contact": body["contact"]}
        )
        return {"ok": "logged"}

    with TestClient(app) as test_client:
        resp = test_client.post(
            "/buckets", json={"name": "handbook", "roles": ["eng"]}, headers=auth(ADMIN_KEY)
        )
        assert resp.status_code == 201, resp.text
        yield test_client


def _lines(captured: str) -> list[Line]:
    """Every line of stderr that the JSON handler wrote (each must parse on its own)."""
    lines = [line for line in captured.splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


def test_every_line_is_one_json_object_and_an_upload_shares_its_id_with_its_ingestion(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    resp = client.post(
        "/buckets/handbook/documents",
        files={"file": ("handbook.md", HANDBOOK)},
        headers={**auth(ADMIN_KEY), "X-Request-ID": "upload-7f3a"},
    )
    assert resp.status_code == 202, resp.text
    document_id = resp.json()["document_id"]
    assert wait_done(client, document_id)["status"] == "indexed"

    captured = capsys.readouterr().err
    lines = _lines(captured)
    for line in lines:
        assert {"ts", "level", "logger", "message"} <= line.keys(), line
        assert str(line["ts"]).endswith("Z")
    # Nothing our loggers wrote came out in another format.
    for text in captured.splitlines():
        assert text.startswith("{") or not text.startswith(("20", "INFO", "WARNING")), text

    (access,) = [
        line
        for line in lines
        if line["logger"] == "ragline.access"
        and str(line["message"]).startswith("POST /buckets/{name}/documents 202 ")
    ]
    assert access["request_id"] == "upload-7f3a"
    ingestion = [
        line
        for line in lines
        if line["logger"] == "workers.tasks" and document_id in str(line["message"])
    ]
    messages = [str(line["message"]) for line in ingestion]
    assert any(m.startswith(f"ingesting document {document_id}") for m in messages), messages
    assert f"document {document_id} ingested: indexed" in " ".join(messages), messages
    assert {line["request_id"] for line in ingestion} == {"upload-7f3a"}
    # The status polls are requests of their own, each with its own id.
    polls = [
        line
        for line in lines
        if line["logger"] == "ragline.access"
        and str(line["message"]).startswith("GET /documents/{document_id} 200")
    ]
    assert polls and all(p["request_id"] not in ("upload-7f3a", None) for p in polls)


def test_a_line_logged_inside_a_request_is_masked_and_carries_the_request_id(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f"mail {EMAIL}, card {CARD}, keys {ADMIN_KEY} and {MANAGED_SHAPED_KEY}"
    resp = client.post(
        "/test-only/log-it",
        json={"text": text, "contact": f"write to {EMAIL}"},
        headers={**auth(ADMIN_KEY), "X-Request-ID": "mask-1"},
    )
    assert resp.status_code == 200, resp.text
    captured = capsys.readouterr().err
    (line,) = [line for line in _lines(captured) if line["logger"] == "ragline.test"]
    assert line["request_id"] == "mask-1"
    assert line["level"] == "WARNING"
    assert (
        line["message"]
        == "caller wrote mail <EMAIL>, card <CREDIT_CARD>, keys <SECRET> and <SECRET>"
    )
    assert line["contact"] == "write to <EMAIL>"
    for raw in (EMAIL, CARD, "4111111111111111", ADMIN_KEY, MANAGED_SHAPED_KEY):
        assert raw not in captured
    (access,) = [
        line
        for line in _lines(captured)
        if line["logger"] == "ragline.access" and line.get("request_id") == "mask-1"
    ]
    assert str(access["message"]).startswith("POST /test-only/log-it 200 ")


def test_with_tracing_off_no_tracer_provider_is_installed(client: TestClient) -> None:
    assert client.get("/documents", headers=auth(ADMIN_KEY)).status_code == 200
    assert active_tracer() is None
    from opentelemetry.sdk.trace import TracerProvider

    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    assert not trace.get_current_span().get_span_context().is_valid
