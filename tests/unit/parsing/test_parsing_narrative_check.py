"""unstructured's text-type checks run spaCy only on text that could be a title.

spaCy itself is replaced by recorders here: the point is which texts reach it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.parsing import narrative_check
from ingest.parsing.narrative_check import (
    MAX_CHECKED_CHARS,
    checked_by_spacy,
    rule_exceeds_cap_ratio,
    rule_sentence_count,
)

pytestmark = pytest.mark.unit

LONG_PROSE = "The customer ships the monthly report before noon on every working day. " * 50


@pytest.fixture
def spacy_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts unstructured hands to its spaCy tokenizers, which answer trivially here."""
    from unstructured.partition import text_type

    assert narrative_check.install()
    calls: list[str] = []

    def sentences(text: str) -> list[str]:
        calls.append(text)
        return [text]

    def tokens(text: str) -> list[str]:
        calls.append(text)
        return text.split()

    def tags(text: str) -> list[tuple[str, str]]:
        calls.append(text)
        return [(word, "VB") for word in text.split()]

    monkeypatch.setattr(text_type, "sent_tokenize", sentences)
    monkeypatch.setattr(text_type, "word_tokenize", tokens)
    monkeypatch.setattr(text_type, "pos_tag", tags)
    yield calls


def test_long_prose_is_classified_without_spacy(spacy_calls: list[str]) -> None:
    from unstructured.partition.text import element_from_text
    from unstructured.partition.text_type import is_possible_narrative_text

    assert is_possible_narrative_text(LONG_PROSE)
    assert type(element_from_text(LONG_PROSE.strip())).__name__ == "NarrativeText"
    assert spacy_calls == []


def test_a_megabyte_without_spaces_is_not_handed_to_spacy(spacy_calls: list[str]) -> None:
    from unstructured.partition.text import element_from_text

    element_from_text("QUJD" * 250_000)
    assert spacy_calls == []


def test_text_that_could_be_a_title_is_still_checked_by_unstructured(
    spacy_calls: list[str],
) -> None:
    from unstructured.partition.text_type import is_possible_narrative_text, is_possible_title

    is_possible_narrative_text("Late payment fees")
    is_possible_title("Late payment fees")
    assert spacy_calls and set(spacy_calls) == {"Late payment fees"}


def test_install_is_idempotent() -> None:
    from unstructured.partition import text_type

    assert narrative_check.install()
    guarded = text_type.sentence_count
    assert narrative_check.install()
    assert text_type.sentence_count is guarded


def test_the_title_word_limit_is_unstructureds_own(monkeypatch: pytest.MonkeyPatch) -> None:
    twelve_words = " ".join(["word"] * 12)
    assert checked_by_spacy(twelve_words)
    assert not checked_by_spacy(twelve_words + " more")
    monkeypatch.setenv("UNSTRUCTURED_TITLE_MAX_WORD_LENGTH", "20")
    assert checked_by_spacy(twelve_words + " more")


def test_a_long_run_without_spaces_is_not_checked_by_spacy() -> None:
    assert checked_by_spacy("x" * MAX_CHECKED_CHARS)
    assert not checked_by_spacy("x" * (MAX_CHECKED_CHARS + 1))


def test_sentences_are_counted_by_rule_with_a_minimum_length() -> None:
    text = "Yes. The first real sentence is here. Another sentence follows it now."
    assert rule_sentence_count(text) == 3
    assert rule_sentence_count(text, 3) == 2
    assert rule_sentence_count("one run of words with no end at all") == 1


def test_capitalisation_is_measured_on_single_sentences_only() -> None:
    assert rule_exceeds_cap_ratio("ANNUAL REPORT OF THE BOARD OF DIRECTORS FOR THE YEAR 2024 AND")
    assert rule_exceeds_cap_ratio("Annual Report Of The Board Of Directors For The Year And More")
    assert not rule_exceeds_cap_ratio("The board met in May and approved the annual budget for all")
    assert not rule_exceeds_cap_ratio("THE BOARD MET IN MAY TODAY. IT APPROVED THE BUDGET FOR ALL.")
