"""Extractive answers: the retrieved sentences that answer the question, each cited.

This is what ragline says when no LLM is configured or every provider is down, so
it must never invent anything: it only quotes sentences of chunks retrieved for this
question, and says plainly when nothing relevant was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from answer.sentence_cache import SentenceVectorCache
from answer.text import content_words, split_sentences, table_rows
from retrieval.encoders import DenseEncoder
from retrieval.hybrid import RetrievedChunk

NOT_FOUND = "I could not find an answer to this question in the documents you have access to."
_MIN_WORDS = 4
_MAX_CANDIDATES = 200


@dataclass(frozen=True, slots=True)
class ExtractedSentence:
    text: str
    chunk: RetrievedChunk
    relevance: float


@dataclass(frozen=True, slots=True)
class ExtractiveAnswer:
    text: str
    cited: tuple[RetrievedChunk, ...]  # citation n is cited[n - 1]
    found: bool


def _lexical_overlap(question_words: set[str], sentence: str) -> float:
    if not question_words:
        return 0.0
    return len(question_words & set(content_words(sentence))) / len(question_words)


def select_sentences(
    question: str,
    chunks: Sequence[RetrievedChunk],
    dense: DenseEncoder,
    cache: SentenceVectorCache,
    *,
    max_sentences: int,
    min_relevance: float,
) -> list[ExtractedSentence]:
    """Rank the chunks' sentences by closeness to the question; keep the relevant best."""
    per_chunk: list[tuple[RetrievedChunk, int, list[str]]] = []
    budget = _MAX_CANDIDATES
    for rank, chunk in enumerate(chunks):
        units = table_rows(chunk.text) or split_sentences(chunk.text)
        sentences = [s for s in units if len(s.split()) >= _MIN_WORDS][:budget]
        if sentences:
            per_chunk.append((chunk, rank, sentences))
            budget -= len(sentences)
        if budget <= 0:
            break
    if not per_chunk:
        return []
    vectors = cache.vectors([(chunk.chunk_id, sentences) for chunk, _, sentences in per_chunk])
    question_vec = np.asarray(dense.embed_one(question), dtype=np.float32)
    question_words = set(content_words(question))
    scored = []
    for chunk, rank, sentences in per_chunk:
        cosines = vectors[chunk.chunk_id] @ question_vec
        for sentence, cosine in zip(sentences, cosines, strict=True):
            relevance = 0.75 * float(cosine) + 0.25 * _lexical_overlap(question_words, sentence)
            relevance += 0.02 / (1 + rank)  # a nudge to the retriever's order on near-ties
            scored.append(ExtractedSentence(sentence, chunk, round(relevance, 4)))
    scored.sort(key=lambda s: -s.relevance)
    best = scored[0].relevance
    if best < min_relevance:
        return []
    floor = max(min_relevance, 0.75 * best)
    chosen: list[ExtractedSentence] = []
    seen: set[str] = set()
    for item in scored:
        key = " ".join(content_words(item.text))
        if item.relevance < floor or key in seen:
            continue
        seen.add(key)
        chosen.append(item)
        if len(chosen) == max_sentences:
            break
    return chosen


def compose(sentences: Sequence[ExtractedSentence]) -> ExtractiveAnswer:
    """Join sentences, each followed by ``[n]``; n numbers chunks in order of first use."""
    if not sentences:
        return ExtractiveAnswer(NOT_FOUND, (), found=False)
    cited: list[RetrievedChunk] = []
    number: dict[str, int] = {}
    parts = []
    for sentence in sentences:
        if sentence.chunk.chunk_id not in number:
            cited.append(sentence.chunk)
            number[sentence.chunk.chunk_id] = len(cited)
        parts.append(f"{sentence.text} [{number[sentence.chunk.chunk_id]}]")
    return ExtractiveAnswer(" ".join(parts), tuple(cited), found=True)
