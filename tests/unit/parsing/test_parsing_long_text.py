"""Over-long text cut into bounded pieces: nothing lost, order kept, sentences preferred."""

from __future__ import annotations

import random
import time

import pytest

from ingest.parsing.long_text import split_long_text

pytestmark = pytest.mark.unit


def test_text_within_the_bound_is_one_piece() -> None:
    assert split_long_text("Short text.", 100) == ["Short text."]
    assert split_long_text("", 100) == [""]


def test_pieces_end_after_sentences_when_one_fits() -> None:
    text = "The first sentence is here. The second one follows it. A third ends it."
    pieces = split_long_text(text, 60)
    assert pieces == [
        "The first sentence is here. The second one follows it. ",
        "A third ends it.",
    ]


def test_the_last_sentence_end_that_fits_wins_over_an_earlier_one() -> None:
    text = "One. Two. Three. Four " + "five " * 20
    pieces = split_long_text(text, 30)
    assert pieces[0] == "One. Two. Three. "


def test_a_sentence_longer_than_the_bound_is_cut_after_whitespace() -> None:
    text = "word " * 50
    pieces = split_long_text(text, 42)
    assert all(len(piece) <= 42 for piece in pieces)
    assert all(piece.endswith(" ") for piece in pieces)  # never inside a word
    assert "".join(pieces) == text


def test_a_run_without_whitespace_is_cut_at_the_bound() -> None:
    text = "x" * 25
    assert split_long_text(text, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_cjk_full_stops_are_sentence_ends() -> None:
    text = "这是第一句。这是第二句。这是第三句。"
    assert split_long_text(text, 13) == ["这是第一句。这是第二句。", "这是第三句。"]


def test_an_abbreviation_before_a_lower_case_word_is_no_sentence_end() -> None:
    text = "See e.g. the appendix for more detail on this point"
    pieces = split_long_text(text, 30)
    assert not pieces[0].endswith("e.g. ")


@pytest.mark.parametrize("seed", range(20))
def test_random_text_comes_back_whole_in_bounded_pieces(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["word", "Word", ".", "!", "?", " ", "  ", "\n", "\n\n", "x" * 30, "\u3002", '"']
    text = "".join(rng.choice(alphabet) for _ in range(3000))
    bound = rng.randint(1, 200)
    pieces = split_long_text(text, bound)
    assert "".join(pieces) == text
    assert all(0 < len(piece) <= bound for piece in pieces)


def test_a_megabyte_on_one_line_is_cut_in_linear_time() -> None:
    text = "word " * 200_000
    started = time.perf_counter()
    pieces = split_long_text(text, 5_000)
    elapsed = time.perf_counter() - started
    assert "".join(pieces) == text
    assert len(pieces) == 200
    assert elapsed < 5.0  # a regression guard against quadratic rescans, not a benchmark


def test_the_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        split_long_text("text", 0)
