"""Managed API keys: created per team with roles, looked up on every request, rotated, revoked.

A key is ``rk_`` and 32 random bytes (URL-safe base64), shown once when created or
rotated; the database keeps its SHA-256 (a key this long cannot be guessed back from
its hash, so no slow hash is needed, and every replica computes the same one without
a shared secret) and a display prefix. A key's ``id`` (``mk-`` and 12 hex digits) is
what lists, audit events and the usage ledger name it by; it stays the same across
rotations, so a rotated key keeps its spend and history.

Every request with a managed key reads its row (:meth:`KeyStore.authenticate`, one
indexed lookup), with no cache: a revocation or a rotation on any replica holds on
the next request everywhere. With the database down that lookup raises
:class:`DependencyUnavailableError` (503): a managed key fails closed, while keys
configured in the settings keep working.

Budget limits are stored and reported with the key; they are enforced through the
models file's budgets by the key's ``name`` (``usage.budgets``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from governance.key_tables import ApiKeyRow, KeyBase
from kernel.errors import (
    AuthenticationError,
    ConflictError,
    DependencyUnavailableError,
    InvalidInputError,
    NotFoundError,
)

KEY_PREFIX = "rk_"
# A managed key's id (its spend, its audit trail), kept across rotations.
MANAGED_ID_PREFIX = "mk-"
BUDGET_FIELDS = ("daily_soft_usd", "daily_hard_usd", "monthly_soft_usd", "monthly_hard_usd")
_SECRET_BYTES = 32
_DISPLAY_CHARS = 6  # random characters kept after "rk_" for people to tell keys apart
_TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_ROLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
_MAX_ROLES = 64
_MAX_TTL_DAYS = 3650
_WHO_MAX = 64
_ID_ATTEMPTS = 5

Status = Literal["active", "expired", "revoked"]
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_managed(presented: str) -> bool:
    """Whether a bearer value has the shape of a managed key (worth a database lookup)."""
    return presented.startswith(KEY_PREFIX) and len(presented) > len(KEY_PREFIX) + 16


@dataclass(frozen=True, slots=True)
class ManagedKey:
    """A key as lists show it: never the secret, only its prefix."""

    id: str
    prefix: str
    team: str
    name: str | None
    roles: tuple[str, ...]
    budget: dict[str, float] | None
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    rotated_at: datetime | None
    revoked_at: datetime | None

    def audit_details(self) -> dict[str, object]:
        """What an audit event says about the key: ids and names, never the secret."""
        details: dict[str, object] = {
            "key_id": self.id,
            "team": self.team,
            "roles": list(self.roles),
        }
        if self.name is not None:
            details["name"] = self.name
        return details

    def status(self, now: datetime) -> Status:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created or rotated, with its secret: the only time the secret exists."""

    key: ManagedKey
    secret: str


def expiry(
    now: datetime, *, expires_at: datetime | None = None, ttl_days: float | None = None
) -> datetime | None:
    """When a new key stops working: a moment, or a number of days from now, or never."""
    if expires_at is not None and ttl_days is not None:
        raise InvalidInputError("give expires_at or ttl_days, not both")
    if ttl_days is not None:
        if not 0 < ttl_days <= _MAX_TTL_DAYS:
            raise InvalidInputError(f"ttl_days must be above 0 and at most {_MAX_TTL_DAYS}")
        return now + timedelta(days=ttl_days)
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise InvalidInputError("expires_at needs a time zone (e.g. 2027-01-01T00:00:00Z)")
    if expires_at <= now:
        raise InvalidInputError("expires_at is in the past")
    return expires_at.astimezone(UTC)


class KeyStore:
    """Every read and write of managed keys, on the registry's database.

    The table is created if missing, so a bare SQLite engine works in tests; in
    production the migrations made it already. ``clock`` tells the time (UTC).
    """

    def __init__(self, engine: Engine, *, clock: Clock = _utc_now) -> None:
        KeyBase.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock

    def now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def create(
        self,
        *,
        team: str,
        roles: Iterable[str],
        name: str | None = None,
        expires_at: datetime | None = None,
        ttl_days: float | None = None,
        budget: Mapping[str, float | None] | None = None,
        by: str | None = None,
    ) -> IssuedKey:
        """A new key; raises :class:`InvalidInputError` naming the field that is wrong."""
        now = self.now()
        row = ApiKeyRow(
            team=_team(team),
            name=_name(name),
            roles=_roles(roles),
            budget=_budget(budget),
            created_by=_who(by),
            created_at=now,
            expires_at=expiry(now, expires_at=expires_at, ttl_days=ttl_days),
        )
        secret = _new_secret(row)
        for attempt in range(_ID_ATTEMPTS):
            row.id = f"{MANAGED_ID_PREFIX}{secrets.token_hex(6)}"
            try:
                with self._session() as s:
                    s.add(row)
                break
            except IntegrityError:  # an id drawn twice; the secret's hash cannot repeat
                if attempt == _ID_ATTEMPTS - 1:
                    raise
                row = _copy(row)
        return IssuedKey(_key(row), secret)

    def list(self) -> list[ManagedKey]:
        """Every key, revoked and expired ones included, oldest first."""
        with self._session() as s:
            rows = s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))
            return [_key(row) for row in rows]

    def get(self, key_id: str) -> ManagedKey:
        with self._session() as s:
            return _key(_row(s, key_id))

    def rotate(self, key_id: str) -> IssuedKey:
        """A new secret for the key; the old one stops working with this commit.

        A revoked or expired key is not rotated (409): rotating would not bring it back.
        """
        now = self.now()
        with self._session() as s:
            row = _row(s, key_id, lock=True)
            status = _key(row).status(now)
            if status != "active":
                raise ConflictError(f"key {key_id} is {status}: create a new key instead")
            secret = _new_secret(row)
            row.rotated_at = now
            key = _key(row)
        return IssuedKey(key, secret)

    def revoke(self, key_id: str) -> ManagedKey:
        """Stop the key at once; revoking a revoked key changes nothing."""
        now = self.now()
        with self._session() as s:
            s.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return _key(_row(s, key_id))

    def authenticate(self, presented: str) -> ManagedKey:
        """The active key with this secret.

        Raises :class:`AuthenticationError` for an unknown, revoked or expired key and
        :class:`DependencyUnavailableError` when the database cannot be read.
        """
        digest = secret_hash(presented)
        try:
            with self._session() as s:
                row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.secret_hash == digest)).first()
                key = None if row is None else _key(row)
        except (DBAPIError, DependencyUnavailableError):
            raise DependencyUnavailableError(
                "managed API keys cannot be checked: the database is unavailable; try again shortly"
            ) from None
        if key is None:
            raise AuthenticationError("invalid API key")
        status = key.status(self.now())
        if status != "active":
            raise AuthenticationError(f"API key {key.id} is {status}")
        return key

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session


def _row(s: Session, key_id: str, *, lock: bool = False) -> ApiKeyRow:
    row = s.get(ApiKeyRow, key_id, with_for_update=lock)
    if row is None:
        raise NotFoundError(f"no API key {key_id}")
    return row


def _new_secret(row: ApiKeyRow) -> str:
    secret = KEY_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
    row.secret_hash = secret_hash(secret)
    row.prefix = secret[: len(KEY_PREFIX) + _DISPLAY_CHARS]
    return secret


def _copy(row: ApiKeyRow) -> ApiKeyRow:
    return ApiKeyRow(
        secret_hash=row.secret_hash,
        prefix=row.prefix,
        team=row.team,
        name=row.name,
        roles=list(row.roles),
        budget=None if row.budget is None else dict(row.budget),
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _key(row: ApiKeyRow) -> ManagedKey:
    created_at = _utc(row.created_at)
    assert created_at is not None
    return ManagedKey(
        id=row.id,
        prefix=row.prefix,
        team=row.team,
        name=row.name,
        roles=tuple(row.roles),
        budget=None if row.budget is None else dict(row.budget),
        created_by=row.created_by,
        created_at=created_at,
        expires_at=_utc(row.expires_at),
        rotated_at=_utc(row.rotated_at),
        revoked_at=_utc(row.revoked_at),
    )


def _team(team: str) -> str:
    if not _TEAM.match(team):
        raise InvalidInputError(
            "team must be 1-64 letters, digits or _ . @ - (starting with a letter or digit)"
        )
    return team


def _name(name: str | None) -> str | None:
    if name is None:
        return None
    if not name.strip() or len(name) > 64:
        raise InvalidInputError("name must be 1-64 characters")
    return name


def _roles(roles: Iterable[str]) -> list[str]:
    unique = sorted(set(roles))
    if len(unique) > _MAX_ROLES:
        raise InvalidInputError(f"a key has at most {_MAX_ROLES} roles")
    bad = [r for r in unique if not _ROLE.match(r)]
    if bad:
        raise InvalidInputError(f"role '{bad[0][:64]}' is not 1-64 letters, digits or _ . : @ -")
    return unique


def _budget(budget: Mapping[str, float | None] | None) -> dict[str, float] | None:
    if budget is None:
        return None
    unknown = sorted(set(budget) - set(BUDGET_FIELDS))
    if unknown:
        raise InvalidInputError(f"unknown budget field '{unknown[0]}'")
    limits: dict[str, float] = {}
    for field, value in budget.items():
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise InvalidInputError(f"budget {field} must be a positive number of US dollars")
        limits[field] = float(value)
    return limits or None


def _who(by: str | None) -> str | None:
    return None if by is None else by[:_WHO_MAX]
