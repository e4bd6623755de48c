"""``POST /feedback``: the asking key rates an answer; a "down" sends it to human review."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import PrincipalDep, ReviewDep
from api.schemas import ErrorOut, UtcDatetime

router = APIRouter(tags=["review"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    404: {"model": ErrorOut, "description": "No answer with this id was given to this key."},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(min_length=1, max_length=64, description="From the /ask response.")
    rating: Literal["up", "down"]
    comment: str | None = Field(
        default=None,
        description="Why (length-limited by RAGLINE_REVIEW__MAX_COMMENT_CHARS; PII is redacted).",
    )


class FeedbackOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str
    rating: Literal["up", "down"]
    comment: str | None = Field(description="As stored: trimmed, PII redacted.")
    replaced: bool = Field(description="True when this replaced an earlier rating of this key.")
    queued_for_review: bool
    updated_at: UtcDatetime


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    responses=_ERRORS,
    summary="Rate an answer you were given (one rating per answer; a new one replaces it)",
)
async def give_feedback(
    body: FeedbackIn, principal: PrincipalDep, review: ReviewDep
) -> FeedbackOut:
    feedback, reasons = await run_in_threadpool(
        review.give_feedback, principal.key_id, body.answer_id, body.rating, body.comment
    )
    return FeedbackOut(
        answer_id=feedback.answer_id,
        rating=feedback.rating,
        comment=feedback.comment,
        replaced=feedback.replaced > 0,
        queued_for_review=bool(reasons),
        updated_at=feedback.updated_at,
    )
