"""Answering a question: retrieve inside the caller's roles, answer, cite, ground, record."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Protocol

from answer.extractive import compose, select_sentences
from answer.grounding import Grounding, ground
from answer.sentence_cache import SentenceVectorCache
from kernel.errors import InvalidInputError
from kernel.settings import AnswerSettings
from retrieval.access import Principal, RequestedFilters, search_filter
from retrieval.encoders import DenseEncoder
from retrieval.hybrid import HybridRetriever, RetrievedChunk

EXTRACTIVE_MODEL = "extractive"


class AnswerLog(Protocol):
    """Where answers are recorded (``answer.records`` today, the audit log later)."""

    def record_answer(
        self,
        *,
        answer_id: str,
        key_id: str,
        model: str,
        retrieval: dict[str, object],
        chunk_ids: list[str],
        cited_chunk_ids: list[str],
        grounding: float,
        latency_ms: float,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Answer:
    answer_id: str
    text: str
    citations: tuple[RetrievedChunk, ...]
    grounding: Grounding
    found: bool
    model: str
    latency_ms: float


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
    ) -> None:
        self._retriever = retriever
        self._dense = dense
        self._log = log
        self._settings = settings
        self._default_top_k = default_top_k
        self._max_question_chars = max_question_chars
        self._sentence_vectors = SentenceVectorCache(dense)

    def ask(
        self,
        principal: Principal,
        question: str,
        *,
        top_k: int | None = None,
        filters: RequestedFilters | None = None,
    ) -> Answer:
        started = time.perf_counter()
        question = " ".join(question.split())
        if not question:
            raise InvalidInputError("question is empty")
        if len(question) > self._max_question_chars:
            raise InvalidInputError(
                f"question is longer than {self._max_question_chars} characters"
            )
        k = top_k or self._default_top_k
        chunks = self._retriever.retrieve(question, search_filter(principal, filters), top_k=k)
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
        grounding = (
            ground(extractive.text, cited_texts, min_support=self._settings.min_support)
            if extractive.found
            else Grounding(1.0, (), ())
        )
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        answer_id = str(uuid.uuid4())
        config = self._retriever.config
        self._log.record_answer(
            answer_id=answer_id,
            key_id=principal.key_id,
            model=EXTRACTIVE_MODEL,
            retrieval={
                "mode": "hybrid",
                "top_k": k,
                "prefetch_limit": config.prefetch_limit,
                "rrf_k": config.rrf_k,
                "filters": {
                    "doc_type": sorted(filters.doc_types)
                    if filters and filters.doc_types
                    else None,
                    "bucket": sorted(filters.buckets) if filters and filters.buckets else None,
                },
            },
            chunk_ids=[c.chunk_id for c in chunks],
            cited_chunk_ids=[c.chunk_id for c in extractive.cited],
            grounding=grounding.score,
            latency_ms=latency_ms,
        )
        return Answer(
            answer_id=answer_id,
            text=extractive.text,
            citations=extractive.cited,
            grounding=grounding,
            found=extractive.found,
            model=EXTRACTIVE_MODEL,
            latency_ms=latency_ms,
        )
