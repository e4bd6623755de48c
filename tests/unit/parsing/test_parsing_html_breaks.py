"""Line breaks before clause numbers in converted HTML (RTF through pandoc) made paragraphs."""

from __future__ import annotations

import pytest

from ingest.parsing.html_breaks import split_clause_breaks

pytestmark = pytest.mark.unit


def test_a_paragraph_is_cut_where_a_break_precedes_a_clause_number() -> None:
    # What pandoc makes of an RTF paragraph with manual line breaks (\line).
    markup = (
        "<p>MASTER SERVICES AGREEMENT</p>\n"
        "<p>2. Fees and Payment<br />\n"
        "2.1 Customer shall pay the fees set out in the Order Form.<br />\n"
        "2.2 Invoices are due within 30 days of the invoice date. Late payments\n"
        "bear interest at 1.5% per month.</p>"
    )
    assert split_clause_breaks(markup) == (
        "<div><p>MASTER SERVICES AGREEMENT</p>\n"
        "<p>2. Fees and Payment</p>\n"
        "<p>2.1 Customer shall pay the fees set out in the Order Form.</p>\n"
        "<p>2.2 Invoices are due within 30 days of the invoice date. Late payments\n"
        "bear interest at 1.5% per month.</p></div>"
    )


def test_formatting_moves_with_its_line_and_other_breaks_stay() -> None:
    markup = (
        '<p class="x"><strong>Section 4.2</strong> Notices. Notices go to:<br />\n'
        "Northwind Analytics Ltd.<br />\n12 High Street<br />\n"
        "(a) by hand; or<br />\n(b) by courier, as provided under<br />\n"
        "4.3 Electronic Notices.</p>"
    )
    assert split_clause_breaks(markup) == (
        '<div><p class="x"><strong>Section 4.2</strong> Notices. Notices go to:<br>\n'
        "Northwind Analytics Ltd.<br>\n12 High Street</p>\n"
        '<p class="x">(a) by hand; or</p>\n'
        # "under" / "4.3 Electronic Notices" is a reference that wrapped, not clause 4.3
        '<p class="x">(b) by courier, as provided under<br>\n4.3 Electronic Notices.</p></div>'
    )


def test_markup_without_clause_breaks_is_unchanged_but_for_the_wrapper() -> None:
    markup = "<h1>My First Heading</h1>\n<p>My first paragraph.</p>"
    assert split_clause_breaks(markup) == f"<div>{markup}</div>"
