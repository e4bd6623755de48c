import pytest

from answer.text import (
    answer_units,
    content_words,
    is_labelled_value,
    list_family,
    numbers,
    split_sentences,
    table_rows,
)

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


TERMINATION = (
    "3.1 This Agreement runs for an initial term of 24 months.\n\n"
    "3.2 Either party may terminate this Agreement:\n\n"
    "(a) for convenience, with 60 days' written notice;\n\n"
    "(b) immediately, on a material breach not cured within 30 days.\n\n"
    "4.1 Each party shall keep the other party's information secret."
)


def test_a_clause_lead_in_is_one_unit_with_its_items() -> None:
    """Issue 15: "3.2 Either party may terminate this Agreement:" was quoted without (a), (b)."""
    assert answer_units(TERMINATION) == [
        ("3.1 This Agreement runs for an initial term of 24 months.",),
        (
            "3.2 Either party may terminate this Agreement:",
            "(a) for convenience, with 60 days' written notice;",
            "(b) immediately, on a material breach not cured within 30 days.",
        ),
        ("4.1 Each party shall keep the other party's information secret.",),
    ]


def test_a_clause_without_a_colon_keeps_the_items_that_follow_it() -> None:
    text = "5.2 The Provider may suspend the services\n\n(a) for late payment;\n\n(b) for misuse."
    assert answer_units(text) == [
        ("5.2 The Provider may suspend the services", "(a) for late payment;", "(b) for misuse.")
    ]


def test_a_numbered_list_ends_where_the_numbering_changes_depth() -> None:
    text = "The parties agree:\n\n1. First thing.\n2. Second thing.\n\n4.1 Other clause."
    assert answer_units(text) == [
        ("The parties agree:", "1. First thing.", "2. Second thing."),
        ("4.1 Other clause.",),
    ]


def test_bulleted_and_parsed_lists_stay_with_their_lead_in() -> None:
    bullets = "Approvers:\n\n- the line manager\n- Human Resources\n\nOther text here."
    assert answer_units(bullets) == [
        ("Approvers:", "- the line manager - Human Resources"),
        ("Other text here.",),
    ]
    # The parser drops a list's bullets and puts one item per line: the rest of the block.
    parsed = "Before you leave:\n\nSwitch off the projector.\nWipe the whiteboard.\n\nThanks."
    assert answer_units(parsed) == [
        ("Before you leave:", "Switch off the projector.", "Wipe the whiteboard."),
        ("Thanks.",),
    ]
    inline = "Steps:\nSwitch off the projector.\nWipe the whiteboard.\n\nThanks."
    assert answer_units(inline) == [
        ("Steps: Switch off the projector.", "Wipe the whiteboard."),
        ("Thanks.",),
    ]


def test_sentences_and_numbered_clauses_are_no_list() -> None:
    text = (
        "Intro text here.\n\n1. Services\n\n1.1 Provider shall deliver.\n\n1.2 Provider shall host."
    )
    assert answer_units(text) == [
        ("Intro text here.",),
        ("1. Services",),
        ("1.1 Provider shall deliver.",),
        ("1.2 Provider shall host.",),
    ]
    assert answer_units("1. Scope:\n\n2. Fees are due monthly.\n\n3. Law is Swiss.") == [
        ("1. Scope:",),
        ("2. Fees are due monthly.",),
        ("3. Law is Swiss.",),
    ]
    assert answer_units("(b) an item whose lead-in is elsewhere.\n\n(c) and another.") == [
        ("(b) an item whose lead-in is elsewhere.",),
        ("(c) and another.",),
    ]


def test_a_lead_in_whose_list_is_in_the_next_chunk_is_left_out() -> None:
    assert answer_units("Leave is granted for:") == []
    assert answer_units("Vacation is 25 days.\n\nLeave is also granted for:") == [
        ("Vacation is 25 days.",)
    ]


def test_table_rows_are_units_of_their_own() -> None:
    assert answer_units("Contact | Email\nIT desk | it@example.org") == [
        ("Contact: IT desk; Email: it@example.org",)
    ]


def test_list_families_follow_the_clause_grammar() -> None:
    assert list_family("(a) for convenience") == list_family("b) immediately") == "item"
    assert list_family("1. First") == "number:1"
    assert list_family("4.1 Each party") == "number:2"
    assert list_family("- a bullet") == "bullet:-"
    assert list_family("\u2022 a bullet") == "bullet:\u2022"
    assert list_family("Section 4 Fees") is None
    assert list_family("Plain text") is None


def test_a_labelled_value_is_a_short_fact() -> None:
    assert is_labelled_value("Wi-Fi password: guest123")
    assert is_labelled_value("Network: Northwind-Guest")
    assert not is_labelled_value("Either party may terminate this Agreement:")
    assert not is_labelled_value("Meeting at 10:00 sharp")
    assert not is_labelled_value("One two three four five six words: value")
