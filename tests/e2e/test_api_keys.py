"""Managed keys and bearer tokens as a user of the HTTP API sees them, on the real embedded app.

The app is configured with the usual test keys (bootstrap keys) and with bearer
tokens verified against a JWKS file written by the identity-provider double
(tests/jwt_issuer.py): group ``hr-staff`` maps to role ``hr``, ``engineers`` to ``eng``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from api.auth import KeyRing
from api.edge_guard import EdgeConfig
from api.fingerprint import load_fingerprint_secret
from governance.audit_port import AuditFilter
from governance.keys import KeyStore
from ragline.schema import ensure_schema
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, HR_KEY, make_settings
from tests.e2e.conftest import auth, upload, wait_done
from tests.jwt_issuer import AUDIENCE, ISSUER, Signer, jwks_file
from tests.postgres_db import fresh_database

pytestmark = pytest.mark.e2e

ADMIN = auth(ADMIN_KEY)
LEAVE = (
    b"# Parental leave\n\nThe quokka leave policy grants sixteen weeks of paid parental leave.\n"
)
DEPLOY = b"# Deploys\n\nThe quokka deploy train leaves every Tuesday at ten from the main branch.\n"
QUESTIONS = (
    "How many weeks of paid leave does the quokka leave policy grant?",
    "When does the quokka deploy train leave?",
)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer("RSA", "idp-1")


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, signer: Signer
) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("keys")
    auth_settings = {
        "jwks_file": str(jwks_file(root / "jwks.json", signer)),
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "group_roles": {"hr-staff": ["hr"], "engineers": ["eng"]},
        "team_claim": "team",
    }
    settings = make_settings(root / "data", auth=auth_settings)
    with TestClient(create_app(settings, dense=embedder)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def corpus(client: TestClient) -> dict[str, str]:
    for name, roles in (("hr-docs", ["hr"]), ("eng-docs", ["eng"])):
        resp = client.post("/buckets", json={"name": name, "roles": roles}, headers=ADMIN)
        assert resp.status_code == 201, resp.text
    ids = {
        "hr": upload(client, "hr-docs", "leave.md", LEAVE)["document_id"],
        "eng": upload(client, "eng-docs", "deploys.md", DEPLOY)["document_id"],
    }
    for doc_id in ids.values():
        assert wait_done(client, doc_id)["status"] == "indexed"
    return ids


def _create(client: TestClient, **body: Any) -> dict[str, Any]:
    resp = client.post("/keys", json={"team": "hr", "roles": ["hr"], **body}, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    assert resp.headers["cache-control"] == "no-store"
    created: dict[str, Any] = resp.json()
    return created


def _cited(client: TestClient, bearer: str) -> set[str]:
    """Every document cited to this caller, over a question aimed at each document."""
    cited: set[str] = set()
    for question in QUESTIONS:
        resp = client.post("/ask", json={"question": question}, headers=auth(bearer))
        assert resp.status_code == 200, resp.text
        cited |= {c["document_id"] for c in resp.json()["citations"]}
    return cited


def _listed(client: TestClient, bearer: str) -> set[str]:
    resp = client.get("/documents", headers=auth(bearer))
    assert resp.status_code == 200, resp.text
    return {d["document_id"] for d in resp.json()["documents"]}


def test_create_use_list_rotate_revoke(client: TestClient, corpus: dict[str, str]) -> None:
    created = _create(client, name="hr-bot", ttl_days=30, budget={"daily_hard_usd": 5})
    key, key_id = created["key"], created["id"]
    assert key.startswith("rk_") and created["prefix"] == key[:9]
    assert (created["team"], created["roles"], created["status"]) == ("hr", ["hr"], "active")
    assert created["budget"] == {"daily_hard_usd": 5.0}
    assert created["expires_at"] is not None

    # use: the key sees the hr documents, and only them
    assert _cited(client, key) == {corpus["hr"]}
    assert _listed(client, key) == {corpus["hr"]}

    # list: the key is there, its secret is not
    listed = client.get("/keys", headers=ADMIN)
    assert listed.status_code == 200, listed.text
    (shown,) = [k for k in listed.json()["keys"] if k["id"] == key_id]
    assert "key" not in shown and key not in listed.text
    assert client.get(f"/keys/{key_id}", headers=ADMIN).json()["prefix"] == created["prefix"]

    # rotate: the old secret is refused at once, the new one works
    rotated = client.post(f"/keys/{key_id}/rotate", headers=ADMIN)
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()["key"]
    assert rotated.json()["id"] == key_id and new_key != key
    old = client.get("/documents", headers=auth(key))
    assert old.status_code == 401 and old.json()["error"]["code"] == "unauthenticated"
    assert _listed(client, new_key) == {corpus["hr"]}

    # revoke: refused on the very next request
    revoked = client.post(f"/keys/{key_id}/revoke", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    after = client.post("/ask", json={"question": QUESTIONS[0]}, headers=auth(new_key))
    assert after.status_code == 401
    assert after.json()["error"]["message"] == f"API key {key_id} is revoked"
    assert client.post(f"/keys/{key_id}/rotate", headers=ADMIN).status_code == 409

    # every change is in the audit log, by id and never with a secret
    trail = client.app.state.services.audit  # type: ignore[attr-defined]
    entries = [
        e for e in trail.query(AuditFilter(action=None), limit=1000).entries if e.target == key_id
    ]
    assert [e.action for e in entries] == ["key.create", "key.rotate", "key.revoke"]
    assert entries[0].details["roles"] == ["hr"] and entries[0].details["team"] == "hr"
    assert all(key not in str(e.details) and new_key not in str(e.details) for e in entries)


def test_delete_revokes_and_an_expired_key_is_refused(client: TestClient) -> None:
    created = _create(client)
    deleted = client.delete(f"/keys/{created['id']}", headers=ADMIN)
    assert deleted.status_code == 200 and deleted.json()["status"] == "revoked"
    assert client.get("/documents", headers=auth(created["key"])).status_code == 401
    assert client.delete("/keys/mk-000000000000", headers=ADMIN).status_code == 404

    past = client.post(
        "/keys",
        json={"team": "hr", "roles": ["hr"], "expires_at": "2020-01-01T00:00:00Z"},
        headers=ADMIN,
    )
    assert past.status_code == 422 and "in the past" in past.json()["error"]["message"]


def test_only_admins_manage_keys(client: TestClient) -> None:
    managed_non_admin = _create(client, roles=["hr", "public"])["key"]
    for bearer in (HR_KEY, managed_non_admin):
        assert client.get("/keys", headers=auth(bearer)).status_code == 403
        made = client.post("/keys", json={"team": "x", "roles": ["admin"]}, headers=auth(bearer))
        assert made.status_code == 403
    admin_made = _create(client, roles=["admin"])
    assert client.get("/keys", headers=auth(admin_made["key"])).status_code == 200


def test_a_token_sees_exactly_its_groups_documents(
    client: TestClient, corpus: dict[str, str], signer: Signer
) -> None:
    hr_token = signer.token(groups=["hr-staff", "unmapped"], team="people")
    eng_token = signer.token(groups=["engineers"], sub="user-456")
    no_group = signer.token(groups=["contractors"], sub="user-789")

    assert _cited(client, hr_token) == {corpus["hr"]}
    assert _listed(client, hr_token) == {corpus["hr"]}
    assert _cited(client, eng_token) == {corpus["eng"]}
    assert _listed(client, eng_token) == {corpus["eng"]}
    assert _cited(client, no_group) == set()  # authenticated, sees nothing
    assert _listed(client, no_group) == set()
    assert client.get("/keys", headers=auth(hr_token)).status_code == 403

    forged = Signer("RSA", signer.kid).token(groups=["hr-staff"])
    refused = client.get("/documents", headers=auth(forged))
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "invalid token: bad signature"


def test_database_down_managed_keys_503_configured_keys_work(client: TestClient) -> None:
    """The edge's key ring is pointed at a PostgreSQL database that is then dropped."""
    services = client.app.state.services  # type: ignore[attr-defined]
    original = client.app.state.edge  # type: ignore[attr-defined]
    with fresh_database() as url:
        ensure_schema(url, auto_upgrade=True)
        engine = create_engine(url, poolclass=NullPool)
        store = KeyStore(engine)
        managed = store.create(team="eng", roles=["eng"]).secret
    ring = KeyRing(
        services.keys, load_fingerprint_secret(services.settings), managed=store, tokens=None
    )
    client.app.state.edge = EdgeConfig.build(ring, services.settings.limits)  # type: ignore[attr-defined]
    try:
        down = client.get("/documents", headers=auth(managed))
        assert down.status_code == 503
        assert down.headers["retry-after"]
        assert down.json()["error"]["code"] == "dependency_unavailable"
        assert "managed API keys cannot be checked" in down.json()["error"]["message"]
        assert client.get("/documents", headers=auth(HR_KEY)).status_code == 200
    finally:
        client.app.state.edge = original  # type: ignore[attr-defined]
        engine.dispose()
