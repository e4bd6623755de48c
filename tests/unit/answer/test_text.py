import pytest

from answer.text import content_words, numbers, split_sentences, table_rows

pytestmark = pytest.mark.unit


def test_split_sentences_keeps_abbreviations_and_numbers_together() -> None:
    text = "Pay within 30 days, e.g. by transfer. Late fees are 1.5% per month.\n\nNew para"
    assert split_sentences(text) == [
        "Pay within 30 days, e.g. by transfer.",
        "Late fees are 1.5% per month.",
        "New para",
    ]


def test_content_words_are_the_terms_bm25_indexes() -> None:
    assert content_words("The policies of the company") == ["polici", "compani"]
    assert content_words("the policy") == content_words("policies")


def test_numbers_ignore_thousands_separators() -> None:
    assert numbers("1,500 EUR or 2.5 days") == {"1500", "2.5"}


def test_table_rows_are_read_with_their_header() -> None:
    text = "Contact | Email\nIT service desk | it@example.org\nPeople team | people@example.org"
    assert table_rows(text) == [
        "Contact: IT service desk; Email: it@example.org",
        "Contact: People team; Email: people@example.org",
    ]


def test_prose_is_not_a_table() -> None:
    assert table_rows("One line | with a pipe\nand then plain prose\nand more prose") is None
    assert table_rows("A single | line") is None
