"""Plain-text paragraphs: clause lines kept apart, wrapped lines joined, references left alone."""

from __future__ import annotations

import re

import pytest

from ingest.parsing.line_markers import is_heading_line, read_line_marker
from ingest.parsing.text_layout import group_paragraphs

pytestmark = pytest.mark.unit

SERVICES_AGREEMENT = """MASTER SERVICES AGREEMENT

This Master Services Agreement (the "Agreement") is entered into between Northwind
Analytics Ltd. (hereinafter "Provider") and the customer named in the Order Form
(hereinafter "Customer").

2. Fees and Payment
2.1 Customer shall pay the fees set out in the Order Form.
2.2 Invoices are due within 30 days of the invoice date. Late payments bear interest at
1.5% per month.

3. Term and Termination
3.1 This Agreement starts on the Effective Date and continues for an initial term of
12 months, renewing automatically for successive 12-month periods.
3.2 Either party may terminate this Agreement:
(a) for convenience, with 90 days' written notice before the end of the current term; and
(b) for material breach, if the breach is not cured within 30 days of written notice.
"""

LICENSE_AGREEMENT = """SOFTWARE LICENSE AGREEMENT

ARTICLE 2 - LICENSE GRANT
Section 2.1 Grant. Licensor grants Licensee a non-exclusive, non-transferable license to:
(a) install the Licensed Software on up to 50 workstations; and
(b) make one copy of the Licensed Software for backup purposes.
Section 2.2 Restrictions
Licensee shall not:
(a) reverse engineer, decompile or disassemble the Licensed Software; or
(b) sublicense, rent or lease the Licensed Software to any third party.

ARTICLE 3 - FEES
Section 3.1 Licensee shall pay the license fee set out in Exhibit B within 30 days of
delivery, as provided in Section
3.2 Late Payment below.
Section 3.2 Late Payment
Overdue amounts bear interest at 1% per month.
"""


def paragraphs(text: str) -> list[str]:
    """The paragraphs ``partition_text`` makes of the grouped text: one per line."""
    return re.split(r"\s*\n\s*", group_paragraphs(text).strip())


def test_each_clause_line_is_a_paragraph_and_wrapped_lines_are_joined() -> None:
    assert paragraphs(SERVICES_AGREEMENT) == [
        "MASTER SERVICES AGREEMENT",
        'This Master Services Agreement (the "Agreement") is entered into between Northwind '
        'Analytics Ltd. (hereinafter "Provider") and the customer named in the Order Form '
        '(hereinafter "Customer").',
        "2. Fees and Payment",
        "2.1 Customer shall pay the fees set out in the Order Form.",
        "2.2 Invoices are due within 30 days of the invoice date. Late payments bear interest "
        "at 1.5% per month.",
        "3. Term and Termination",
        "3.1 This Agreement starts on the Effective Date and continues for an initial term of "
        "12 months, renewing automatically for successive 12-month periods.",
        "3.2 Either party may terminate this Agreement:",
        "(a) for convenience, with 90 days' written notice before the end of the current term; and",
        "(b) for material breach, if the breach is not cured within 30 days of written notice.",
    ]


def test_articles_sections_and_items_each_open_a_paragraph_but_a_wrapped_reference_does_not() -> (
    None
):
    assert paragraphs(LICENSE_AGREEMENT) == [
        "SOFTWARE LICENSE AGREEMENT",
        "ARTICLE 2 - LICENSE GRANT",
        "Section 2.1 Grant. Licensor grants Licensee a non-exclusive, non-transferable license to:",
        "(a) install the Licensed Software on up to 50 workstations; and",
        "(b) make one copy of the Licensed Software for backup purposes.",
        "Section 2.2 Restrictions",
        "Licensee shall not:",
        "(a) reverse engineer, decompile or disassemble the Licensed Software; or",
        "(b) sublicense, rent or lease the Licensed Software to any third party.",
        "ARTICLE 3 - FEES",
        # "Section" / "3.2 Late Payment" is the wrap of a reference, not clause 3.2
        "Section 3.1 Licensee shall pay the license fee set out in Exhibit B within 30 days of "
        "delivery, as provided in Section 3.2 Late Payment below.",
        # a heading line ends its paragraph: the body line after it is not its wrap
        "Section 3.2 Late Payment",
        "Overdue amounts bear interest at 1% per month.",
    ]


def test_a_contract_without_blank_lines_keeps_its_clauses_and_joins_its_wraps() -> None:
    # Under a tenth of the lines blank: unstructured would make every line a paragraph.
    text = (
        "MASTER SERVICES AGREEMENT\n"
        "2. Fees and Payment\n"
        "2.1 Customer shall pay the fees set out in the Order Form.\n"
        "2.2 Invoices are due within 30 days of the invoice date. Late payments bear interest at\n"
        "1.5% per month.\n"
        "2.3 Provider may suspend the Services if an invoice remains unpaid 15 days after written\n"
        "notice of non-payment.\n"
        "3. Term and Termination\n"
        "3.1 This Agreement starts on the Effective Date and continues for an initial term of\n"
        "12 months, renewing automatically for successive 12-month periods.\n"
        "3.2 Either party may terminate this Agreement on 90 days' written notice."
    )
    assert paragraphs(text) == [
        "MASTER SERVICES AGREEMENT",
        "2. Fees and Payment",
        "2.1 Customer shall pay the fees set out in the Order Form.",
        "2.2 Invoices are due within 30 days of the invoice date. Late payments bear interest "
        "at 1.5% per month.",
        "2.3 Provider may suspend the Services if an invoice remains unpaid 15 days after "
        "written notice of non-payment.",
        "3. Term and Termination",
        "3.1 This Agreement starts on the Effective Date and continues for an initial term of "
        "12 months, renewing automatically for successive 12-month periods.",
        "3.2 Either party may terminate this Agreement on 90 days' written notice.",
    ]


def test_short_lines_without_blank_lines_stay_apart() -> None:
    # A list or an address: lines that do not reach a wrap width are not wraps.
    text = "Notices\nNorthwind Analytics Ltd.\n12 High Street\nlondon EC1A 1BB\nUnited Kingdom"
    assert paragraphs(text) == [
        "Notices",
        "Northwind Analytics Ltd.",
        "12 High Street",
        "london EC1A 1BB",
        "United Kingdom",
    ]


def test_prose_without_markers_is_grouped_as_unstructured_groups_it() -> None:
    text = (
        "The parties met in London to agree the terms of the\n"
        "renewal. Both sides were represented by counsel.\n\n"
        "Apache License\nVersion 2.0, January 2004\n"
    )
    assert paragraphs(text) == [
        "The parties met in London to agree the terms of the renewal. Both sides were "
        "represented by counsel.",
        "Apache License",
        "Version 2.0, January 2004",
    ]


@pytest.mark.parametrize(
    ("line", "family", "number", "parts"),
    [
        ("2. Fees and Payment", "number", "2", ("2",)),
        ("2.1 Customer shall pay", "number", "2.1", ("2", "1")),
        ('1.1 "Services" means', "number", "1.1", ("1", "1")),
        ("4) The Supplier", "number", "4", ("4",)),
        ("Article 3", "article", "3", ("3",)),
        ("ARTICLE IV - CONFIDENTIALITY", "article", "IV", ("IV",)),
        ("Section 4.2 Late Payment", "section", "4.2", ("4", "2")),
        ("\u00a7 5 Liability", "section", "5", ("5",)),
        ("Sec. 6 Notices", "section", "6", ("6",)),
        ("(a) for convenience", "item", "a", ()),
        ("(iv) the storage fee;", "item", "iv", ()),
        ("b) the usage fee", "item", "b", ()),
    ],
)
def test_line_markers_are_read_with_family_and_depth(
    line: str, family: str, number: str, parts: tuple[str, ...]
) -> None:
    marker = read_line_marker(line)
    assert marker is not None
    assert (marker.family, marker.number, marker.parts) == (family, number, parts)


@pytest.mark.parametrize(
    "line",
    ["12 months, renewing", "2.5 hours of support", "1.5% per month.", "etc) and more", "2024"],
)
def test_wrapped_numbers_are_no_markers(line: str) -> None:
    assert read_line_marker(line) is None


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("2. Fees and Payment", True),
        ("ARTICLE 1 - DEFINITIONS", True),
        ("Section 4.2 Late Payment", True),
        ("Article 3", True),
        ("12. Governing law", True),  # short: sentence case allowed
        ("2.1 Customer shall pay the fees set out in the Order Form.", False),
        ("3.2 Either party may terminate this Agreement:", False),
        ("2.1 Fees and Payment Terms for the", False),  # the first line of a wrapped clause
        ("2.1 The Customer shall pay fees monthly", False),
        ("(a) Definitions", False),  # an item never heads anything
    ],
)
def test_heading_lines(line: str, heading: bool) -> None:
    marker = read_line_marker(line)
    assert marker is not None
    assert is_heading_line(line, marker) is heading
