"""GET /documents: pages filtered before they are cut, bounded parameters, aware datetimes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ragline.service import create_app
from tests.conftest import ADMIN_KEY, ENG_KEY, HR_KEY, NOBODY_KEY, make_settings
from tests.e2e.conftest import auth, upload

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("listing") / "data")
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        # "a-hidden" sorts before "b-visible": 5 documents an eng key may not see come first.
        for bucket, roles in (("a-hidden", ["hr"]), ("b-visible", ["eng"])):
            resp = test_client.post(
                "/buckets", json={"name": bucket, "roles": roles}, headers=auth(ADMIN_KEY)
            )
            assert resp.status_code == 201, resp.text
        for n in range(5):
            upload(test_client, "a-hidden", f"h{n}.md", f"# Hidden {n}\n\nSecret {n}.".encode())
        for n in range(3):
            upload(test_client, "b-visible", f"v{n}.md", f"# Visible {n}\n\nOpen {n}.".encode())
        yield test_client


def _page(client: TestClient, key: str, **params: int) -> list[dict[str, Any]]:
    resp = client.get("/documents", params=params, headers=auth(key))
    assert resp.status_code == 200, resp.text
    documents: list[dict[str, Any]] = resp.json()["documents"]
    return documents


def test_non_admin_pages_are_full_and_hide_where_hidden_documents_sort(
    client: TestClient,
) -> None:
    first = _page(client, ENG_KEY, limit=2)
    second = _page(client, ENG_KEY, limit=2, offset=2)
    assert [d["source"] for d in first] == ["v0.md", "v1.md"]
    assert [d["source"] for d in second] == ["v2.md"]
    assert _page(client, ENG_KEY, limit=2, offset=3) == []
    assert {d["bucket"] for d in _page(client, HR_KEY)} == {"a-hidden"}
    assert _page(client, NOBODY_KEY) == []


def test_admin_pages_cover_every_document(client: TestClient) -> None:
    assert len(_page(client, ADMIN_KEY, limit=5)) == 5
    assert [d["source"] for d in _page(client, ADMIN_KEY, limit=5, offset=5)] == [
        "v0.md",
        "v1.md",
        "v2.md",
    ]


@pytest.mark.parametrize(
    "params",
    [{"offset": 2**63}, {"offset": 2**64 + 1}, {"offset": -1}, {"limit": 0}, {"limit": 2**63}],
)
def test_out_of_range_paging_is_a_clear_422(client: TestClient, params: dict[str, int]) -> None:
    resp = client.get("/documents", params=params, headers=auth(ADMIN_KEY))
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_input"


def test_datetimes_carry_their_timezone(client: TestClient) -> None:
    documents = _page(client, ADMIN_KEY)
    assert documents
    for doc in documents:
        for field in ("updated_at", "indexed_at"):
            if doc[field] is not None:
                assert datetime.fromisoformat(doc[field]).tzinfo is not None, doc[field]
        single = client.get(f"/documents/{doc['document_id']}", headers=auth(ADMIN_KEY)).json()
        assert datetime.fromisoformat(single["updated_at"]).tzinfo is not None


def test_openapi_documents_the_errors_each_route_returns(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    error_ref = "#/components/schemas/ErrorOut"

    def ref(operation: dict[str, Any], status: str) -> str:
        schema: dict[str, str] = operation["responses"][status]["content"]["application/json"][
            "schema"
        ]
        return schema["$ref"]

    for path, operations in paths.items():
        for method, operation in operations.items():
            if path in ("/health", "/ready"):
                assert "401" not in operation["responses"]
                continue
            assert ref(operation, "401") == error_ref, (method, path)
            if "422" in operation["responses"]:
                assert ref(operation, "422") == error_ref, (method, path)
            if "requestBody" in operation:
                for status in ("400", "413"):
                    assert ref(operation, status) == error_ref, (method, path, status)
    assert "403" in paths["/buckets"]["post"]["responses"]
    assert "403" in paths["/documents/{document_id}"]["delete"]["responses"]
    assert "403" not in paths["/ask"]["post"]["responses"]


# An ISO 8601 date and time with no zone after it: what a naive datetime serialises to.
NAIVE_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$")


def _naive_datetimes(value: Any, where: str) -> list[str]:
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in _naive_datetimes(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in _naive_datetimes(v, f"{where}[{i}]")]
    return [f"{where}={value}"] if isinstance(value, str) and NAIVE_DATETIME.match(value) else []


def test_every_datetime_the_api_returns_carries_its_timezone(client: TestClient) -> None:
    """Issue 11: SQLite hands back naive values; documents were not the only ones shown."""
    calls = [
        ("PUT", "/buckets/b-visible/schedule", {"every": "1h"}),
        ("POST", "/buckets/b-visible/refresh", None),
        ("POST", "/keys", {"team": "edge", "name": "dated", "roles": ["eng"], "ttl_days": 30}),
        ("GET", "/buckets/b-visible", None),
        ("GET", "/buckets/b-visible/schedule", None),
        ("GET", "/buckets/b-visible/refreshes", None),
        ("GET", "/keys", None),
        ("GET", "/reindex", None),
        ("GET", "/audit", None),
        ("GET", "/documents", None),
    ]
    naive, dated = [], 0
    for method, path, body in calls:
        resp = client.request(method, path, json=body, headers=auth(ADMIN_KEY))
        assert resp.status_code < 300, (method, path, resp.text)
        naive += _naive_datetimes(resp.json(), f"{method} {path}")
        dated += len(re.findall(r'"\d{4}-\d\d-\d\dT\d\d:\d\d', resp.text))
    assert dated >= len(calls)  # the responses do hold datetimes
    assert naive == []
