"""What a term is: tokens, stopwords and stems, the same for BM25 and grounding."""

from __future__ import annotations

import pytest

from text.terms import STOPWORDS, terms

pytestmark = pytest.mark.unit


def test_lowercases_and_stems() -> None:
    assert terms("Running RUNS Policies connected") == ["run", "run", "polici", "connect"]


def test_a_plural_and_its_singular_are_one_term() -> None:
    assert terms("policies days") == terms("policy day")


def test_drops_english_stopwords() -> None:
    assert terms("What is the policy for the pumps?") == ["polici", "pump"]
    assert terms("the of and is it") == []
    assert {"the", "what", "is", "not"} <= STOPWORDS


def test_yes_and_no_are_both_terms() -> None:
    assert terms("Yes.") == ["yes"]
    assert terms("No.") == ["no"]
    assert {"yes", "no"}.isdisjoint(STOPWORDS)


def test_unicode_words_are_normalised() -> None:
    # NFKC folds the ligature and full-width forms; casefold turns ß into ss.
    assert terms("Café ﬁle ＡＢＣ１２３ Straße") == ["café", "file", "abc123", "strass"]


def test_identifiers_and_numbers_stay_whole_and_split() -> None:
    assert terms("X-200 v2.1 foo_bar.py 1,000 10:30") == [
        *("x-200", "x", "200"),
        *("v2.1", "v2", "1"),
        *("foo_bar.py", "foo", "bar", "py"),
        *("1,000", "1", "000"),
        *("10:30", "10", "30"),
    ]


def test_sentence_punctuation_does_not_make_compounds() -> None:
    assert terms("pumps. Valves, filters; a,b") == ["pump", "valv", "filter", "b"]


def test_terms_with_digits_are_not_stemmed() -> None:
    assert terms("2024s v2s models") == ["2024s", "v2s", "model"]


def test_overlong_runs_are_dropped() -> None:
    assert terms(f"pump {'a' * 65} valve") == ["pump", "valv"]


@pytest.mark.parametrize(
    ("glued", "spaced"),
    [
        ("the century.First came", "the century. First came"),
        ("late in 1999.Then it", "late in 1999. Then it"),
        ('He said "maybe".Then left', 'He said "maybe". Then left'),
    ],
)
def test_a_sentence_glued_to_the_next_gives_the_same_terms_as_with_a_space(
    glued: str, spaced: str
) -> None:
    assert terms(glued) == terms(spaced)


def test_a_glued_word_is_found_on_its_own() -> None:
    assert "first" in terms("the nineteenth century.First")
    assert "centuri" in terms("the nineteenth century.First")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.14", ["3.14", "3", "14"]),
        ("version 2.0.1", ["version", "2.0.1", "2", "0", "1"]),
        ("e.g.", ["e.g", "e", "g"]),
        ("U.S. law", ["u.s", "u", "law"]),
        ("U.S.Army", ["u.s.army", "u", "armi"]),
        ("example.com", ["example.com", "exampl", "com"]),
        ("mail it@example.org", ["mail", "example.org", "exampl", "org"]),
        ("Node.js", ["node.js", "node", "js"]),
    ],
)
def test_decimals_abbreviations_and_domains_stay_whole(text: str, expected: list[str]) -> None:
    assert terms(text) == expected
