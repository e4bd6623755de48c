"""Managed API keys (admin): create, list, rotate, revoke; ``governance.keys`` over HTTP.

A key's secret is in the answer to its creation or rotation and nowhere else: not
in lists, logs or audit events (which name the key's id). Every change is written to
the audit log as ``key.create``, ``key.rotate`` or ``key.revoke``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.caller_audit import CallerAudit, CallerAuditDep
from api.deps import AdminDep, ServicesDep
from api.schemas import ErrorOut, UtcDatetime
from governance.keys import IssuedKey, KeyStore, ManagedKey
from kernel.errors import DependencyUnavailableError
from retrieval.access import Principal

router = APIRouter(tags=["keys"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}
KeyId = Annotated[str, Path(max_length=32, description="The key's id, e.g. mk-3f9a0c1d2e4b.")]


class KeyBudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_soft_usd: float | None = Field(default=None, gt=0)
    daily_hard_usd: float | None = Field(default=None, gt=0)
    monthly_soft_usd: float | None = Field(default=None, gt=0)
    monthly_hard_usd: float | None = Field(default=None, gt=0)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$",
        description="Who pays for the key's answers (budgets, cost reports).",
    )
    roles: list[str] = Field(max_length=64, description="What the key may read.")
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A name for budgets and reports (the models file's budgets.keys).",
    )
    expires_at: datetime | None = Field(
        default=None, description="When the key stops working (with a time zone)."
    )
    ttl_days: float | None = Field(
        default=None, gt=0, le=3650, description="Or: days from now until it stops working."
    )
    budget: KeyBudgetIn | None = Field(
        default=None, description="Spend limits in US dollars, stored and shown with the key."
    )


class KeyOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    team: str
    name: str | None
    roles: list[str]
    budget: dict[str, float] | None
    status: Literal["active", "expired", "revoked"]
    created_by: str | None
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    rotated_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


class IssuedKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")


class KeyList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[KeyOut] = Field(description="Oldest first, revoked and expired ones included.")


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedKeyOut,
    responses=_ERRORS,
    summary="Create a key for a team; the key is shown once (admin)",
)
async def create_key(
    body: KeyCreate,
    principal: AdminDep,
    services: ServicesDep,
    audit: CallerAuditDep,
    response: Response,
) -> IssuedKeyOut:
    store = _store(services)
    issued = await run_in_threadpool(
        lambda: store.create(
            team=body.team,
            roles=body.roles,
            name=body.name,
            expires_at=body.expires_at,
            ttl_days=body.ttl_days,
            budget=body.budget.model_dump() if body.budget else None,
            by=_who(principal),
        )
    )
    await audit.arecord("key.create", issued.key.id, **issued.key.audit_details())
    response.headers["Cache-Control"] = "no-store"
    return _issued_out(store, issued)


@router.get("/keys", response_model=KeyList, summary="Every managed key, never a secret (admin)")
async def list_keys(_: AdminDep, services: ServicesDep) -> KeyList:
    store = _store(services)
    keys = await run_in_threadpool(store.list)
    now = store.now()
    return KeyList(keys=[_key_out(k, now) for k in keys])


@router.get("/keys/{key_id}", response_model=KeyOut, responses=_ERRORS, summary="One key (admin)")
async def get_key(key_id: KeyId, _: AdminDep, services: ServicesDep) -> KeyOut:
    store = _store(services)
    key = await run_in_threadpool(store.get, key_id)
    return _key_out(key, store.now())


@router.post(
    "/keys/{key_id}/rotate",
    response_model=IssuedKeyOut,
    responses=_ERRORS,
    summary="A new secret for a key; the old one stops working at once (admin)",
)
async def rotate_key(
    key_id: KeyId,
    _: AdminDep,
    services: ServicesDep,
    audit: CallerAuditDep,
    response: Response,
) -> IssuedKeyOut:
    store = _store(services)
    issued = await run_in_threadpool(store.rotate, key_id)
    await audit.arecord("key.rotate", issued.key.id, **issued.key.audit_details())
    response.headers["Cache-Control"] = "no-store"
    return _issued_out(store, issued)


@router.post(
    "/keys/{key_id}/revoke",
    response_model=KeyOut,
    responses=_ERRORS,
    summary="Stop a key at once, on every replica (admin)",
)
async def revoke_key(
    key_id: KeyId, _: AdminDep, services: ServicesDep, audit: CallerAuditDep
) -> KeyOut:
    return await _revoke(key_id, services, audit)


@router.delete(
    "/keys/{key_id}",
    response_model=KeyOut,
    responses=_ERRORS,
    summary="Revoke a key; it stays listed as revoked (admin)",
)
async def delete_key(
    key_id: KeyId, _: AdminDep, services: ServicesDep, audit: CallerAuditDep
) -> KeyOut:
    return await _revoke(key_id, services, audit)


async def _revoke(key_id: str, services: ServicesDep, audit: CallerAudit) -> KeyOut:
    store = _store(services)
    key = await run_in_threadpool(store.revoke, key_id)
    await audit.arecord("key.revoke", key.id, **key.audit_details())
    return _key_out(key, store.now())


def _store(services: ServicesDep) -> KeyStore:
    if services.managed_keys is None:
        raise DependencyUnavailableError("managed API keys are not available on this server")
    return services.managed_keys


def _who(principal: Principal) -> str:
    return principal.name or principal.key_id


def _key_out(key: ManagedKey, now: datetime) -> KeyOut:
    return KeyOut(
        id=key.id,
        prefix=key.prefix,
        team=key.team,
        name=key.name,
        roles=list(key.roles),
        budget=key.budget,
        status=key.status(now),
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        rotated_at=key.rotated_at,
        revoked_at=key.revoked_at,
    )


def _issued_out(store: KeyStore, issued: IssuedKey) -> IssuedKeyOut:
    shown = _key_out(issued.key, store.now())
    return IssuedKeyOut(**shown.model_dump(), key=issued.secret)
