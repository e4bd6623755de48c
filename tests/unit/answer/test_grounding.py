import pytest

from answer.grounding import claims, ground, sentence_support

pytestmark = pytest.mark.unit


def test_claims_attach_markers_to_the_text_before_them() -> None:
    answer = "The fee is 10 EUR. [1] Refunds take 5 days. [2][3] Trailing words here."
    assert claims(answer) == [
        ("The fee is 10 EUR.", [1]),
        ("Refunds take 5 days.", [2, 3]),
        ("Trailing words here.", []),
    ]


def test_verbatim_sentence_is_fully_supported() -> None:
    source = "Invoices are due within 30 days of the invoice date."
    assert sentence_support(source, [source]) == 1.0


def test_a_wrong_number_is_unsupported_even_when_the_words_match() -> None:
    support = sentence_support(
        "Invoices are due within 45 days.", ["Invoices are due within 30 days."]
    )
    assert support == 0.0


def test_words_missing_from_the_sources_lower_support() -> None:
    support = sentence_support(
        "Employees receive free lunches and gym memberships.",
        ["Employees receive a laptop and a monitor."],
    )
    assert 0.0 < support < 0.5


def test_ground_scores_against_the_cited_chunk_only() -> None:
    cited = {1: "The X200 has 64 device slots.", 2: "Vacation is 25 days."}
    result = ground("Vacation is 25 days. [1]", cited, min_support=0.5)
    # The sentence is true of chunk 2, but it cites chunk 1: that is not support.
    assert result.score < 0.5
    assert result.unsupported == ("Vacation is 25 days.",)
    ok = ground("Vacation is 25 days. [2]", cited, min_support=0.5)
    assert ok.score == 1.0 and ok.unsupported == ()


def test_ground_averages_over_sentences() -> None:
    cited = {1: "Passwords must be at least 14 characters long."}
    result = ground(
        "Passwords must be at least 14 characters long. [1] Rotate them weekly. [1]",
        cited,
        min_support=0.5,
    )
    assert result.per_sentence[0] == 1.0
    assert result.per_sentence[1] == 0.0
    assert result.score == 0.5
    assert result.unsupported == ("Rotate them weekly.",)


def test_yes_and_no_are_checked_alike() -> None:
    """A bare "No." once counted as empty (support 1.0) while "Yes." scored 0.0."""
    source = ["Contractors are not eligible for the bonus."]
    assert sentence_support("No.", source) == sentence_support("Yes.", source) == 0.0
    assert sentence_support("No.", ["No, contractors are not eligible."]) == 1.0
    assert sentence_support("Yes.", ["Yes, contractors are eligible."]) == 1.0


def test_a_word_glued_to_the_next_sentence_still_counts_as_supported() -> None:
    source = "Steam engines spread in the nineteenth century.First came the railways."
    assert sentence_support("Railways came first in the nineteenth century.", [source]) == 1.0


def test_grounding_and_bm25_agree_on_what_a_term_is() -> None:
    """A plural the source states in the singular is support, as it is a BM25 match."""
    assert sentence_support("Invoices list the fees.", ["Each invoice lists a fee."]) == 1.0
