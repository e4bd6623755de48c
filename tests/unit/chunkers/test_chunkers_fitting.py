"""The last-resort splitter and the sentence splitter it relies on."""

from __future__ import annotations

import pytest
from chunk_checks import words
from chunker_doubles import (
    CharacterTokenCounterDouble,
    JoinCostingTokenCounterDouble,
    WhitespaceTokenCounterDouble,
)
from chunker_samples import every_sample

from chunkers.fitting import CODE_LEVELS, fit
from text.sentences import split_sentences

pytestmark = pytest.mark.unit


def test_sentence_pieces_of_every_sample_give_the_text_back_unchanged() -> None:
    for doc in every_sample().values():
        for element in doc.elements:
            assert "".join(split_sentences(element.text)) == element.text


def test_pieces_fit_the_limit_keep_order_and_are_even() -> None:
    text = " ".join(f"w{i}" for i in range(100))  # no sentence, no line: words only
    tokens = WhitespaceTokenCounterDouble(40)
    pieces = fit(text, tokens, limit=40, target=28)
    assert [p.tokens for p in pieces] == [25, 25, 25, 25]
    assert " ".join(p.text for p in pieces) == text
    assert [p.joint for p in pieces] == ["", " ", " ", " "]


def test_text_within_the_limit_is_one_stripped_piece() -> None:
    (piece,) = fit("  two words \n", WhitespaceTokenCounterDouble(40), limit=40)
    assert (piece.text, piece.tokens) == ("two words", 2)
    assert fit(" \n ", WhitespaceTokenCounterDouble(40), limit=40) == []


def test_paragraphs_are_preferred_to_sentences_and_sentences_to_words() -> None:
    first = "Alpha beta gamma. Delta epsilon zeta."  # 6 words
    second = "Eta theta iota kappa lambda mu nu xi omicron pi."  # 10 words
    pieces = fit(f"{first}\n\n{second}", WhitespaceTokenCounterDouble(12), limit=12, target=12)
    assert [(p.text, p.joint) for p in pieces] == [(first, ""), (second, "\n\n")]


def test_a_word_longer_than_the_limit_is_cut_by_characters() -> None:
    blob = "ab" * 700
    tokens = CharacterTokenCounterDouble(100)
    pieces = fit(f"start {blob} end", tokens, limit=100, target=70)
    assert all(tokens.count(p.text) <= 100 for p in pieces)
    assert "".join(p.text for p in pieces).replace(" ", "") == f"start{blob}end"


def test_optimistic_sums_are_caught_by_counting_each_piece() -> None:
    text = "\n".join(f"line {i} of the log" for i in range(60))  # joins cost a token each
    tokens = JoinCostingTokenCounterDouble(30)
    pieces = fit(text, tokens, limit=30, target=21)
    assert all(tokens.count(p.text) <= 30 for p in pieces)
    assert words(" ".join(p.text for p in pieces)) == words(text)


def test_code_keeps_its_indentation_and_cuts_between_blocks() -> None:
    block = "def f(x):\n    y = x + 1\n    return y"
    code = "\n\n".join([block] * 4)  # 36 words
    pieces = fit(
        code,
        WhitespaceTokenCounterDouble(20),
        limit=20,
        target=14,
        levels=CODE_LEVELS,
        keep_indent=True,
    )
    assert [p.text for p in pieces] == [block] * 4
    (indented,) = fit(
        "    return y\n", WhitespaceTokenCounterDouble(20), limit=20, keep_indent=True
    )
    assert indented.text == "    return y"


def test_a_character_over_the_limit_is_refused() -> None:
    class HugeTokenCounterDouble:
        max_tokens = 10

        def count(self, text: str) -> int:
            return 100 * len(text)

    with pytest.raises(ValueError, match="one character"):
        fit("abc", HugeTokenCounterDouble(), limit=10)
