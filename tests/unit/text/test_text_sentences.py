"""What a sentence is: one boundary rule for chunk windows, long-text cuts and answers."""

from __future__ import annotations

import random

import pytest

from text.sentences import sentence_ends, split_sentences

pytestmark = pytest.mark.unit


def sentences(text: str) -> list[str]:
    return [piece.strip() for piece in split_sentences(text)]


def test_sentence_boundaries_skip_abbreviations_initials_and_decimals() -> None:
    text = (
        "Dr. Okafor met J. R. Smith at 5 p.m. on Jan. 3 to discuss the U.S. contract. "
        "The fee is $3.50, e.g. for small sites. Is it final? Yes!\n\nNew paragraph here"
    )
    assert sentences(text) == [
        "Dr. Okafor met J. R. Smith at 5 p.m. on Jan. 3 to discuss the U.S. contract.",
        "The fee is $3.50, e.g. for small sites.",
        "Is it final?",
        "Yes!",
        "New paragraph here",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Ask Dr. Smith first.",
        "Bring tools, e.g. A hammer.",
        "Use the spare, i.e. The old one.",
        "Acme Inc. Ltd. Sells pumps.",
        "It costs 3.14 euros.",
        "See No. 5 for details.",
        "See Sec. 4 for details.",
        "Rates rose 1.5% in 2024.",
    ],
)
def test_no_boundary_inside_a_sentence(text: str) -> None:
    assert sentences(text) == [text]


def test_a_list_number_opening_its_line_is_no_sentence() -> None:
    text = "Steps:\n1. Open the valve.\n2. Close the tap.\n10. Done."
    assert sentences(text) == ["Steps:\n1. Open the valve.", "2. Close the tap.", "10. Done."]


def test_a_number_ending_a_sentence_is_still_an_end() -> None:
    assert sentences("The total was 3. Then it rose.") == ["The total was 3.", "Then it rose."]


def test_closing_quotes_stay_with_their_sentence() -> None:
    text = 'He said "Stop." Then he left. "Why?" She asked.'
    assert sentences(text) == ['He said "Stop."', "Then he left.", '"Why?"', "She asked."]


def test_a_question_in_quotes_before_a_lower_case_word_goes_on() -> None:
    assert sentences('"Really?" she asked.') == ['"Really?" she asked.']


def test_cjk_full_stops_end_sentences_without_a_space() -> None:
    assert sentences("这是第一句。这是第二句!") == ["这是第一句。", "这是第二句!"]


def test_a_blank_line_always_ends_a_sentence() -> None:
    assert sentences("A title\n\nbody text") == ["A title", "body text"]


def test_ends_are_only_reported_inside_the_window() -> None:
    text = "One. Two. Three."
    assert list(sentence_ends(text)) == [5, 10]
    assert list(sentence_ends(text, 0, 5)) == []  # "Two" starts past the window
    assert list(sentence_ends(text, 0, 6)) == [5]
    assert list(sentence_ends(text, 5)) == [10]


@pytest.mark.parametrize("seed", range(10))
def test_pieces_give_the_text_back_unchanged(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["Word", "word", "Dr.", "e.g.", "1.", "3.14", ".", "?", " ", "\n", "\n\n", '"']
    text = "".join(rng.choice(alphabet) for _ in range(2000))
    assert "".join(split_sentences(text)) == text
