"""The audit log over HTTP (admin): page through it, and verify its chain.

Pages are oldest first; ``next_cursor`` is passed back as ``cursor`` for the next.
The bulk way out is ``ragline audit export`` (JSON lines).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import AdminDep, AuditDep
from api.schemas import ErrorOut, UtcDatetime
from governance.audit_port import AuditEntry, AuditFilter

router = APIRouter(tags=["audit"])


class AuditEntryOut(BaseModel):
    seq: int
    ts: UtcDatetime
    kind: Literal["event", "answer"]
    action: str
    key_id: str | None  # the key's fingerprint, never the key
    team: str | None
    identity: str | None
    target: str | None
    details: dict[str, Any] | None
    hash: str
    prev_hash: str
    purged: bool  # emptied by retention: only its time, kind, action and hashes remain


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    next_cursor: str | None


class AuditVerifyOut(BaseModel):
    ok: bool
    rows_checked: int
    first_bad_seq: int | None
    problem: Literal["edited", "deleted", "reordered"] | None
    reason: str | None
    anchor_seq: int


def _entry_out(e: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut.model_validate(e, from_attributes=True)


@router.get(
    "/audit",
    response_model=AuditPageOut,
    responses={403: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Audit log entries, oldest first, filtered and paged (admin)",
)
def list_audit(
    _: AdminDep,
    audit: AuditDep,
    since: Annotated[datetime | None, Query(description="At or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Before (ISO 8601).")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    kind: Literal["event", "answer"] | None = None,
    key_id: Annotated[str | None, Query(max_length=64)] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
) -> AuditPageOut:
    page = audit.query(
        AuditFilter(since, until, action, kind, key_id, team), limit=limit, cursor=cursor
    )
    return AuditPageOut(entries=[_entry_out(e) for e in page.entries], next_cursor=page.next_cursor)


@router.get(
    "/audit/verify",
    response_model=AuditVerifyOut,
    responses={403: {"model": ErrorOut}},
    summary="Walk the audit chain and name the first row edited, deleted or reordered (admin)",
)
def verify_audit(_: AdminDep, audit: AuditDep) -> AuditVerifyOut:
    return AuditVerifyOut.model_validate(audit.verify(), from_attributes=True)
