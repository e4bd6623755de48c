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
    min_overlap: float = 0.0,
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
        min_overlap=min_overlap,
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


def test_a_short_fact_is_quoted_and_a_short_line_off_the_question_is_not() -> None:
    """Issue 15: lines under four words were dropped, so "Wi-Fi password: guest123" never was."""
    short = _chunk("short", "Vacation days: twenty.\n\nAsk HR.")
    assert [s.text for s in _select(QUESTION, [short])] == ["Vacation days: twenty."]


def test_a_bare_heading_is_quoted_only_when_no_sentence_answers() -> None:
    headed = _chunk(
        "headed",
        "Vacation days\n\nFull-time employees receive twenty vacation days per year.",
    )
    assert [s.text for s in _select(QUESTION, [headed])] == [
        "Full-time employees receive twenty vacation days per year."
    ]
    # a page that holds nothing but a short line (a slide title, an OCR'd page); asked
    # "how many", the heading would state no number (see the asked-value test below)
    alone = _chunk("alone", "Vacation days\n\nSee the office map.")
    question = "Which rules apply to vacation days?"
    assert [s.text for s in _select(question, [alone])] == ["Vacation days"]


def test_a_lead_in_is_quoted_with_its_items_as_one_unit() -> None:
    """Issue 15: the lead-in of clause 3.2 was quoted without its items (a) and (b)."""
    clause = _chunk(
        "clause",
        "3.2 Employees may take their vacation days:\n\n"
        "(a) in two parts of at least one week;\n\n"
        "(b) only after the office has approved them.\n\n"
        "3.3 Salary is paid monthly.",
    )
    chosen = _select(QUESTION, [clause])
    assert [s.text for s in chosen] == [
        "3.2 Employees may take their vacation days: (a) in two parts of at least one week;"
        " (b) only after the office has approved them."
    ]


def test_an_answer_needs_a_share_of_the_question_words_as_well() -> None:
    # the best sentence holds 3 of the question's 5 content words (employe, vacat, day)
    best = "Full-time employees receive twenty vacation days per year."
    assert [s.text for s in _select(QUESTION, [POLICY], min_overlap=0.6)] == [best]
    assert _select(QUESTION, [POLICY], min_overlap=0.61) == []


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


def test_an_on_topic_unit_without_the_value_asked_for_is_no_answer() -> None:
    """Issue 15: "How often must passwords be changed?" was answered with a password length.

    The unit is on topic and shares the question's words, so it passes both thresholds;
    "how often" asks for a frequency, and it states none.
    """
    question = "How often is a laptop replaced?"
    desk = "A laptop is replaced by the IT desk."
    assert _select(question, [_chunk("desk", desk)]) == []


def test_the_quote_that_states_the_value_asked_for_leads() -> None:
    """The closest unit names who replaces a laptop; the one that says how often leads."""
    question = "How often is a laptop replaced?"
    desk = "A laptop is replaced by the IT desk."
    every = "A laptop is replaced every three years by the office."
    chosen = _select(question, [_chunk("desk", desk), _chunk("every", every)])
    assert [s.text for s in chosen] == [every, desk]
    assert chosen[0].relevance < chosen[1].relevance
