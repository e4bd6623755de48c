"""Re-indexing without downtime, as an operator starts and watches it (admin).

``POST /reindex`` queues a rebuild of the whole search index beside the live one
(``ingest.reindex``); ``/ask`` keeps answering from the live index until the new one
is complete and switched in. A re-index already queued or running is returned
instead of a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from api.deps import AdminDep, EnqueueReindexDep, ReindexRunsDep
from api.schemas import ErrorOut
from ingest.reindex import ReindexRun, request_reindex

router = APIRouter(tags=["reindex"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}


class ReindexIn(BaseModel):
    # Documents that may fail to rebuild (their object gone, no longer parseable) and
    # still let the switch happen; they drop out of search when it does.
    max_failures: int = Field(default=0, ge=0, le=1_000_000)


class ReindexFailureOut(BaseModel):
    document_id: str
    key: str
    code: str
    message: str


class ReindexOut(BaseModel):
    reindex_id: str
    trigger: str
    status: Literal["queued", "running", "finished", "failed", "skipped"]
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    total: int  # documents served when the build began
    done: int
    caught_up: int  # documents that changed during the build, fixed before the switch
    failed: int
    max_failures: int
    from_generation: int | None  # the generation live when it began
    to_generation: int | None  # the generation it built (live once finished)
    failures: list[ReindexFailureOut]
    error: str | None


class ReindexList(BaseModel):
    reindexes: list[ReindexOut]


def reindex_out(run: ReindexRun) -> ReindexOut:
    p = run.progress
    return ReindexOut(
        reindex_id=run.id,
        trigger=run.trigger,
        status=run.status,
        queued_at=run.queued_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        total=p.total,
        done=p.done,
        caught_up=p.caught_up,
        failed=len(p.failures),
        max_failures=run.max_failures,
        from_generation=p.from_generation,
        to_generation=p.to_generation,
        failures=[
            ReindexFailureOut(document_id=f.document_id, key=f.key, code=f.code, message=f.message)
            for f in p.failures
        ],
        error=run.error,
    )


@router.post(
    "/reindex",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReindexOut,
    responses={422: {"model": ErrorOut}},
    summary="Rebuild the search index beside the live one, then switch to it; "
    "a re-index already queued or running is returned (admin)",
)
def start_reindex(
    _: AdminDep,
    runs: ReindexRunsDep,
    enqueue: EnqueueReindexDep,
    body: ReindexIn | None = None,
) -> ReindexOut:
    wanted = body or ReindexIn()
    run, created = request_reindex(runs, "api", datetime.now(UTC), max_failures=wanted.max_failures)
    if created:
        enqueue(run.id)
    return reindex_out(run)


@router.get(
    "/reindex",
    response_model=ReindexList,
    summary="The latest re-indexes, newest first (admin)",
)
def list_reindexes(
    _: AdminDep,
    runs: ReindexRunsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ReindexList:
    return ReindexList(reindexes=[reindex_out(r) for r in runs.list_runs(limit)])


@router.get(
    "/reindex/{reindex_id}",
    response_model=ReindexOut,
    responses=_NOT_FOUND,
    summary="One re-index, with its progress (admin)",
)
def get_reindex(reindex_id: str, _: AdminDep, runs: ReindexRunsDep) -> ReindexOut:
    return reindex_out(runs.get(reindex_id))
