"""Which sentences an extractive answer quotes, in what order, citing which chunk."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import pytest

from answer.extractive import ExtractedSentence, select_sentences
from answer.sentence_cache import SentenceVectorCache
from chunkers.base import TokenCounter
from retrieval.hybrid import RetrievedChunk

pytestmark = pytest.mark.unit


class TopicWordEncoderDouble:
    """Stands in for the embedding model: a text's vector counts a few topic words.

    Deterministic and readable: two texts are close exactly as far as they share
    topic words, and a text with none of them is orthogonal to every question.
    """

    VOCABULARY = ("vacation", "days", "laptop", "salary", "office")
    dim = len(VOCABULARY)

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    @property
    def tokens(self) -> TokenCounter:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self._vector(text) for text in texts]

    def embed_one(self, text: str) -> list[float]:
        return self._vector(text)

    def _vector(self, text: str) -> list[float]:
        words = re.findall(r"[a-z]+", text.lower())
        counts = [float(words.count(topic)) for topic in self.VOCABULARY]
        norm = math.sqrt(sum(c * c for c in counts))
        return [c / norm if norm else 0.0 for c in counts]


def _chunk(chunk_id: str, text: str) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=chunk_id,
        score=0.5,
        document_id=f"doc-{chunk_id}",
        document_version=1,
        text=text,
        title=None,
        source=None,
        section=None,
        page=None,
        bucket=None,
        doc_type=None,
    )


def _select(
    question: str,
    chunks: Sequence[RetrievedChunk],
    *,
    max_sentences: int = 4,
    min_relevance: float = 0.35,
    encoder: TopicWordEncoderDouble | None = None,
) -> list[ExtractedSentence]:
    dense = encoder or TopicWordEncoderDouble()
    return select_sentences(
        question,
        chunks,
        dense,
        SentenceVectorCache(dense),
        max_sentences=max_sentences,
        min_relevance=min_relevance,
    )


HANDBOOK = _chunk(
    "handbook",
    "The office opens at eight on weekdays. "
    "Staff may take their vacation in two parts each year. "
    "Unused vacation days carry over to the next year.",
)
POLICY = _chunk(
    "policy",
    "Full-time employees receive twenty vacation days per year. "
    "Salary is paid on the last working day of the month.",
)
QUESTION = "How many vacation days do employees get?"


def test_sentences_come_best_first_whatever_the_chunk_order() -> None:
    chosen = _select(QUESTION, [HANDBOOK, POLICY])
    assert [s.text for s in chosen] == [
        "Full-time employees receive twenty vacation days per year.",
        "Unused vacation days carry over to the next year.",
    ]
    assert chosen[0].relevance > chosen[1].relevance


def test_each_sentence_cites_the_chunk_it_came_from() -> None:
    chosen = _select(QUESTION, [HANDBOOK, POLICY])
    assert [s.chunk.chunk_id for s in chosen] == ["policy", "handbook"]
    for sentence in chosen:
        assert sentence.text in sentence.chunk.text


def test_sentences_far_weaker_than_the_best_are_left_out() -> None:
    """Half on topic is not enough next to a sentence that answers the question."""
    chosen = _select(QUESTION, [HANDBOOK, POLICY], min_relevance=0.0)
    assert "Staff may take their vacation in two parts each year." not in [s.text for s in chosen]
    alone = _select(QUESTION, [_chunk("alone", "Staff may take their vacation in two parts.")])
    assert [s.text for s in alone] == ["Staff may take their vacation in two parts."]


def test_no_more_than_max_sentences() -> None:
    chosen = _select(QUESTION, [HANDBOOK, POLICY], max_sentences=1)
    assert [s.text for s in chosen] == [
        "Full-time employees receive twenty vacation days per year."
    ]


def test_nothing_relevant_enough_gives_nothing() -> None:
    assert _select("Which laptop model do engineers use?", [HANDBOOK, POLICY]) == []
    best = _select(QUESTION, [HANDBOOK, POLICY])[0].relevance
    assert _select(QUESTION, [HANDBOOK, POLICY], min_relevance=best + 0.01) == []


def test_sentences_too_short_to_answer_are_not_candidates() -> None:
    short = _chunk("short", "Vacation days: twenty. Ask HR.")
    assert _select(QUESTION, [short]) == []


def test_the_same_sentence_in_two_chunks_is_quoted_once_from_the_better_ranked() -> None:
    sentence = "Full-time employees receive twenty vacation days per year."
    chosen = _select(QUESTION, [_chunk("first", sentence), _chunk("second", sentence)])
    assert [(s.text, s.chunk.chunk_id) for s in chosen] == [(sentence, "first")]


def test_a_table_chunk_is_read_row_by_row_with_its_header() -> None:
    table = _chunk(
        "assets",
        "Item | Owner | Replaced\n"
        "Laptop | IT desk | every three years\n"
        "Office chair | Facilities | every eight years\n",
    )
    encoder = TopicWordEncoderDouble()
    chosen = _select("When is a laptop replaced?", [table], encoder=encoder)
    row = "Item: Laptop; Owner: IT desk; Replaced: every three years"
    assert encoder.calls == [
        [row, "Item: Office chair; Owner: Facilities; Replaced: every eight years"]
    ]
    assert [(s.text, s.chunk.chunk_id) for s in chosen] == [(row, "assets")]
