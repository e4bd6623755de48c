"""Managed keys on real SQLite and PostgreSQL: stored as hashes, stopped at once everywhere.

"Another replica" is a second :class:`KeyStore` on its own engine: what one changes,
the other sees on its next lookup, with no cache in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from api.auth import KeyRing
from governance.keys import KeyStore, secret_hash
from kernel.errors import (
    AuthenticationError,
    ConflictError,
    DependencyUnavailableError,
    InvalidInputError,
    NotFoundError,
)
from kernel.settings import KeyIdentity
from ragline.schema import ensure_schema
from tests.postgres_db import database_url, fresh_database

pytestmark = pytest.mark.service

BACKENDS = ("sqlite", "postgresql")
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as where:
        ensure_schema(where, auto_upgrade=True)  # the table as the migrations make it
        yield where


@pytest.fixture
def engines(url: str) -> Iterator[tuple[Engine, Engine]]:
    first, second = create_engine(url), create_engine(url)
    yield first, second
    first.dispose()
    second.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(engines: tuple[Engine, Engine], clock: Clock) -> KeyStore:
    return KeyStore(engines[0], clock=clock)


@pytest.fixture
def replica(engines: tuple[Engine, Engine], clock: Clock) -> KeyStore:
    return KeyStore(engines[1], clock=clock)


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(
    store: KeyStore, engines: tuple[Engine, Engine]
) -> None:
    issued = store.create(team="hr", roles=["hr", "public", "hr"], name="hr-bot", by="admin")

    assert issued.secret.startswith("rk_") and len(issued.secret) == 3 + 43
    assert issued.key.prefix == issued.secret[:9]
    assert issued.key.id.startswith("mk-") and len(issued.key.id) == 15
    assert (issued.key.team, issued.key.name, issued.key.roles) == (
        "hr",
        "hr-bot",
        ("hr", "public"),
    )
    assert issued.key.created_by == "admin"
    with engines[0].connect() as conn:
        row = conn.execute(text("SELECT * FROM api_keys")).mappings().one()
    assert issued.secret not in {str(v) for v in row.values()}
    assert row["secret_hash"] == secret_hash(issued.secret)
    assert store.authenticate(issued.secret) == issued.key


def test_a_key_works_on_another_replica_and_an_unknown_one_is_refused(
    store: KeyStore, replica: KeyStore
) -> None:
    issued = store.create(team="eng", roles=["eng"])

    assert replica.authenticate(issued.secret).id == issued.key.id
    with pytest.raises(AuthenticationError, match=r"^invalid API key$"):
        replica.authenticate(issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B"))


def test_rotation_stops_the_old_secret_at_once_on_every_replica(
    store: KeyStore, replica: KeyStore, clock: Clock
) -> None:
    issued = store.create(team="eng", roles=["eng"])
    replica.authenticate(issued.secret)
    clock.now += timedelta(minutes=5)

    rotated = store.rotate(issued.key.id)

    assert rotated.key.id == issued.key.id  # same identity: spend and history follow it
    assert rotated.secret != issued.secret
    assert rotated.key.rotated_at == clock.now
    with pytest.raises(AuthenticationError):
        replica.authenticate(issued.secret)
    assert replica.authenticate(rotated.secret).id == issued.key.id


def test_revocation_stops_the_key_at_once_on_every_replica(
    store: KeyStore, replica: KeyStore, clock: Clock
) -> None:
    issued = store.create(team="eng", roles=["eng"])
    replica.authenticate(issued.secret)

    revoked = store.revoke(issued.key.id)
    again = store.revoke(issued.key.id)

    assert revoked.revoked_at == again.revoked_at == START  # a second revoke changes nothing
    assert revoked.status(clock.now) == "revoked"
    with pytest.raises(AuthenticationError, match=f"API key {issued.key.id} is revoked"):
        replica.authenticate(issued.secret)
    with pytest.raises(ConflictError, match="is revoked: create a new key"):
        store.rotate(issued.key.id)


def test_a_key_expires_at_its_time(store: KeyStore, replica: KeyStore, clock: Clock) -> None:
    by_ttl = store.create(team="eng", roles=["eng"], ttl_days=1)
    by_time = store.create(team="eng", roles=["eng"], expires_at=START + timedelta(hours=2))
    assert by_ttl.key.expires_at == START + timedelta(days=1)

    clock.now = START + timedelta(hours=2)
    with pytest.raises(AuthenticationError, match="is expired"):
        replica.authenticate(by_time.secret)
    assert replica.authenticate(by_ttl.secret).id == by_ttl.key.id

    clock.now = START + timedelta(days=1, seconds=1)
    with pytest.raises(AuthenticationError, match="is expired"):
        replica.authenticate(by_ttl.secret)
    assert [k.status(clock.now) for k in store.list()] == ["expired", "expired"]


def test_lists_show_every_key_with_its_budget_and_never_a_secret(
    store: KeyStore, clock: Clock
) -> None:
    budget = {"daily_hard_usd": 5, "monthly_soft_usd": None}
    first = store.create(team="hr", roles=["hr"], budget=budget)
    clock.now += timedelta(seconds=1)
    second = store.create(team="eng", roles=["eng"])
    store.revoke(second.key.id)

    listed = store.list()

    assert [k.id for k in listed] == [first.key.id, second.key.id]  # oldest first
    assert listed[0].budget == {"daily_hard_usd": 5.0}
    assert listed[1].revoked_at is not None
    assert all(first.secret not in repr(k) and second.secret not in repr(k) for k in listed)
    assert store.get(first.key.id) == listed[0]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"team": ""}, "team must be"),
        ({"team": "a b"}, "team must be"),
        ({"roles": ["ok", "not ok"]}, "role 'not ok'"),
        ({"name": "x" * 65}, "name must be"),
        ({"ttl_days": 0}, "ttl_days must be"),
        ({"expires_at": START - timedelta(seconds=1)}, "in the past"),
        ({"expires_at": datetime(2027, 1, 1)}, "needs a time zone"),
        ({"ttl_days": 1, "expires_at": START + timedelta(days=2)}, "not both"),
        ({"budget": {"daily_hard_usd": -1}}, "positive number"),
        ({"budget": {"weekly_usd": 1}}, "unknown budget field"),
    ],
)
def test_invalid_keys_are_refused_with_the_field_named(
    store: KeyStore, fields: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {"team": "hr", "roles": ["hr"], **fields}
    with pytest.raises(InvalidInputError, match=message):
        store.create(**values)  # type: ignore[arg-type]
    assert store.list() == []


def test_unknown_ids_are_not_found(store: KeyStore) -> None:
    for action in (store.get, store.rotate, store.revoke):
        with pytest.raises(NotFoundError, match="no API key mk-000000000000"):
            action("mk-000000000000")


def test_with_the_database_gone_managed_keys_fail_closed_and_configured_keys_work() -> None:
    with fresh_database() as url:
        ensure_schema(url, auto_upgrade=True)
        engine = create_engine(url, poolclass=NullPool)
        store = KeyStore(engine)
        issued = store.create(team="eng", roles=["eng"])
        ring = KeyRing(
            {"configured-key": KeyIdentity(roles=frozenset({"admin"}))}, b"s" * 32, managed=store
        )
        assert ring.from_key(issued.secret).key_id == issued.key.id
    # fresh_database dropped the database (WITH FORCE): every new connection fails.
    try:
        with pytest.raises(DependencyUnavailableError, match="database is unavailable"):
            ring.from_key(issued.secret)
        assert ring.from_key("configured-key").roles == {"admin"}
        with pytest.raises(AuthenticationError, match=r"^invalid API key$"):
            ring.from_key("rl-not-a-managed-key")  # not managed-shaped: no lookup, a 401
    finally:
        engine.dispose()
