"""Issue 15's three defects on the golden documents' chunks, with the real MiniLM.

The chunk texts are what ragline's chunkers make of ``evals/golden/answers/docs``
(blank lines between parsed elements, a parsed list one item per line). The
thresholds are the service's defaults, so these are the answers ``/ask`` gives.
"""

from __future__ import annotations

from typing import Any

import pytest

from answer.extractive import NOT_FOUND, compose, select_sentences
from answer.sentence_cache import SentenceVectorCache
from kernel.settings import AnswerSettings
from retrieval.hybrid import RetrievedChunk

pytestmark = pytest.mark.service

CONTRACT = [
    "3.1 This Agreement runs for an initial term of 24 months and renews automatically for"
    " periods of 12 months.\n\n3.2 Either party may terminate this Agreement:\n\n(a) for"
    " convenience, with 60 days' written notice before the end of the current term;\n\n(b)"
    " immediately, if the other party commits a material breach that is not cured within 30"
    " days of written notice.",
    "4.1 Each party shall keep the other party's confidential information secret during the"
    " Agreement and for 3 years after it ends.",
    "5.1 Each party's total liability under this Agreement is limited to the fees paid in the"
    " 12 months before the claim.",
]
WIFI = ["Network: Northwind-Guest\n\nWi-Fi password: guest123"]
SECURITY = [
    "Passwords must be at least 14 characters long and must not be reused across services."
    " Multi-factor authentication is mandatory for email, the VPN and every cloud application."
    " Passwords are stored only in the approved password manager, Bitwarden.",
]
LEAVE = [
    "Full-time employees receive 25 working days of paid annual leave per calendar year."
    " Part-time employees receive leave in proportion to their contracted hours.",
    "Employees who are ill must inform their manager before 10:00 on the first day of absence."
    " A medical certificate is required from the fourth consecutive day of sick leave.",
]


def _chunks(texts: list[str]) -> list[RetrievedChunk]:
    return [
        RetrievedChunk(f"c{i}", 0.5, f"d{i}", 1, text, None, None, None, None, None, None)
        for i, text in enumerate(texts)
    ]


def _answer(embedder: Any, question: str, texts: list[str]) -> str:
    settings = AnswerSettings()
    chosen = select_sentences(
        question,
        _chunks(texts),
        embedder,
        SentenceVectorCache(embedder),
        max_sentences=settings.max_sentences,
        min_relevance=settings.min_relevance,
    )
    return compose(chosen).text


def test_the_termination_lead_in_comes_with_its_items(embedder: Any) -> None:
    question = "Can either party terminate the agreement, and with how much notice?"
    answer = _answer(embedder, question, CONTRACT)
    assert answer.startswith(
        "3.2 Either party may terminate this Agreement: (a) for convenience, with 60 days'"
    )
    assert "(b) immediately, if the other party commits a material breach" in answer


def test_a_short_fact_is_quoted(embedder: Any) -> None:
    answer = _answer(embedder, "What is the guest Wi-Fi password?", WIFI + SECURITY)
    assert answer.startswith("Wi-Fi password: guest123 [1]")


@pytest.mark.parametrize(
    ("question", "texts"),
    [
        ("How is overtime compensated?", LEAVE),
        ("How much notice must an employee give when resigning?", CONTRACT + LEAVE),
    ],
)
def test_the_closest_sentence_of_the_wrong_topic_is_no_answer(
    embedder: Any, question: str, texts: list[str]
) -> None:
    assert _answer(embedder, question, texts) == NOT_FOUND
