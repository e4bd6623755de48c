import pytest

from answer.text import content_words, numbers, split_sentences

pytestmark = pytest.mark.unit


def test_split_sentences_keeps_abbreviations_and_numbers_together() -> None:
    text = "Pay within 30 days, e.g. by transfer. Late fees are 1.5% per month.\n\nNew para"
    assert split_sentences(text) == [
        "Pay within 30 days, e.g. by transfer.",
        "Late fees are 1.5% per month.",
        "New para",
    ]


def test_content_words_drop_stopwords_and_fold_plurals() -> None:
    assert content_words("The policies of the company") == ["policy", "company"]


def test_numbers_ignore_thousands_separators() -> None:
    assert numbers("1,500 EUR or 2.5 days") == {"1500", "2.5"}
