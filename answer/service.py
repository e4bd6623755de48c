"""Answering a question: retrieve inside the caller's roles, answer, cite, ground, record."""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

from answer.extractive import compose, select_sentences
from answer.generated import PromptRef, draft
from answer.grounding import Grounding, ground
from answer.ports import (
    AnswerObserver,
    BudgetVerdict,
    GenerationDeps,
    PiiRedaction,
    PiiScreen,
    RecordQueue,
    ReleaseAssignment,
    ReleaseRouting,
)
from answer.release_variant import release_deps
from answer.sentence_cache import SentenceVectorCache
from generation.gateway import GenerationFailedError, OnToken
from kernel.errors import (
    BudgetExceededError,
    DependencyUnavailableError,
    InvalidInputError,
    RaglineError,
)
from kernel.settings import AnswerSettings
from retrieval.access import Principal, RequestedFilters, search_filter
from retrieval.encoders import DenseEncoder
from retrieval.hybrid import HybridRetriever, RetrievedChunk
from retrieval.index.base import Fusion

EXTRACTIVE_MODEL = "extractive"
ABSTENTION = "I could not find a grounded answer to this question in the documents you can access."

log = logging.getLogger(__name__)


class AnswerLog(Protocol):
    """Where answers are recorded: the audit log (``governance.audit_answers``).

    Texts arrive redacted (typed placeholders), or not at all when no PII screen is
    configured; citations carry ids and places, never chunk text, so deleting a
    document leaves no copy of its text in the log.
    """

    def record_answer(
        self,
        *,
        answer_id: str,
        key_id: str,
        team: str | None,
        identity: str | None,
        model: str,
        retrieval: dict[str, object],
        chunk_ids: list[str],
        cited_chunk_ids: list[str],
        grounding: float,
        latency_ms: float,
        generation: dict[str, object] | None = None,
        question: str | None = None,
        answer: str | None = None,
        citations: list[dict[str, object]] | None = None,
        degraded: bool = False,
    ) -> None: ...


class ReviewOffer(Protocol):
    """The review queue (``governance.review``): it decides whether an answer needs a human."""

    def offer(self, answer_id: str, *, grounding: float, degraded: bool) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class ReleaseRef:
    """The release that answered, and whether as the candidate or as the current one."""

    id: str
    version: int
    arm: str


@dataclass(frozen=True, slots=True)
class Answer:
    answer_id: str
    text: str
    citations: tuple[RetrievedChunk, ...]
    grounding: Grounding
    found: bool
    model: str
    latency_ms: float
    # True when a configured model could not answer and the extractive answer stands in.
    degraded: bool = False
    degraded_reason: str | None = None
    usage: Usage | None = None
    prompt: PromptRef | None = None
    # Deployments tried before the one that answered (or all of them, when degraded).
    failed_deployments: tuple[str, ...] = ()
    citations_removed: int = 0
    budget_warnings: tuple[str, ...] = ()
    # What the low-grounding policy did: None, "flagged", "abstained" or "extractive".
    grounding_action: str | None = None
    # The release whose bundle answered (``releases``); None: the service's own settings.
    release: ReleaseRef | None = None


class AnswerService:
    def __init__(
        self,
        retriever: HybridRetriever,
        dense: DenseEncoder,
        log: AnswerLog,
        settings: AnswerSettings,
        *,
        default_top_k: int,
        max_question_chars: int,
        generation: GenerationDeps | None = None,
        pii: PiiScreen | None = None,
        block_pii_questions: bool = False,
        review: ReviewOffer | None = None,
        observer: AnswerObserver | None = None,
        releases: ReleaseRouting | None = None,
        records: RecordQueue | None = None,
    ) -> None:
        self._retriever = retriever
        self._dense = dense
        self._log = log
        # None: the record is written inside the request, before the answer returns.
        self._records = records
        self._settings = settings
        self._default_top_k = default_top_k
        self._max_question_chars = max_question_chars
        self._sentence_vectors = SentenceVectorCache(dense)
        self._generation = generation
        self._pii = pii
        self._block_pii_questions = block_pii_questions
        self._review = review
        self._observer = observer
        self._releases = releases
        # One variant of this service per release and arm (its bundle applied).
        self._variants: dict[tuple[str, str], AnswerService] = {}
        self._release: ReleaseRef | None = None

    @property
    def generates(self) -> bool:
        """True when a models file is configured (answers are generated, not extracted)."""
        return self._generation is not None

    def ask(
        self,
        principal: Principal,
        question: str,
        *,
        top_k: int | None = None,
        filters: RequestedFilters | None = None,
        on_token: OnToken | None = None,
    ) -> Answer:
        """Answer as the release the caller is assigned to, and count how it went."""
        routing = self._releases
        assignment = routing.assign(principal) if routing is not None else None
        service = self if assignment is None else self._variant(assignment)
        started = time.perf_counter()
        try:
            answer = service._answer(
                principal, question, top_k=top_k, filters=filters, on_token=on_token
            )
        except (InvalidInputError, BudgetExceededError):
            raise  # the caller's doing, not the release's
        except Exception as exc:
            if routing is not None and assignment is not None:
                counted = isinstance(exc, DependencyUnavailableError) or not isinstance(
                    exc, RaglineError
                )
                if counted:
                    routing.count(assignment, error=True, latency_s=time.perf_counter() - started)
            raise
        if routing is not None and assignment is not None:
            routing.count(
                assignment,
                error=False,
                degraded=answer.degraded,
                abstained=not answer.found,
                grounding=answer.grounding.score if answer.found else None,
                latency_s=answer.latency_ms / 1000,
                cost_usd=answer.usage.cost_usd if answer.usage else 0.0,
            )
        return answer

    def with_release(self, assignment: ReleaseAssignment) -> AnswerService:
        """This service answering every caller as ``assignment``'s release, uncounted:
        how the eval gate runs a release's bundle over the golden set."""
        return self._variant(assignment)

    def _variant(self, assignment: ReleaseAssignment) -> AnswerService:
        """This service with ``assignment``'s bundle applied, kept per release and arm."""
        if assignment.release_id is None or assignment.version is None:
            return self  # no release current yet: the service's own settings
        key = (assignment.release_id, assignment.arm)
        found = self._variants.get(key)
        if found is not None:
            return found
        variant = copy.copy(self)
        variant._releases, variant._variants = None, {}
        variant._release = ReleaseRef(assignment.release_id, assignment.version, assignment.arm)
        updates: dict[str, object] = {
            name: value
            for name, value in (
                ("min_relevance", assignment.min_relevance),
                ("min_grounding", assignment.min_grounding),
            )
            if value is not None
        }
        if assignment.prompt is not None:
            updates["prompt_name"] = assignment.prompt.name
        if updates:
            variant._settings = self._settings.model_copy(update=updates)
        if assignment.top_k is not None:
            variant._default_top_k = assignment.top_k
        if assignment.fusion is not None or assignment.dense_weight is not None:
            config = self._retriever.config
            fusion = config.fusion
            retriever = copy.copy(self._retriever)
            retriever.config = replace(
                config,
                fusion=Fusion(
                    method="rrf" if (assignment.fusion or fusion.method) == "rrf" else "convex",
                    dense_weight=fusion.dense_weight
                    if assignment.dense_weight is None
                    else assignment.dense_weight,
                    rrf_k=fusion.rrf_k,
                ),
            )
            variant._retriever = retriever
        if assignment.extractive:
            variant._generation = None
        elif self._generation is not None:
            variant._generation = release_deps(
                self._generation, assignment.prompt, assignment.route
            )
        if len(self._variants) > 64:  # releases come and go: never grow without bound
            self._variants.clear()
        self._variants[key] = variant
        return variant

    def _answer(
        self,
        principal: Principal,
        question: str,
        *,
        top_k: int | None,
        filters: RequestedFilters | None,
        on_token: OnToken | None,
    ) -> Answer:
        started = time.perf_counter()
        question = " ".join(question.split())
        if not question:
            raise InvalidInputError("question is empty")
        if len(question) > self._max_question_chars:
            raise InvalidInputError(
                f"question is longer than {self._max_question_chars} characters"
            )
        stages: dict[str, float] = {}
        with _stage(stages, "redact" if self._pii is not None else None):
            redaction = self._screen(question)
        k = top_k or self._default_top_k
        # Retrieval runs here, on this service's own engines: it sees the question as
        # asked. Only what leaves (a model's prompt) or stays (the record) is redacted.
        with _stage(stages, "retrieve"):
            chunks = self._retriever.retrieve(question, search_filter(principal, filters), top_k=k)
        answer_id = str(uuid.uuid4())
        if self._generation is not None and chunks:
            with _stage(stages, "generate"):
                outcome = self._generate(
                    answer_id, principal, question, chunks, on_token, redaction
                )
        else:
            with _stage(stages, "extract"):
                outcome = self._extract(question, chunks, stages=stages)
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        answer = replace(outcome, answer_id=answer_id, latency_ms=latency_ms, release=self._release)
        with _stage(stages, "record"):
            self._keep(
                partial(
                    self._write_record, answer, principal, question, redaction, chunks, k, filters
                )
            )
            self._offer_for_review(answer)
        self._observe(answer, stages, principal)
        return answer

    def _observe(self, answer: Answer, stages: dict[str, float], principal: Principal) -> None:
        if self._observer is None:
            return
        try:
            self._observer.observe(answer, stages, principal.team)
        except Exception:
            # Metrics are not worth an answer: the caller gets it, the operator a log line.
            log.exception("answer %s was not counted in the metrics", answer.answer_id)

    def _screen(self, question: str) -> PiiRedaction | None:
        """This request's redaction; refuses the question when the policy blocks PII."""
        if self._pii is None:
            return None
        if self._block_pii_questions:
            kinds = sorted({f.entity_type for f in self._pii.find(question)})
            if kinds:
                raise InvalidInputError(
                    f"the question holds personal data ({', '.join(kinds)}), which this "
                    "service's policy refuses: ask again without it"
                )
        return self._pii.redaction()

    def _offer_for_review(self, answer: Answer) -> None:
        if self._review is None:
            return
        try:
            self._review.offer(
                answer.answer_id, grounding=answer.grounding.score, degraded=answer.degraded
            )
        except DependencyUnavailableError:
            log.warning(
                "answer %s was not offered for review: the database is down", answer.answer_id
            )

    def _extract(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        *,
        degraded_reason: str | None = None,
        stages: dict[str, float] | None = None,
    ) -> Answer:
        sentences = select_sentences(
            question,
            chunks,
            self._dense,
            self._sentence_vectors,
            max_sentences=self._settings.max_sentences,
            min_relevance=self._settings.min_relevance,
        )
        extractive = compose(sentences)
        cited_texts = {n: c.text for n, c in enumerate(extractive.cited, start=1)}
        with _stage(stages, "ground" if extractive.found else None):
            grounding = (
                ground(extractive.text, cited_texts, min_support=self._settings.min_support)
                if extractive.found
                else Grounding(1.0, (), ())
            )
        return Answer(
            answer_id="",
            text=extractive.text,
            citations=extractive.cited,
            grounding=grounding,
            found=extractive.found,
            model=EXTRACTIVE_MODEL,
            latency_ms=0.0,
            degraded=degraded_reason is not None,
            degraded_reason=degraded_reason,
        )

    def _generate(
        self,
        answer_id: str,
        principal: Principal,
        question: str,
        chunks: list[RetrievedChunk],
        on_token: OnToken | None,
        redaction: PiiRedaction | None,
    ) -> Answer:
        deps = self._generation
        assert deps is not None
        try:
            verdict = deps.check_budget(principal)
        except DependencyUnavailableError:
            # Budgets fail open: an outage of the ledger must not stop answers.
            log.warning("budget of %s not checked: the database is down", principal.key_id)
            verdict = BudgetVerdict("allow")
        if verdict.action == "refuse":
            raise BudgetExceededError(verdict.message or "over budget")
        try:
            drafted = draft(
                deps,
                principal,
                question,
                chunks,
                prompt_name=self._settings.prompt_name,
                min_support=self._settings.min_support,
                downgrade=verdict.action == "downgrade",
                on_token=on_token,
                redaction=redaction,
            )
        except GenerationFailedError as exc:
            degraded = self._extract(question, chunks, degraded_reason=exc.reason)
            return replace(
                degraded, failed_deployments=exc.failed, budget_warnings=verdict.warnings
            )
        generation = drafted.generation
        try:
            deps.record_usage(answer_id, principal, generation)
        except DependencyUnavailableError:
            log.warning("usage of answer %s was not recorded: the database is down", answer_id)
        answer = Answer(
            answer_id=answer_id,
            text=drafted.text,
            citations=drafted.cited,
            grounding=drafted.grounding,
            found=bool(drafted.cited),
            model=generation.deployment,
            latency_ms=0.0,
            usage=Usage(
                generation.prompt_tokens, generation.completion_tokens, generation.cost_usd
            ),
            prompt=drafted.prompt,
            failed_deployments=generation.failed,
            citations_removed=drafted.citations_removed,
            budget_warnings=verdict.warnings,
        )
        return self._apply_grounding_policy(answer, question, chunks)

    def _apply_grounding_policy(
        self, answer: Answer, question: str, chunks: list[RetrievedChunk]
    ) -> Answer:
        settings = self._settings
        if answer.grounding.score >= settings.min_grounding:
            return answer
        if settings.low_grounding == "abstain":
            return replace(
                answer,
                text=ABSTENTION,
                citations=(),
                found=False,
                grounding_action="abstained",
            )
        if settings.low_grounding == "extractive":
            extractive = self._extract(question, chunks)
            return replace(
                answer,
                text=extractive.text,
                citations=extractive.citations,
                grounding=extractive.grounding,
                found=extractive.found,
                grounding_action="extractive",
            )
        return replace(answer, grounding_action="flagged")

    def _keep(self, record: Callable[[], None]) -> None:
        """Hand the record to the queue, or write it now: redaction is part of the job.

        The job reads only values fixed by now (the answer, the chunks, this request's
        redaction), so running it later writes what running it now would have.
        """
        if self._records is None:
            record()
        else:
            self._records.submit(record)

    def _write_record(
        self,
        answer: Answer,
        principal: Principal,
        question: str,
        redaction: PiiRedaction | None,
        chunks: list[RetrievedChunk],
        k: int,
        filters: RequestedFilters | None,
    ) -> None:
        config = self._retriever.config
        self._log.record_answer(
            answer_id=answer.answer_id,
            key_id=principal.key_id,
            team=principal.team,
            identity=principal.name,
            question=None if redaction is None else redaction.redact(question),
            answer=None if redaction is None else redaction.redact(answer.text),
            citations=[_citation_record(n, c) for n, c in enumerate(answer.citations, start=1)],
            degraded=answer.degraded,
            model=answer.model,
            retrieval={
                "mode": "hybrid",
                "top_k": k,
                "prefetch_limit": config.prefetch_limit,
                "fusion": config.fusion.method,
                "dense_weight": config.fusion.dense_weight,
                "rrf_k": config.fusion.rrf_k,
                "filters": {
                    "doc_type": sorted(filters.doc_types)
                    if filters and filters.doc_types
                    else None,
                    "bucket": sorted(filters.buckets) if filters and filters.buckets else None,
                },
                "release": None
                if answer.release is None
                else {
                    "id": answer.release.id,
                    "version": answer.release.version,
                    "arm": answer.release.arm,
                },
            },
            chunk_ids=[c.chunk_id for c in chunks],
            cited_chunk_ids=[c.chunk_id for c in answer.citations],
            grounding=answer.grounding.score,
            latency_ms=answer.latency_ms,
            generation=_generation_record(answer, principal),
        )


@contextmanager
def _stage(stages: dict[str, float] | None, name: str | None) -> Iterator[None]:
    """Add the seconds the block took to ``stages[name]``; no-op without both."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if stages is not None and name is not None:
            stages[name] = stages.get(name, 0.0) + time.perf_counter() - started


def _citation_record(n: int, chunk: RetrievedChunk) -> dict[str, object]:
    """Where citation ``n`` points; its text stays in the index (a deletion removes it)."""
    return {
        "n": n,
        "chunk_id": chunk.chunk_id,
        "document_id": chunk.document_id,
        "title": chunk.title,
        "source": chunk.source,
        "section": chunk.section,
        "page": chunk.page,
    }


def _generation_record(answer: Answer, principal: Principal) -> dict[str, object] | None:
    """What made a generated (or degraded) answer, for the answer record; None otherwise."""
    if answer.usage is None and not answer.degraded:
        return None
    return {
        "team": principal.team,
        "prompt": None
        if answer.prompt is None
        else {
            "name": answer.prompt.name,
            "version": answer.prompt.version,
            "label": answer.prompt.label,
        },
        "deployment": None if answer.usage is None else answer.model,
        "failed_deployments": list(answer.failed_deployments),
        "usage": None
        if answer.usage is None
        else {
            "prompt_tokens": answer.usage.prompt_tokens,
            "completion_tokens": answer.usage.completion_tokens,
            "cost_usd": answer.usage.cost_usd,
        },
        "citations_removed": answer.citations_removed,
        "degraded_reason": answer.degraded_reason,
        "grounding_action": answer.grounding_action,
    }
