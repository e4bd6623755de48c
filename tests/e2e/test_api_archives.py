"""A zip uploaded through the API: its files become linked documents under its roles."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ragline.service import create_app
from tests.conftest import ADMIN_KEY, ENG_KEY, HR_KEY, make_settings
from tests.e2e.conftest import auth, listed_children, upload, wait_done

pytestmark = pytest.mark.e2e

SALARY = "The salary band for grade seven engineers is 81,000 to 94,000 euros a year."


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("archives") / "data")
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        resp = test_client.post(
            "/buckets", json={"name": "files", "roles": ["public"]}, headers=auth(ADMIN_KEY)
        )
        assert resp.status_code == 201, resp.text
        yield test_client


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def ask(client: TestClient, key: str, question: str) -> dict[str, Any]:
    resp = client.post("/ask", json={"question": question}, headers=auth(key))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_a_zip_with_hr_roles_keeps_its_files_from_a_public_key(client: TestClient) -> None:
    archive = zip_of(
        {
            "pay/bands.md": f"# Salary bands\n\n{SALARY}\n".encode(),
            "../evil.txt": b"escape attempt",
            "tool.exe": b"MZ\x90\x00" + bytes(range(256)) * 4,
        }
    )
    parent_id = upload(client, "files", "hr-pack.zip", archive, roles="hr")["document_id"]
    parent = wait_done(client, parent_id)
    assert (parent["status"], parent["format"]) == ("indexed", "zip")

    children = listed_children(client, "files", parent_id)
    assert set(children) == {"hr-pack.zip#pay/bands.md", "hr-pack.zip#tool.exe"}
    bands = wait_done(client, children["hr-pack.zip#pay/bands.md"]["document_id"])
    tool = wait_done(client, children["hr-pack.zip#tool.exe"]["document_id"])
    assert bands["status"] == "indexed" and bands["roles"] == ["hr"]
    assert (tool["status"], tool["error_code"]) == ("failed", "unsupported_format")

    question = "What is the salary band for grade seven engineers?"
    hr = ask(client, HR_KEY, question)
    assert bands["document_id"] in {c["document_id"] for c in hr["citations"]}
    public = ask(client, ENG_KEY, question)
    assert {c["document_id"] for c in public["citations"]}.isdisjoint(
        {bands["document_id"], parent_id}
    )
    assert "81,000" not in public["answer"]

    # Deleting the archive deletes what it held.
    assert client.delete(f"/documents/{parent_id}", headers=auth(ADMIN_KEY)).status_code == 204
    for child in children.values():
        gone = client.get(f"/documents/{child['document_id']}", headers=auth(ADMIN_KEY))
        assert gone.status_code == 404
