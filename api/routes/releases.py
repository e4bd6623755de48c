"""Releases with staged rollout and gates (admin): ``releases.service`` over HTTP.

A release's bundle is immutable: there is no PUT. What moves is its stage, by
``start``, ``promote`` (only when the gates pass, unless ``force``), ``rollback``,
and by the controller on every scheduler tick.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.caller_audit import actor_of
from api.deps import AdminDep, ReleasesDep
from api.schemas import ErrorOut, UtcDatetime
from kernel.errors import NotFoundError
from releases.model import Release
from releases.service import ReleaseService, ReleaseStatus

router = APIRouter(tags=["releases"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}
ReleaseId = Annotated[str, Path(max_length=16, description="The release, e.g. rel-3 (or 3).")]


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt_name: str = Field(default="answer", max_length=64, description="The prompt.")
    prompt_version: int = Field(ge=1, le=2**31 - 1, description="Its version (immutable).")
    route: str = Field(
        max_length=64,
        description="A tier (fast, frontier) or a deployment of the models file, or extractive.",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Overrides: top_k, fusion, dense_weight, min_relevance, min_grounding.",
        examples=[{"top_k": 8, "min_grounding": 0.6}],
    )
    note: str | None = Field(default=None, max_length=2000)


class PromoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = Field(default=False, description="Advance whatever the gates say (recorded).")


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class BundleOut(BaseModel):
    prompt_name: str
    prompt_version: int
    route: str
    settings: dict[str, Any]


class GateOut(BaseModel):
    name: str
    candidate: float | None
    current: float | None
    tolerance: float
    passed: bool
    note: str | None = None
    pending: bool = Field(default=False, description="Not decided yet (the eval while it runs).")


class WindowOut(BaseModel):
    epoch: str = Field(description="The stage judged, e.g. rel-3@25.")
    against: str = Field(description="The release compared with, or baseline.")
    candidate: dict[str, Any]
    current: dict[str, Any]


class EventOut(BaseModel):
    action: str
    from_percent: int
    to_percent: int
    by: str | None
    at: UtcDatetime
    details: dict[str, Any] | None


class ReleaseOut(BaseModel):
    id: str
    version: int
    status: str = Field(description="draft, staged, current, rolled_back or superseded.")
    stage_percent: int
    created_at: UtcDatetime
    created_by: str | None
    note: str | None
    bundle: BundleOut
    stage_started_at: UtcDatetime | None
    ended_at: UtcDatetime | None
    reason: str | None
    gates: list[GateOut] = Field(default_factory=list, description="While staged.")
    window: WindowOut | None = None
    eval: dict[str, Any] | None = None
    events: list[EventOut] | None = Field(default=None, description="In GET /releases/{id}.")


class ReleaseList(BaseModel):
    releases: list[ReleaseOut] = Field(description="Newest first.")
    current: str | None = Field(description="The current release's id; null: none yet.")
    staged: str | None = Field(description="The release being rolled out, if any.")


@router.post(
    "/releases",
    status_code=status.HTTP_201_CREATED,
    response_model=ReleaseOut,
    responses=_ERRORS,
    summary="Create a draft release: a prompt version, a model route, settings (admin)",
)
async def create_release(body: ReleaseIn, principal: AdminDep, releases: ReleasesDep) -> ReleaseOut:
    created = await run_in_threadpool(
        lambda: releases.create(
            prompt_name=body.prompt_name,
            prompt_version=body.prompt_version,
            route=body.route,
            settings=body.settings,
            note=body.note,
            actor=actor_of(principal),
        )
    )
    return release_out(created)


@router.get("/releases", response_model=ReleaseList, summary="Every release (admin)")
async def list_releases(_: AdminDep, releases: ReleasesDep) -> ReleaseList:
    return await run_in_threadpool(_list, releases)


@router.get(
    "/releases/current",
    response_model=ReleaseOut,
    responses=_ERRORS,
    summary="The release answers use now (admin); 404 before any is current",
)
async def current_release(_: AdminDep, releases: ReleasesDep) -> ReleaseOut:
    found = await run_in_threadpool(releases.current)
    if found is None:
        raise NotFoundError("no release is current yet: answers use the service's own settings")
    return release_out(found)


@router.get(
    "/releases/{release_id}",
    response_model=ReleaseOut,
    responses=_ERRORS,
    summary="A release with its stage, window numbers, gates and history (admin)",
)
async def get_release(release_id: ReleaseId, _: AdminDep, releases: ReleasesDep) -> ReleaseOut:
    return await run_in_threadpool(_detail, releases, release_id)


@router.post(
    "/releases/{release_id}/start",
    response_model=ReleaseOut,
    responses=_ERRORS,
    summary="Start rolling a draft out at the first stage (admin)",
)
async def start_release(
    release_id: ReleaseId, principal: AdminDep, releases: ReleasesDep
) -> ReleaseOut:
    await run_in_threadpool(releases.start, release_id, actor_of(principal))
    return await run_in_threadpool(_detail, releases, release_id)


@router.post(
    "/releases/{release_id}/promote",
    response_model=ReleaseOut,
    responses=_ERRORS,
    summary="Advance one stage when every gate passes (409 says which fail) (admin)",
)
async def promote_release(
    release_id: ReleaseId,
    principal: AdminDep,
    releases: ReleasesDep,
    body: Annotated[PromoteIn | None, Body()] = None,
) -> ReleaseOut:
    force = body.force if body else False
    await run_in_threadpool(lambda: releases.promote(release_id, actor_of(principal), force=force))
    return await run_in_threadpool(_detail, releases, release_id)


@router.post(
    "/releases/{release_id}/rollback",
    response_model=ReleaseOut,
    responses=_ERRORS,
    summary="Roll a staged or current release back: its traffic returns (admin)",
)
async def rollback_release(
    release_id: ReleaseId,
    principal: AdminDep,
    releases: ReleasesDep,
    body: Annotated[RollbackIn | None, Body()] = None,
) -> ReleaseOut:
    reason = body.reason if body else None
    await run_in_threadpool(
        lambda: releases.rollback(release_id, actor_of(principal), reason=reason)
    )
    return await run_in_threadpool(_detail, releases, release_id)


def _list(releases: ReleaseService) -> ReleaseList:
    found = releases.book.recent()
    current, staged = releases.book.active()
    shown = [
        _with_status(releases.status(r.id)) if r.status == "staged" else release_out(r)
        for r in found
    ]
    return ReleaseList(
        releases=shown,
        current=current.id if current else None,
        staged=staged.id if staged else None,
    )


def _detail(releases: ReleaseService, ident: str) -> ReleaseOut:
    out = _with_status(releases.status(ident))
    out.events = [
        EventOut(
            action=e.action,
            from_percent=e.from_percent,
            to_percent=e.to_percent,
            by=e.by,
            at=e.at,
            details=e.details,
        )
        for e in releases.book.events(ident)
    ]
    return out


def _with_status(found: ReleaseStatus) -> ReleaseOut:
    out = release_out(found.release)
    out.gates = [GateOut(**g.as_json()) for g in found.gates]  # type: ignore[arg-type]
    if found.epoch is not None and found.candidate is not None and found.current is not None:
        out.window = WindowOut(
            epoch=found.epoch,
            against=found.current_id,
            candidate=found.candidate.as_json(),
            current=found.current.as_json(),
        )
    return out


def release_out(r: Release) -> ReleaseOut:
    return ReleaseOut(
        id=r.id,
        version=r.version,
        status=r.status,
        stage_percent=r.stage_percent,
        created_at=r.created_at,
        created_by=r.created_by,
        note=r.note,
        bundle=BundleOut(**r.bundle.as_json()),
        stage_started_at=r.stage_started_at,
        ended_at=r.ended_at,
        reason=r.reason,
        eval=r.eval,
    )
