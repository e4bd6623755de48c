"""Prompt versions, labels, rollbacks and traffic splits (admin): ``prompts.book`` over HTTP.

Versions are immutable, so there is no PUT or DELETE of a version: a change is a new
version, and what answers use is decided by moving a label.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.caller_audit import CallerAuditDep
from api.deps import AdminDep, PromptsDep
from api.schemas import ErrorOut, UtcDatetime
from prompts.book import PRODUCTION, LabelMove, PromptBook, PromptSummary, PromptVersion
from retrieval.access import Principal

router = APIRouter(tags=["prompts"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}
_LABEL = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
Name = Annotated[str, Path(max_length=64, description="The prompt, e.g. answer.")]
Label = Annotated[str, Path(max_length=64, description="The label, e.g. production.")]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PromptVersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="The system message template (Jinja2).")
    user: str = Field(description="The user message template (Jinja2); must use {{ question }}.")
    note: str | None = Field(default=None, description="What changed, and why.")
    labels: list[str] = Field(
        default_factory=list, description="Labels to move to the new version at once."
    )


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=2**31 - 1)


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default=PRODUCTION, pattern=_LABEL)


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: dict[str, int] = Field(
        description="Percent of callers per label: 2+ labels, summing to 100.",
        examples=[{"production": 90, "staging": 10}],
    )


class PromptVersionOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: int
    system: str
    user: str
    note: str | None
    created_by: str | None
    created_at: UtcDatetime


class PromptSummaryOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    latest_version: int
    labels: dict[str, int]
    split: dict[str, int] | None


class PromptList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompts: list[PromptSummaryOut]


class PromptDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    labels: dict[str, int]
    split: dict[str, int] | None
    versions: list[PromptVersionOut] = Field(description="Oldest first.")


class LabelMoveOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    label: str
    from_version: int | None = Field(description="None when the label was new.")
    to_version: int
    moved_by: str | None
    moved_at: UtcDatetime


class SplitOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    weights: dict[str, int]


@router.get("/prompts", response_model=PromptList, summary="Every prompt (admin)")
async def list_prompts(_: AdminDep, book: PromptsDep) -> PromptList:
    summaries = await run_in_threadpool(book.names)
    return PromptList(prompts=[_summary_out(s) for s in summaries])


@router.get(
    "/prompts/{name}",
    response_model=PromptDetail,
    responses=_ERRORS,
    summary="A prompt's versions, labels and split (admin)",
)
async def get_prompt(name: Name, _: AdminDep, book: PromptsDep) -> PromptDetail:
    return await run_in_threadpool(_detail, book, name)


@router.get(
    "/prompts/{name}/versions/{version}",
    response_model=PromptVersionOut,
    responses=_ERRORS,
    summary="One version of a prompt (admin)",
)
async def get_version(
    name: Name, version: Version, _: AdminDep, book: PromptsDep
) -> PromptVersionOut:
    return _version_out(await run_in_threadpool(book.get, name, version))


@router.post(
    "/prompts/{name}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=PromptVersionOut,
    responses=_ERRORS,
    summary="Write the next version of a prompt, checked to render (admin)",
)
async def create_version(
    name: Name, body: PromptVersionIn, principal: AdminDep, book: PromptsDep, audit: CallerAuditDep
) -> PromptVersionOut:
    created = await run_in_threadpool(
        lambda: book.create(
            name,
            system=body.system,
            user=body.user,
            note=body.note,
            by=_who(principal),
            labels=body.labels,
        )
    )
    await audit.arecord("prompt.create", name, version=created.version, labels=body.labels)
    return _version_out(created)


@router.put(
    "/prompts/{name}/labels/{label}",
    response_model=LabelMoveOut,
    responses=_ERRORS,
    summary="Point a label at a version (admin)",
)
async def put_label(
    name: Name,
    label: Label,
    body: LabelIn,
    principal: AdminDep,
    book: PromptsDep,
    audit: CallerAuditDep,
) -> LabelMoveOut:
    move = await run_in_threadpool(
        lambda: book.label(name, label, body.version, by=_who(principal))
    )
    await audit.arecord("prompt.label", name, **_move_details(move))
    return _move_out(move)


@router.post(
    "/prompts/{name}/rollback",
    response_model=LabelMoveOut,
    responses=_ERRORS,
    summary="Move a label back one step of its history (admin)",
)
async def rollback(
    name: Name,
    principal: AdminDep,
    book: PromptsDep,
    audit: CallerAuditDep,
    body: Annotated[RollbackIn | None, Body()] = None,
) -> LabelMoveOut:
    label = body.label if body else PRODUCTION
    move = await run_in_threadpool(lambda: book.rollback(name, label, by=_who(principal)))
    await audit.arecord("prompt.rollback", name, **_move_details(move))
    return _move_out(move)


@router.put(
    "/prompts/{name}/split",
    response_model=SplitOut,
    responses=_ERRORS,
    summary="Split a prompt's traffic between labels; each key sticks to one (admin)",
)
async def put_split(
    name: Name, body: SplitIn, _: AdminDep, book: PromptsDep, audit: CallerAuditDep
) -> SplitOut:
    weights = await run_in_threadpool(book.set_split, name, body.weights)
    await audit.arecord("prompt.split", name, weights=weights)
    return SplitOut(name=name, weights=weights)


@router.delete(
    "/prompts/{name}/split",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
    summary="Send all of a prompt's traffic to production again (admin)",
)
async def delete_split(name: Name, _: AdminDep, book: PromptsDep, audit: CallerAuditDep) -> None:
    await run_in_threadpool(book.clear_split, name)
    await audit.arecord("prompt.split", name, weights=None)


def _detail(book: PromptBook, name: str) -> PromptDetail:
    versions = book.versions(name)
    return PromptDetail(
        name=name,
        labels=book.labels(name),
        split=book.split(name),
        versions=[_version_out(v) for v in versions],
    )


def _move_details(m: LabelMove) -> dict[str, object]:
    return {"label": m.label, "from_version": m.from_version, "to_version": m.to_version}


def _who(principal: Principal) -> str:
    return principal.name or principal.key_id


def _version_out(v: PromptVersion) -> PromptVersionOut:
    return PromptVersionOut(
        name=v.name,
        version=v.version,
        system=v.system,
        user=v.user,
        note=v.note,
        created_by=v.created_by,
        created_at=v.created_at,
    )


def _summary_out(s: PromptSummary) -> PromptSummaryOut:
    return PromptSummaryOut(
        name=s.name, latest_version=s.latest_version, labels=s.labels, split=s.split
    )


def _move_out(m: LabelMove) -> LabelMoveOut:
    return LabelMoveOut(
        name=m.name,
        label=m.label,
        from_version=m.from_version,
        to_version=m.to_version,
        moved_by=m.moved_by,
        moved_at=m.moved_at,
    )
