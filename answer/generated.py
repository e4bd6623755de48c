"""A generated answer: prompt the model with numbered sources, repair its citations, ground it.

The model sees the retrieved chunks as sources ``[1]..[n]`` through the versioned
prompt the caller resolves to (a label, or a traffic split's pick), and is asked to
answer only from them. What comes back is not trusted: markers that point at no
source are removed and counted, the kept ones renumbered, and every sentence scored
against the chunks it cites. What to do with a low score is the service's policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from answer.citations import renumber
from answer.grounding import Grounding, ground
from answer.pii_stream import RestoringStream
from answer.ports import GenerationDeps, PiiRedaction
from generation.gateway import Generation, GenerationFailedError, OnToken
from generation.routing import BucketPolicy, RouteRequest
from kernel.errors import DependencyUnavailableError, InvalidInputError, NotFoundError
from prompts.templates import render
from retrieval.access import Principal
from retrieval.hybrid import RetrievedChunk


@dataclass(frozen=True, slots=True)
class PromptRef:
    name: str
    version: int
    label: str


@dataclass(frozen=True, slots=True)
class Drafted:
    text: str
    cited: tuple[RetrievedChunk, ...]  # citation n is cited[n - 1]
    grounding: Grounding
    generation: Generation
    prompt: PromptRef
    citations_removed: int


def sources(chunks: Sequence[RetrievedChunk]) -> list[dict[str, object]]:
    """The prompt's ``sources`` variable (see ``prompts.templates``)."""
    return [
        {
            "n": n,
            "title": c.title,
            "source": c.source,
            "section": c.section,
            "page": c.page,
            "text": c.text,
        }
        for n, c in enumerate(chunks, start=1)
    ]


def _redacted_source(source: dict[str, object], redaction: PiiRedaction) -> dict[str, object]:
    return {
        key: redaction.redact(value) if key in _FREE_TEXT and isinstance(value, str) else value
        for key, value in source.items()
    }


# The source fields that hold document text (a title or heading can name a person too).
_FREE_TEXT = frozenset({"title", "section", "text"})


def same_region(
    chunks: Sequence[RetrievedChunk], policies: Mapping[str, BucketPolicy]
) -> list[RetrievedChunk]:
    """The chunks one model may see: those of the best chunk's region, and unpinned ones.

    Text of a bucket pinned to a region goes only to deployments of that region, so a
    prompt can never mix two regions: the region of the highest-ranked pinned chunk
    wins, and chunks pinned elsewhere stay out of the prompt (never out of the index).
    """

    def region(chunk: RetrievedChunk) -> str | None:
        policy = policies.get(chunk.bucket) if chunk.bucket else None
        return policy.region if policy else None

    chosen = next((r for r in map(region, chunks) if r), None)
    return [c for c in chunks if region(c) in (None, chosen)]


def draft(
    deps: GenerationDeps,
    principal: Principal,
    question: str,
    chunks: Sequence[RetrievedChunk],
    *,
    prompt_name: str,
    min_support: float,
    downgrade: bool,
    on_token: OnToken | None = None,
    redaction: PiiRedaction | None = None,
) -> Drafted:
    """Generate, repair and ground; :class:`GenerationFailedError` when no model answered.

    With ``redaction``, personal data in the question and the sources leaves as typed
    placeholders unless every deployment the request may reach allows it; the model's
    placeholders are put back before citations are repaired and the answer grounded,
    so grounding compares the text the caller reads with the sources as stored.
    """
    buckets = frozenset(c.bucket for c in chunks if c.bucket)
    try:
        policies = deps.bucket_policies(buckets)
    except DependencyUnavailableError:
        # Residency cannot be checked: no text leaves for any model.
        raise GenerationFailedError(
            "bucket policies are unavailable (database down): residency cannot be checked"
        ) from None
    chunks = same_region(chunks, policies)
    used = {c.bucket for c in chunks if c.bucket}
    request = RouteRequest(
        question_chars=len(question),
        buckets=frozenset(used),
        policies=tuple(policies[b] for b in sorted(used) if b in policies),
        downgrade=downgrade,
    )
    if redaction is not None and deps.gateway.receives_pii(request):
        redaction = None
    outbound = sources(chunks)
    if redaction is not None:
        outbound = [_redacted_source(s, redaction) for s in outbound]
        if on_token is not None:
            on_token = RestoringStream(on_token, redaction.restore)
    try:
        prompt = deps.prompts.resolve(prompt_name, principal.key_id)
        messages = render(
            prompt.system,
            prompt.user,
            {
                "question": question if redaction is None else redaction.redact(question),
                "sources": outbound,
                "today": datetime.now(UTC).date().isoformat(),
            },
        )
    except (NotFoundError, InvalidInputError, DependencyUnavailableError) as exc:
        raise GenerationFailedError(f"prompt '{prompt_name}' is unavailable: {exc}") from None
    generation = deps.gateway.generate(messages, request, on_token=on_token)
    if isinstance(on_token, RestoringStream):
        on_token.flush()
    if redaction is not None:
        generation = replace(generation, text=redaction.restore(generation.text))
    repaired = renumber(generation.text, len(chunks))
    cited = tuple(chunks[n - 1] for n in repaired.cited)
    # An answer that cites nothing is held against every source it was given.
    against = cited or tuple(chunks)
    grounding = ground(
        repaired.text,
        {n: c.text for n, c in enumerate(against, start=1)},
        min_support=min_support,
        question=question,
    )
    return Drafted(
        text=repaired.text,
        cited=cited,
        grounding=grounding,
        generation=generation,
        prompt=PromptRef(prompt.name, prompt.version, prompt.label),
        citations_removed=repaired.removed,
    )
