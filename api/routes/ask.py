from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import AnswersDep, PrincipalDep
from api.schemas import AskRequest, AskResponse, Citation, ErrorOut, GroundingOut
from retrieval.access import RequestedFilters

router = APIRouter(tags=["ask"])


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    summary="Answer a question from the documents the caller may read, with citations",
)
async def ask(body: AskRequest, principal: PrincipalDep, answers: AnswersDep) -> AskResponse:
    filters = None
    if body.filters:
        filters = RequestedFilters(
            doc_types=frozenset(body.filters.doc_type) if body.filters.doc_type else None,
            buckets=frozenset(body.filters.bucket) if body.filters.bucket else None,
        )
    answer = await run_in_threadpool(
        answers.ask, principal, body.question, top_k=body.top_k, filters=filters
    )
    return AskResponse(
        answer_id=answer.answer_id,
        answer=answer.text,
        found=answer.found,
        citations=[
            Citation(
                document_id=c.document_id,
                source=c.source,
                title=c.title,
                page=c.page,
                section=c.section,
                chunk_id=c.chunk_id,
                text=c.text,
                score=round(c.score, 6),
            )
            for c in answer.citations
        ],
        grounding=GroundingOut(
            score=answer.grounding.score, unsupported=list(answer.grounding.unsupported)
        ),
        model=answer.model,
        latency_ms=answer.latency_ms,
    )
