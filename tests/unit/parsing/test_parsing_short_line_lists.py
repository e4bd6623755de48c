"""Runs of short plain-text lines are lists: their titles become list items."""

from __future__ import annotations

import pytest

from ingest.parsing.text_headings import mark_text_headings
from kernel.documents import Element

pytestmark = pytest.mark.unit

BODY = "Invoices may be settled in any of the currencies below, at the treasury rate of the day."


def kinds(*elements: Element) -> list[tuple[str, str]]:
    return [(e.kind, e.text) for e in mark_text_headings(list(elements))]


def test_a_run_of_short_titles_is_a_list() -> None:
    assert kinds(
        Element("title", "Afghan afghani"),
        Element("title", "Albanian lek"),
        Element("text", "Algerian dinar"),
        Element("title", "Angolan kwanza"),
    ) == [
        ("list_item", "Afghan afghani"),
        ("list_item", "Albanian lek"),
        ("text", "Algerian dinar"),
        ("list_item", "Angolan kwanza"),
    ]


def test_a_lead_in_and_body_text_break_the_run() -> None:
    assert kinds(
        Element("title", "Accepted currencies:"),
        Element("title", "Euro"),
        Element("title", "Swiss franc"),
        Element("title", "Pound sterling"),
        Element("text", BODY),
        Element("title", "Refunds"),
        Element("text", BODY),
    ) == [
        ("title", "Accepted currencies:"),
        ("list_item", "Euro"),
        ("list_item", "Swiss franc"),
        ("list_item", "Pound sterling"),
        ("text", BODY),
        ("title", "Refunds"),
        ("text", BODY),
    ]


def test_a_heading_and_a_subheading_over_body_text_stay_headings() -> None:
    assert kinds(
        Element("title", "Billing"),
        Element("page_break", ""),
        Element("title", "Currencies"),
        Element("text", BODY),
    ) == [("title", "Billing"), ("page_break", ""), ("title", "Currencies"), ("text", BODY)]


def test_numbered_lines_are_left_to_the_numbering_rules() -> None:
    settled = kinds(
        Element("title", "Contents"),
        Element("list_item", "1. Definitions"),
        Element("list_item", "2. Fees"),
        Element("list_item", "3. Term"),
    )
    assert settled[0] == ("title", "Contents")
