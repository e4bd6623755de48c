"""Extractive answers: the retrieved sentences that answer the question, each cited.

This is what ragline says when no LLM is configured or every provider is down, so
it must never invent anything: it only quotes sentences of chunks retrieved for this
question, and says plainly when nothing relevant was found.

What is quoted is a unit of ``answer.text.answer_units``: a sentence, a table row
with its header, or a lead-in with its list items (one quote, so a clause "Either
party may terminate:" never comes without its "(a)" and "(b)"). A unit is as close to
the question as its closest sentence (MiniLM cosine), and holds the question's
content words its sentences hold together (lexical overlap):
``relevance = 0.75 * cosine + 0.25 * overlap``.

Short lines (under four words) compete when they are a labelled value ("Wi-Fi
password: guest123") or share a content word with the question; a bare one (a
heading, a caption, an OCR'd line) is quoted only when no longer unit answers, so
headings never crowd out the sentences under them.

Whether to answer at all is decided on the best unit by two measured signals, each
with its own threshold: its relevance (``min_relevance``, a setting) and the share of
the question's content words it holds (``min_overlap``). See :data:`MIN_OVERLAP` for
where the numbers come from. A question whose wording names a narrow kind of value
("how often", "how many", "what year") is answered only by quotes of which one states
such a value (:mod:`answer.asked_value`), and that one leads: on topic and sharing the
question's words is what an unanswerable question's closest sentence usually is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from answer.asked_value import answers_asked_value
from answer.sentence_cache import SentenceVectorCache
from answer.text import Unit, answer_units, content_words, is_labelled_value, unit_text
from retrieval.encoders import DenseEncoder
from retrieval.hybrid import RetrievedChunk

NOT_FOUND = "I could not find an answer to this question in the documents you have access to."
_MIN_WORDS: Final = 4
_MAX_CANDIDATES: Final = 200
#: The least share of the question's content words the best unit must hold for an
#: answer, beside ``min_relevance`` (0.42 by default). Both were calibrated together on
#: the project's golden set (``evals/golden/answers``: 30 answerable, 18 unanswerable
#: questions; MiniLM; the sweep is in README "Answers"). Every answerable question's
#: best unit had a relevance of at least 0.456 and an overlap of at least 0.25, the
#: unanswerable ones spread from 0.27 to 0.70: 0.42 and 0.2 (one content word in
#: five) keep a margin below the answerable ones and abstain on 9 of the 18, where
#: 0.35 and no overlap abstained on 1. Higher, answerable questions start to go
#: unanswered (0.46: hit@1 0.97; 0.50: term recall 0.93). The top chunk's retrieval
#: score (a fused rank: the top chunk leads both rankings for nearly every question)
#: and the grounding of a quote (always 1.0) told nothing more and are not used.
#: Nor does the gap between the top two chunks' fused scores (issue 15, re-measured
#: with the feedback search): an answerable question has 0.014 (sec-lost-laptop) and
#: 4 of 30 are below 0.14, while the 9 unanswerable ones still answered spread from
#: 0.010 to 0.351, so no threshold keeps a margin; nor the top-1 to top-5 gap, the
#: number of documents among the top chunks, or dense/BM25 top-document agreement.
#: On a held-out set written by nobody here (``benchmarks/heldout_answers.py``: MS MARCO
#: questions with and without their judged passages) they abstain on 2 of 43
#: unanswerable questions, and no threshold on them abstains much more without losing
#: answers: see README "When it says it found nothing".
MIN_OVERLAP: Final = 0.2


@dataclass(frozen=True, slots=True)
class ExtractedSentence:
    """A unit an answer may quote, with how it was ranked.

    ``overlap`` is the share of the question's content words the text holds;
    ``bare`` marks a short line that is no labelled value (quoted only as a fallback).
    """

    text: str
    chunk: RetrievedChunk
    relevance: float
    overlap: float = 0.0
    bare: bool = False


@dataclass(frozen=True, slots=True)
class ExtractiveAnswer:
    text: str
    cited: tuple[RetrievedChunk, ...]  # citation n is cited[n - 1]
    found: bool


def _lexical_overlap(question_words: set[str], text: str) -> float:
    if not question_words:
        return 0.0
    return len(question_words & set(content_words(text))) / len(question_words)


def rank_units(
    question: str,
    chunks: Sequence[RetrievedChunk],
    dense: DenseEncoder,
    cache: SentenceVectorCache,
) -> list[ExtractedSentence]:
    """Every unit of the chunks that may be quoted, best first.

    All sentences of a chunk are embedded (and cached) whatever the question; which
    short lines compete depends on the question, so it is decided after.
    """
    per_chunk: list[tuple[RetrievedChunk, int, list[Unit]]] = []
    budget = _MAX_CANDIDATES
    for rank, chunk in enumerate(chunks):
        units = answer_units(chunk.text)[:budget]
        if units:
            per_chunk.append((chunk, rank, units))
            budget -= len(units)
        if budget <= 0:
            break
    if not per_chunk:
        return []
    vectors = cache.vectors(
        [(chunk.chunk_id, [s for unit in units for s in unit]) for chunk, _, units in per_chunk]
    )
    question_vec = np.asarray(dense.embed_one(question), dtype=np.float32)
    question_words = set(content_words(question))
    scored = []
    for chunk, rank, units in per_chunk:
        cosines = iter((vectors[chunk.chunk_id] @ question_vec).tolist())
        for unit in units:
            cosine = max(next(cosines) for _ in unit)
            text = unit_text(unit)
            overlap = _lexical_overlap(question_words, text)
            short = len(text.split()) < _MIN_WORDS and not is_labelled_value(text)
            if short and overlap == 0.0:
                continue
            relevance = 0.75 * cosine + 0.25 * overlap
            relevance += 0.02 / (1 + rank)  # a nudge to the retriever's order on near-ties
            scored.append(ExtractedSentence(text, chunk, round(relevance, 4), overlap, short))
    scored.sort(key=lambda s: -s.relevance)
    return scored


def select_sentences(
    question: str,
    chunks: Sequence[RetrievedChunk],
    dense: DenseEncoder,
    cache: SentenceVectorCache,
    *,
    max_sentences: int,
    min_relevance: float,
    min_overlap: float = MIN_OVERLAP,
) -> list[ExtractedSentence]:
    """The units to quote, best first; [] when the best one does not answer.

    The best unit answers when its relevance reaches ``min_relevance`` and it holds
    at least ``min_overlap`` of the question's content words. Bare short lines stand
    in only when no other unit answers. Others are quoted beside the best while
    within three quarters of its relevance. When the question's wording names a kind
    of value ("how often", "how many", "what year"), the first of these that states
    one leads, and none stating one is no answer.
    """
    ranked = rank_units(question, chunks, dense, cache)

    def answers(unit: ExtractedSentence) -> bool:
        return unit.relevance >= min_relevance and unit.overlap >= min_overlap

    full = [s for s in ranked if not s.bare]
    pool = full if full and answers(full[0]) else ranked
    if not pool or not answers(pool[0]):
        return []
    floor = max(min_relevance, 0.75 * pool[0].relevance)
    chosen: list[ExtractedSentence] = []
    seen: set[str] = set()
    for item in pool:
        key = " ".join(content_words(item.text))
        if item.relevance < floor or key in seen:
            continue
        seen.add(key)
        chosen.append(item)
        if len(chosen) == max_sentences:
            break
    # "How often ...?" is answered by the first quote that states a frequency, not by a
    # closer one that states none; when no quote states one, nothing here answers.
    stating = [s for s in chosen if answers_asked_value(question, s.text)]
    if not stating:
        return []
    return [stating[0], *(s for s in chosen if s is not stating[0])]


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
