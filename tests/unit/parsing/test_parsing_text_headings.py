"""Plain-text headings settled by numbering: titles with levels, lists left as lists."""

from __future__ import annotations

import pytest

from ingest.parsing.text_headings import mark_text_headings
from kernel.documents import Element

pytestmark = pytest.mark.unit


def settled(*items: tuple[str, str]) -> list[tuple[str, int | None, str, dict[str, str]]]:
    """Kinds as unstructured guessed them in, (kind, level, text, metadata) out."""
    elements = [Element(kind, text) for kind, text in items]  # type: ignore[arg-type]
    return [(e.kind, e.level, e.text, dict(e.metadata)) for e in mark_text_headings(elements)]


def test_numbered_headings_of_a_contract_become_titles_with_levels() -> None:
    assert settled(
        ("title", "MASTER SERVICES AGREEMENT"),
        ("list_item", "1. Definitions"),
        ("text", '1.1 "Services" means the analytics services described in the Order Form.'),
        ("list_item", "2. Fees and Payment"),
        ("title", "2.1 Invoicing"),
        ("text", "2.1.1 Provider shall invoice monthly in arrears."),
        ("text", "2.2 Invoices are due within 30 days of the invoice date."),
        ("list_item", "3. Term and Termination"),
        ("text", "3.1 This Agreement continues for an initial term of 12 months."),
    ) == [
        ("title", None, "MASTER SERVICES AGREEMENT", {}),
        ("title", 1, "1. Definitions", {"numbering": "1"}),
        (
            "text",
            None,
            '1.1 "Services" means the analytics services described in the Order Form.',
            {},
        ),
        ("title", 1, "2. Fees and Payment", {"numbering": "2"}),
        ("title", 2, "2.1 Invoicing", {"numbering": "2.1"}),
        ("text", None, "2.1.1 Provider shall invoice monthly in arrears.", {}),
        ("text", None, "2.2 Invoices are due within 30 days of the invoice date.", {}),
        ("title", 1, "3. Term and Termination", {"numbering": "3"}),
        ("text", None, "3.1 This Agreement continues for an initial term of 12 months.", {}),
    ]


def test_articles_contain_sections_and_stray_titles_become_clause_text() -> None:
    assert settled(
        ("title", "ARTICLE I - LICENSE GRANT"),
        ("title", "Section 1 Grant"),
        ("text", "Licensor grants Licensee a non-exclusive license."),
        ("title", "Section 1.1 Restrictions"),
        ("title", "Licensee shall not:"),
        ("text", "(a) reverse engineer the Licensed Software; or"),
        ("title", "(b) sublicense it;"),
        ("title", "ARTICLE II - FEES"),
        ("text", "Section 2 Licensee shall pay the license fee within 30 days."),
        ("title", "Section 2.1 Late Payment"),
        ("text", "Overdue amounts bear interest at 1% per month."),
    ) == [
        ("title", 1, "ARTICLE I - LICENSE GRANT", {"numbering": "ARTICLE I"}),
        ("title", 2, "Section 1 Grant", {"numbering": "Section 1"}),
        ("text", None, "Licensor grants Licensee a non-exclusive license.", {}),
        ("title", 3, "Section 1.1 Restrictions", {"numbering": "Section 1.1"}),
        ("text", None, "Licensee shall not:", {}),  # a lead-in, not a heading
        ("text", None, "(a) reverse engineer the Licensed Software; or", {}),
        ("list_item", None, "(b) sublicense it;", {}),
        ("title", 1, "ARTICLE II - FEES", {"numbering": "ARTICLE II"}),
        ("text", None, "Section 2 Licensee shall pay the license fee within 30 days.", {}),
        # "Section 2" is a clause, not a heading: 2.1 sits right under the Article
        ("title", 2, "Section 2.1 Late Payment", {"numbering": "Section 2.1"}),
        ("text", None, "Overdue amounts bear interest at 1% per month.", {}),
    ]


def test_contents_and_steps_stay_lists_and_the_first_heading_after_them_is_found() -> None:
    assert settled(
        ("title", "CONTENTS"),
        ("list_item", "1. Definitions"),
        ("list_item", "2. Fees and Payment"),
        ("list_item", "3. Term"),
        ("list_item", "1. Definitions"),
        ("text", '1.1 "Services" means the analytics services.'),
        ("text", "To install the router:"),
        ("list_item", "1) Unpack"),
        ("list_item", "2) Connect Cables"),
        ("list_item", "3) Restart"),
        ("text", "The light turns green when it is ready."),
    ) == [
        ("title", None, "CONTENTS", {}),
        ("list_item", None, "1. Definitions", {}),
        ("list_item", None, "2. Fees and Payment", {}),
        ("list_item", None, "3. Term", {}),
        ("title", 1, "1. Definitions", {"numbering": "1"}),
        ("text", None, '1.1 "Services" means the analytics services.', {}),
        ("text", None, "To install the router:", {}),
        ("list_item", None, "1) Unpack", {}),
        ("list_item", None, "2) Connect Cables", {}),
        ("list_item", None, "3) Restart", {}),
        ("text", None, "The light turns green when it is ready.", {}),
    ]


def test_elements_without_numbering_pass_through() -> None:
    elements = [
        Element("title", "Quick Start Guide"),
        Element("text", "Unpack the router and connect the power adapter."),
        Element("table", "a | b", rows=(("a", "b"),)),
    ]
    assert mark_text_headings(elements) == elements


def test_a_novels_chapters_sit_under_their_book_and_its_contents_stay_a_list() -> None:
    body = "It was in July, 1805, and the speaker was Anna Pavlovna Scherer."
    assert settled(
        ("title", "CONTENTS"),
        ("list_item", "BOOK ONE: 1805"),
        ("title", "CHAPTER I"),
        ("title", "CHAPTER II"),
        ("title", "BOOK TWO: 1805"),
        ("title", "CHAPTER I"),
        ("title", "BOOK ONE: 1805"),
        ("title", "CHAPTER I"),
        ("text", body),
        ("title", "CHAPTER II"),
        ("text", body),
        ("title", "BOOK TWO: 1805"),
        ("title", "CHAPTER I"),
        ("text", body),
    ) == [
        ("title", None, "CONTENTS", {}),
        ("list_item", None, "BOOK ONE: 1805", {}),
        ("list_item", None, "CHAPTER I", {}),
        ("list_item", None, "CHAPTER II", {}),
        ("list_item", None, "BOOK TWO: 1805", {}),
        ("list_item", None, "CHAPTER I", {}),
        ("title", 1, "BOOK ONE: 1805", {"numbering": "BOOK ONE"}),
        ("title", 2, "CHAPTER I", {"numbering": "CHAPTER I"}),
        ("text", None, body, {}),
        ("title", 2, "CHAPTER II", {"numbering": "CHAPTER II"}),
        ("text", None, body, {}),
        ("title", 1, "BOOK TWO: 1805", {"numbering": "BOOK TWO"}),
        ("title", 2, "CHAPTER I", {"numbering": "CHAPTER I"}),
        ("text", None, body, {}),
    ]


def test_the_division_named_first_contains_the_other() -> None:
    body = "Until 1878, Alexey Fyodorovich Karamazov was the third son."
    assert [
        (level, text)
        for _, level, text, _ in settled(
            ("title", "PART I"),
            ("title", "Book I. The History of a Family"),
            ("title", "Chapter I. Fyodor Pavlovitch Karamazov"),
            ("text", body),
            ("title", "Book II. An Unfortunate Gathering"),
            ("title", "Chapter I. They Arrive at the Monastery"),
            ("text", body),
            ("title", "PART II"),
            ("title", "Book IV. Lacerations"),
            ("text", body),
        )
    ] == [
        (1, "PART I"),
        (2, "Book I. The History of a Family"),
        (3, "Chapter I. Fyodor Pavlovitch Karamazov"),
        (None, body),
        (2, "Book II. An Unfortunate Gathering"),
        (3, "Chapter I. They Arrive at the Monastery"),
        (None, body),
        (1, "PART II"),
        (2, "Book IV. Lacerations"),
        (None, body),
    ]


def test_a_part_of_a_statute_contains_its_articles_and_sections() -> None:
    assert [
        (level, text)
        for _, level, text, _ in settled(
            ("title", "PART 1 - GENERAL PROVISIONS"),
            ("title", "Article 1 Scope"),
            ("text", "This Regulation applies to processing of personal data."),
            ("title", "Section 1.1 Definitions"),
            ("text", "Terms have the meanings given below."),
            ("title", "PART 2 - REMEDIES"),
            ("title", "Article 2 Complaints"),
            ("text", "Every data subject may lodge a complaint."),
        )
    ] == [
        (1, "PART 1 - GENERAL PROVISIONS"),
        (2, "Article 1 Scope"),
        (None, "This Regulation applies to processing of personal data."),
        (3, "Section 1.1 Definitions"),
        (None, "Terms have the meanings given below."),
        (1, "PART 2 - REMEDIES"),
        (2, "Article 2 Complaints"),
        (None, "Every data subject may lodge a complaint."),
    ]
