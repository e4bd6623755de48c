"""``POST /ask``: an answer with citations, as one JSON body or as Server-Sent Events.

Streaming keeps HTTP's meaning for errors: the response starts only once the
first token (or the whole answer) exists, so a refused budget, an empty question
or a down index still answers 429 / 422 / 503, not a 200 stream with an error in it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from answer.service import Answer, AnswerService
from api.deps import AnswersDep, PrincipalDep
from api.schemas import (
    AskRequest,
    AskResponse,
    Citation,
    ErrorOut,
    GroundingOut,
    PromptOut,
    ReleaseRefOut,
    UsageOut,
)
from retrieval.access import Principal, RequestedFilters

router = APIRouter(tags=["ask"])

# Each event's data is a JSON object: `token` {"text"}, `answer` an AskResponse,
# `error` an ErrorBody.
_SSE = {
    "text/event-stream": {
        "schema": {
            "type": "object",
            "description": "event `token`: {text}; event `answer`: AskResponse; "
            "event `error`: ErrorBody",
        }
    }
}


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={
        200: {"content": _SSE, "description": 'JSON, or events with `"stream": true`.'},
        401: {"model": ErrorOut},
        422: {"model": ErrorOut},
        429: {"model": ErrorOut, "description": "The key's or team's hard budget is spent."},
        503: {"model": ErrorOut},
    },
    summary="Answer a question from the documents the caller may read, with citations",
)
async def ask(
    body: AskRequest, principal: PrincipalDep, answers: AnswersDep
) -> AskResponse | StreamingResponse:
    filters = None
    if body.filters:
        filters = RequestedFilters(
            doc_types=frozenset(body.filters.doc_type) if body.filters.doc_type else None,
            buckets=frozenset(body.filters.bucket) if body.filters.bucket else None,
        )
    if body.stream:
        return await _stream(answers, principal, body, filters)
    answer = await run_in_threadpool(
        answers.ask, principal, body.question, top_k=body.top_k, filters=filters
    )
    return _response(answer)


async def _stream(
    answers: AnswerService,
    principal: Principal,
    body: AskRequest,
    filters: RequestedFilters | None,
) -> StreamingResponse:
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def on_token(text: str) -> None:
        loop.call_soon_threadsafe(events.put_nowait, ("token", text))

    def run() -> None:
        try:
            answer = answers.ask(
                principal, body.question, top_k=body.top_k, filters=filters, on_token=on_token
            )
        except Exception as exc:  # noqa: BLE001  (handed to the request task, raised there)
            loop.call_soon_threadsafe(events.put_nowait, ("error", exc))
            return
        loop.call_soon_threadsafe(events.put_nowait, ("answer", answer))

    worker = asyncio.ensure_future(run_in_threadpool(run))
    first = await events.get()
    if first[0] == "error":
        await worker
        raise first[1]

    async def sse() -> AsyncIterator[bytes]:
        item = first
        while True:
            kind, value = item
            if kind == "token":
                yield _event("token", {"text": value})
            elif kind == "answer":
                yield _event("answer", _response(value).model_dump(mode="json"))
                break
            else:
                yield _event(
                    "error",
                    {
                        "code": getattr(value, "code", "internal_error"),
                        "message": getattr(value, "message", "internal error"),
                    },
                )
                break
            item = await events.get()
        await worker

    return StreamingResponse(
        sse(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _response(answer: Answer) -> AskResponse:
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
        degraded=answer.degraded,
        degraded_reason=answer.degraded_reason,
        usage=None
        if answer.usage is None
        else UsageOut(
            prompt_tokens=answer.usage.prompt_tokens,
            completion_tokens=answer.usage.completion_tokens,
            cost_usd=round(answer.usage.cost_usd, 8),
        ),
        prompt=None
        if answer.prompt is None
        else PromptOut(
            name=answer.prompt.name, version=answer.prompt.version, label=answer.prompt.label
        ),
        failed_deployments=list(answer.failed_deployments),
        citations_removed=answer.citations_removed,
        grounding_action=answer.grounding_action,
        budget_warnings=list(answer.budget_warnings),
        release=None
        if answer.release is None
        else ReleaseRefOut(
            id=answer.release.id, version=answer.release.version, arm=answer.release.arm
        ),
    )
