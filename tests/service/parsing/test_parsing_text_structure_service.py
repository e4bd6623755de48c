"""Real unstructured, in the real child process: a contract's line structure survives parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.parsing import IsolatedParser
from kernel.documents import ParsedDocument

pytestmark = pytest.mark.service

SERVICES_AGREEMENT = """MASTER SERVICES AGREEMENT

This Master Services Agreement (the "Agreement") is entered into between Northwind
Analytics Ltd. (hereinafter "Provider") and the customer named in the Order Form
(hereinafter "Customer").

1. Definitions
1.1 "Services" means the analytics services described in the Order Form.

2. Fees and Payment
2.1 Customer shall pay the fees set out in the Order Form.
2.2 Invoices are due within 30 days of the invoice date. Late payments bear interest at
1.5% per month.
2.3 Provider may suspend the Services if an invoice remains unpaid 15 days after written
notice of non-payment.

3. Term and Termination
3.1 This Agreement starts on the Effective Date and continues for an initial term of
12 months, renewing automatically for successive 12-month periods.
3.2 Either party may terminate this Agreement:
(a) for convenience, with 90 days' written notice before the end of the current term;
(b) for material breach, if the breach is not cured within 30 days of written notice.
"""

LICENSE_AGREEMENT = """SOFTWARE LICENSE AGREEMENT

ARTICLE 1 - DEFINITIONS
Section 1.1 "Licensed Software" means the object code of the software listed in
Exhibit A.

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


def shape(document: ParsedDocument) -> list[tuple[str, int | None, str]]:
    return [(e.kind, e.level, e.text) for e in document.elements]


def test_plain_text_contract_keeps_one_element_per_clause(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = tmp_path / "master-services-agreement.txt"
    source.write_text(SERVICES_AGREEMENT)
    document = parser.parse(source)
    assert document.format == "txt"
    assert shape(document) == [
        ("title", None, "MASTER SERVICES AGREEMENT"),
        (
            "text",
            None,
            'This Master Services Agreement (the "Agreement") is entered into between Northwind '
            'Analytics Ltd. (hereinafter "Provider") and the customer named in the Order Form '
            '(hereinafter "Customer").',
        ),
        ("title", 1, "1. Definitions"),
        ("text", None, '1.1 "Services" means the analytics services described in the Order Form.'),
        ("title", 1, "2. Fees and Payment"),
        ("text", None, "2.1 Customer shall pay the fees set out in the Order Form."),
        (
            "text",
            None,
            "2.2 Invoices are due within 30 days of the invoice date. Late payments bear interest "
            "at 1.5% per month.",
        ),
        (
            "text",
            None,
            "2.3 Provider may suspend the Services if an invoice remains unpaid 15 days after "
            "written notice of non-payment.",
        ),
        ("title", 1, "3. Term and Termination"),
        (
            "text",
            None,
            "3.1 This Agreement starts on the Effective Date and continues for an initial term of "
            "12 months, renewing automatically for successive 12-month periods.",
        ),
        ("text", None, "3.2 Either party may terminate this Agreement:"),
        (
            "text",
            None,
            "(a) for convenience, with 90 days' written notice before the end of the current term;",
        ),
        (
            "text",
            None,
            "(b) for material breach, if the breach is not cured within 30 days of written notice.",
        ),
    ]
    assert document.elements[4].metadata == {"numbering": "2"}
    # the opening heading names the document; a clause heading ("1. Definitions") never does
    assert document.title == "MASTER SERVICES AGREEMENT"


def test_plain_text_articles_and_sections_nest(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "license.txt"
    source.write_text(LICENSE_AGREEMENT)
    assert shape(parser.parse(source)) == [
        ("title", None, "SOFTWARE LICENSE AGREEMENT"),
        ("title", 1, "ARTICLE 1 - DEFINITIONS"),
        (
            "text",
            None,
            'Section 1.1 "Licensed Software" means the object code of the software listed in '
            "Exhibit A.",
        ),
        ("title", 1, "ARTICLE 2 - LICENSE GRANT"),
        (
            "text",
            None,
            "Section 2.1 Grant. Licensor grants Licensee a non-exclusive, non-transferable "
            "license to:",
        ),
        ("list_item", None, "(a) install the Licensed Software on up to 50 workstations; and"),
        ("text", None, "(b) make one copy of the Licensed Software for backup purposes."),
        ("title", 2, "Section 2.2 Restrictions"),
        ("text", None, "Licensee shall not:"),
        (
            "text",
            None,
            "(a) reverse engineer, decompile or disassemble the Licensed Software; or",
        ),
        ("text", None, "(b) sublicense, rent or lease the Licensed Software to any third party."),
        ("title", 1, "ARTICLE 3 - FEES"),
        (
            "text",
            None,
            "Section 3.1 Licensee shall pay the license fee set out in Exhibit B within 30 days "
            "of delivery, as provided in Section 3.2 Late Payment below.",
        ),
        ("title", 2, "Section 3.2 Late Payment"),
        ("text", None, "Overdue amounts bear interest at 1% per month."),
    ]


def test_rtf_manual_line_breaks_before_clauses_become_paragraphs(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = tmp_path / "agreement.rtf"
    source.write_text(
        r"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times;}}\f0 MASTER SERVICES AGREEMENT\par \par "
        r"2. Fees and Payment\line 2.1 Customer shall pay the fees set out in the Order Form."
        r"\line 2.2 Invoices are due within 30 days of the invoice date.\par "
        r"Northwind Analytics Ltd.\line 12 High Street\line London\par}"
    )
    document = parser.parse(source)
    assert document.format == "rtf"
    assert [e.text for e in document.elements] == [
        "MASTER SERVICES AGREEMENT",
        "2. Fees and Payment",
        "2.1 Customer shall pay the fees set out in the Order Form.",
        "2.2 Invoices are due within 30 days of the invoice date.",
        "Northwind Analytics Ltd. 12 High Street London",
    ]
