"""One access-log line per request, with a request id and a fingerprint, never a key."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.fingerprint import load_fingerprint_secret
from kernel.settings import Settings
from ragline.service import create_app
from retrieval.access import Principal
from tests.conftest import ADMIN_KEY, ENG_KEY, make_settings
from tests.e2e.conftest import auth

pytestmark = pytest.mark.e2e

SECRET_QUERY = "zebra-quartz-query-value"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("access") / "data")


@pytest.fixture(scope="module")
def client(settings: Settings, embedder: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        yield test_client


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ragline.access"]


def test_each_request_logs_one_line_with_route_status_and_fingerprint(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ragline.access")
    fingerprint = Principal.from_key(ADMIN_KEY, [], load_fingerprint_secret(settings)).key_id
    resp = client.get(
        "/documents/some-document-id",
        params={"q": SECRET_QUERY},
        headers={**auth(ADMIN_KEY), "X-Request-ID": "req-42.a_b"},
    )
    assert resp.status_code == 404
    assert resp.headers["x-request-id"] == "req-42.a_b"
    lines = _access_lines(caplog)
    assert len(lines) == 1
    line = lines[0]
    assert re.fullmatch(
        rf"GET /documents/\{{document_id\}} 404 \d+\.\dms key={fingerprint} request_id=req-42\.a_b",
        line,
    ), line
    everything = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for secret in (ADMIN_KEY, SECRET_QUERY, "some-document-id"):
        assert secret not in everything


def test_refused_requests_are_logged_without_a_fingerprint(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ragline.access")
    resp = client.post("/ask", json={"question": "hi"}, headers=auth("wrong-key-value"))
    assert resp.status_code == 401
    (line,) = _access_lines(caplog)
    assert line.startswith("POST /ask 401 ") and " key=- " in line
    assert "wrong-key-value" not in caplog.text


@pytest.mark.parametrize("incoming", ["has space", "x" * 65, "semi;colon", ""])
def test_unsafe_request_ids_are_replaced(
    client: TestClient, caplog: pytest.LogCaptureFixture, incoming: str
) -> None:
    caplog.set_level(logging.INFO, logger="ragline.access")
    resp = client.get("/documents", headers={**auth(ENG_KEY), "X-Request-ID": incoming})
    assert resp.status_code == 200
    generated = resp.headers["x-request-id"]
    assert generated != incoming and re.fullmatch(r"[0-9a-f]{32}", generated)
    (line,) = _access_lines(caplog)
    assert line.endswith(f"request_id={generated}")


def test_the_generated_fingerprint_secret_is_private(
    settings: Settings, client: TestClient
) -> None:
    key_file = Path(settings.data_dir) / "fingerprint.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
