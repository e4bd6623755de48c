"""The review queue over HTTP (reviewers and admins): list, open and decide queued answers.

A reviewer who is not an admin opens an item only when every document its answer
cites is served to one of the reviewer's roles: the answer and its citations quote
those documents, and the review role widens no one's reading.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import IngestionDep, PrincipalDep, RegistryDep, ReviewDep
from api.schemas import ErrorOut, UtcDatetime
from governance.review import (
    REVIEWER_ROLE,
    CitedPassage,
    ReviewDetail,
    ReviewItem,
    Verdict,
    cited_passages,
)
from ingest.ports import DocumentRegistry
from kernel.errors import PermissionDeniedError
from kernel.settings import ADMIN_ROLE
from retrieval.access import Principal

router = APIRouter(tags=["review"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}
ItemId = Annotated[str, Path(max_length=64, description="A review item's id.")]
StatusQuery = Literal["open", "approved", "rejected", "corrected", "all"]


def require_reviewer(principal: PrincipalDep) -> Principal:
    if not (principal.has_role(REVIEWER_ROLE) or principal.has_role(ADMIN_ROLE)):
        raise PermissionDeniedError(f"this needs the '{REVIEWER_ROLE}' or '{ADMIN_ROLE}' role")
    return principal


ReviewerDep = Annotated[Principal, Depends(require_reviewer)]


class ReviewItemOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    answer_id: str
    status: Literal["open", "approved", "rejected", "corrected"]
    reasons: list[str] = Field(description="sample, low_grounding, degraded, feedback.")
    grounding: float | None
    degraded: bool
    created_at: UtcDatetime
    decided_at: UtcDatetime | None
    decided_by: str | None = Field(description="The deciding key's fingerprint.")
    corrected_answer: str | None
    expected_source: str | None
    expected_terms: list[str]
    note: str | None


class ReviewPageOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ReviewItemOut] = Field(description="Oldest first.")
    total: int
    next_offset: int | None = Field(description="The next page's offset; null at the end.")


class CitationOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int | None
    chunk_id: str | None
    document_id: str | None
    title: str | None
    source: str | None
    text: str | None = Field(
        description="The cited chunk's text as the index holds it now; null when gone."
    )
    available: bool = Field(
        description="False when the chunk is no longer in the index (its document was "
        "deleted or re-ingested since the answer)."
    )


class FeedbackOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: str | None
    replaced: int
    updated_at: UtcDatetime


class ReviewDetailOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: ReviewItemOut
    answer_available: bool = Field(description="False when the answer's record is gone.")
    question: str | None
    answer: str | None
    citations: list[CitationOut]
    feedback: list[FeedbackOut]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "correct"]
    corrected_answer: str | None = Field(default=None, max_length=20_000)
    expected_source: str | None = Field(
        default=None, max_length=512, description="The file name a correct answer cites."
    )
    expected_terms: list[str] = Field(
        default_factory=list, max_length=50, description="Terms a correct answer contains."
    )
    note: str | None = Field(
        default=None,
        max_length=5_000,
        description='With "reject", "unanswerable" exports the question as unanswerable.',
    )


@router.get("/review", response_model=ReviewPageOut, responses=_ERRORS, summary="The review queue")
async def list_items(
    _: ReviewerDep,
    review: ReviewDep,
    status: StatusQuery = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> ReviewPageOut:
    page = await run_in_threadpool(
        review.items, None if status == "all" else status, limit=limit, offset=offset
    )
    return ReviewPageOut(
        items=[_item_out(i) for i in page.items], total=page.total, next_offset=page.next_offset
    )


@router.get(
    "/review/{item_id}",
    response_model=ReviewDetailOut,
    responses=_ERRORS,
    summary="One queued answer: question, answer, cited text, grounding, reasons, feedback",
)
async def show_item(
    item_id: ItemId,
    principal: ReviewerDep,
    review: ReviewDep,
    registry: RegistryDep,
    ingestion: IngestionDep,
) -> ReviewDetailOut:
    detail = await run_in_threadpool(review.detail, item_id)
    await run_in_threadpool(_check_readable, principal, detail, registry)
    answer = detail.answer
    # Answer records keep no chunk text: the reviewer reads the index as it is now.
    cited = await run_in_threadpool(
        cited_passages,
        () if answer is None else answer.citations or (),
        ingestion.index.stored_texts,
    )
    return ReviewDetailOut(
        item=_item_out(detail.item),
        answer_available=answer is not None,
        question=None if answer is None else answer.question,
        answer=None if answer is None else answer.answer,
        citations=[_citation_out(c) for c in cited],
        feedback=[
            FeedbackOut(
                rating=f.rating, comment=f.comment, replaced=f.replaced, updated_at=f.updated_at
            )
            for f in detail.feedback
        ],
    )


@router.post(
    "/review/{item_id}",
    response_model=ReviewItemOut,
    responses=_ERRORS,
    summary="Approve, reject or correct a queued answer (a later decision replaces it)",
)
async def decide_item(
    item_id: ItemId,
    body: DecisionIn,
    principal: ReviewerDep,
    review: ReviewDep,
    registry: RegistryDep,
) -> ReviewItemOut:
    detail = await run_in_threadpool(review.detail, item_id)
    await run_in_threadpool(_check_readable, principal, detail, registry)
    verdict = Verdict(
        decision=body.decision,
        corrected_answer=body.corrected_answer,
        expected_source=body.expected_source,
        expected_terms=tuple(body.expected_terms),
        note=body.note,
    )
    item = await run_in_threadpool(review.decide, item_id, principal.key_id, verdict)
    return _item_out(item)


def _check_readable(principal: Principal, detail: ReviewDetail, registry: DocumentRegistry) -> None:
    """Admins read everything; a reviewer only answers whose every cited document they may read."""
    if principal.has_role(ADMIN_ROLE) or detail.answer is None:
        return
    if detail.answer.citations is None:  # provenance unknown: admins only
        raise PermissionDeniedError("this answer's sources are not on record")
    cited = {c.get("document_id") for c in detail.answer.citations}
    ids = {d for d in cited if isinstance(d, str)}
    served = registry.served(ids) if ids else {}
    if len(ids) != len(cited) or any(
        d not in served or not (served[d].roles & principal.roles) for d in ids
    ):
        raise PermissionDeniedError("this answer cites documents outside your roles")


def _citation_out(c: CitedPassage) -> CitationOut:
    return CitationOut(
        n=c.n,
        chunk_id=c.chunk_id,
        document_id=c.document_id,
        title=c.title,
        source=c.source,
        text=c.text,
        available=c.available,
    )


def _item_out(item: ReviewItem) -> ReviewItemOut:
    return ReviewItemOut(
        item_id=item.item_id,
        answer_id=item.answer_id,
        status=item.status,
        reasons=list(item.reasons),
        grounding=item.grounding,
        degraded=item.degraded,
        created_at=item.created_at,
        decided_at=item.decided_at,
        decided_by=item.decided_by,
        corrected_answer=item.corrected_answer,
        expected_source=item.expected_source,
        expected_terms=list(item.expected_terms),
        note=item.note,
    )
