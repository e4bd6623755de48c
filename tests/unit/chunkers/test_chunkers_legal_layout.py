"""The legal strategy on contracts as plain text gives them: heading lines, joined lines."""

from __future__ import annotations

from collections import Counter

import pytest
from chunk_checks import assert_within_limit, words
from chunker_doubles import WhitespaceTokenCounterDouble
from chunker_samples import (
    license_agreement,
    services_agreement_joined_lines,
    services_agreement_text,
)

from chunkers.base import TokenCounter
from chunkers.clause_markers import is_heading_line, read_marker
from chunkers.inline_clauses import follows, split_inline_clauses
from chunkers.legal import LegalChunker
from kernel.documents import ChunkDraft, Element, ParsedDocument

pytestmark = pytest.mark.unit

MSA = "MASTER SERVICES AGREEMENT"
SLA = "SOFTWARE LICENSE AGREEMENT"


def legal_chunks(doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
    return LegalChunker().chunk(doc, tokens)


def shape(drafts: list[ChunkDraft]) -> list[tuple[str | None, dict[str, str], str]]:
    return [(d.section, dict(d.metadata), d.text) for d in drafts]


def assert_words_kept(doc: ParsedDocument, drafts: list[ChunkDraft]) -> None:
    """Every word of the document is in a chunk's text or, for heading lines, its section."""
    expected = Counter(w for e in doc.elements for w in words(e.text))
    sections = {part for d in drafts if d.section for part in d.section.split(" > ")}
    found = Counter(w for d in drafts for w in words(d.text))
    found.update(w for part in sections for w in words(part))
    assert not expected - found, dict(expected - found)


FEES_CHUNK = (
    "2.1 Customer shall pay the fees set out in the Order Form.\n\n"
    "2.2 Invoices are due within 30 days of the invoice date. Late payments bear interest "
    "at 1.5% per month.\n\n"
    "2.3 Provider may suspend the Services if an invoice remains unpaid 15 days after "
    "written notice of non-payment, as permitted under clause 2.4 Suspension below.\n\n"
    "2.4 Suspension does not relieve Customer of its obligation to pay the fees."
)


def test_a_plain_text_contract_chunks_under_its_clause_headings(
    minilm_tokens: TokenCounter,
) -> None:
    drafts = legal_chunks(services_agreement_text(), minilm_tokens)
    assert_within_limit(drafts, minilm_tokens)
    assert shape(drafts) == [
        (
            MSA,
            {},
            'This Master Services Agreement (the "Agreement") is entered into between Northwind '
            'Analytics Ltd. (hereinafter "Provider") and the customer named in the Order Form '
            '(hereinafter "Customer").',
        ),
        (
            f"{MSA} > 1. Definitions",
            {"clause": "1.1"},
            '1.1 "Services" means the analytics services described in the Order Form.\n\n'
            '1.2 "Confidential Information" means any information disclosed by one party to the '
            "other that is marked confidential or would reasonably be understood as "
            "confidential.",
        ),
        (f"{MSA} > 2. Fees and Payment", {"clause": "2.1"}, FEES_CHUNK),
        (
            f"{MSA} > 3. Term and Termination",
            {"clause": "3.1"},
            "3.1 This Agreement starts on the Effective Date and continues for an initial term of "
            "12 months, renewing automatically for successive 12-month periods.\n\n"
            "3.2 Either party may terminate this Agreement:\n\n"
            "(a) for convenience, with 90 days' written notice before the end of the current "
            "term;\n\n"
            "(b) for material breach, if the breach is not cured within 30 days of written "
            "notice.",
        ),
    ]


def test_joined_lines_give_the_clauses_and_sections_that_kept_lines_give(
    minilm_tokens: TokenCounter,
) -> None:
    joined = legal_chunks(services_agreement_joined_lines(), minilm_tokens)
    kept = legal_chunks(services_agreement_text(), minilm_tokens)
    assert [(d.section, d.metadata) for d in joined] == [(d.section, d.metadata) for d in kept]
    assert [d.text for d in joined[:3]] == [d.text for d in kept[:3]]
    assert joined[2].text == FEES_CHUNK
    # "(a)" and "(b)" inside the line are items of 3.2, not clauses of their own
    assert joined[3].text == (
        "3.1 This Agreement starts on the Effective Date and continues for an initial term of "
        "12 months, renewing automatically for successive 12-month periods.\n\n"
        "3.2 Either party may terminate this Agreement: (a) for convenience, with 90 days' "
        "written notice before the end of the current term; (b) for material breach, if the "
        "breach is not cured within 30 days of written notice."
    )
    assert_words_kept(services_agreement_joined_lines(), joined)


def test_a_long_clause_of_joined_lines_is_cut_at_its_sub_clauses() -> None:
    tokens = WhitespaceTokenCounterDouble(24)
    doc = services_agreement_joined_lines()
    drafts = legal_chunks(doc, tokens)
    assert_within_limit(drafts, tokens)
    assert_words_kept(doc, drafts)
    fees = [d for d in drafts if d.section and "2. Fees and Payment" in d.section]
    assert shape(fees) == [
        (
            f"{MSA} > 2. Fees and Payment > 2.1",
            {"clause": "2.1"},
            "2.1 Customer shall pay the fees set out in the Order Form.",
        ),
        (
            f"{MSA} > 2. Fees and Payment > 2.2",
            {"clause": "2.2"},
            "2.2 Invoices are due within 30 days of the invoice date. Late payments bear "
            "interest at 1.5% per month.",
        ),
        # over the limit alone: cut between words, and "clause 2.4" is a reference
        (
            f"{MSA} > 2. Fees and Payment > 2.3",
            {"clause": "2.3"},
            "2.3 Provider may suspend the Services if an invoice remains unpaid 15 days",
        ),
        (
            f"{MSA} > 2. Fees and Payment > 2.3",
            {"clause": "2.3", "continued": "true"},
            "after written notice of non-payment, as permitted under clause 2.4 Suspension below.",
        ),
        (
            f"{MSA} > 2. Fees and Payment > 2.4",
            {"clause": "2.4"},
            "2.4 Suspension does not relieve Customer of its obligation to pay the fees.",
        ),
    ]
    for draft in drafts:
        if "clause" in draft.metadata and not draft.metadata.get("continued"):
            marker = read_marker(draft.text)
            assert marker is not None and draft.metadata["clause"] == marker.number, draft.text


def test_a_heading_line_inside_an_element_goes_to_the_section(
    minilm_tokens: TokenCounter,
) -> None:
    # DOCX keeps manual line breaks; the heading shares an element with its clauses.
    doc = ParsedDocument(
        "docx",
        (
            Element("title", MSA, level=1),
            Element(
                "text",
                "2. Fees and Payment\n"
                "2.1 Customer shall pay the fees set out in the Order Form.\n"
                "2.2 Invoices are due within 30 days of the invoice date.",
            ),
            Element("text", "3. Term and Termination"),
        ),
    )
    assert shape(legal_chunks(doc, minilm_tokens)) == [
        (
            f"{MSA} > 2. Fees and Payment",
            {"clause": "2.1"},
            "2.1 Customer shall pay the fees set out in the Order Form.\n\n"
            "2.2 Invoices are due within 30 days of the invoice date.",
        ),
        # nothing under it: kept as text, citing its own number
        (f"{MSA} > 3. Term and Termination", {"clause": "3"}, "3. Term and Termination"),
    ]


def test_articles_sections_and_items_of_a_licence(minilm_tokens: TokenCounter) -> None:
    drafts = legal_chunks(license_agreement(), minilm_tokens)
    assert_within_limit(drafts, minilm_tokens)
    assert shape(drafts) == [
        (
            f"{SLA} > ARTICLE 1 - DEFINITIONS > Section 1.1",
            {"clause": "Section 1.1"},
            'Section 1.1 "Licensed Software" means the object code of the software listed in '
            "Exhibit A.",
        ),
        (
            f"{SLA} > ARTICLE 2 - LICENSE GRANT",
            {"clause": "Section 2.1"},
            "Section 2.1 Grant. Licensor grants Licensee a non-exclusive, non-transferable "
            "license to:\n\n"
            "(a) install the Licensed Software on up to 50 workstations; and\n\n"
            "(b) make one copy of the Licensed Software for backup purposes.\n\n"
            # a heading below the Article opens its clause, or packing would lose it
            "Section 2.2 Restrictions\n\n"
            "Licensee shall not:\n\n"
            "(a) reverse engineer, decompile or disassemble the Licensed Software; or\n\n"
            "(b) sublicense, rent or lease the Licensed Software to any third party.",
        ),
        (
            f"{SLA} > ARTICLE 3 - FEES",
            {"clause": "Section 3.1"},
            "Section 3.1 Licensee shall pay the license fee set out in Exhibit B within 30 days "
            "of delivery, as provided in Section 3.2 Late Payment below.\n\n"
            "Section 3.2 Late Payment\n\n"
            "Overdue amounts bear interest at 1% per month.",
        ),
    ]


def test_licence_items_in_a_small_window_cite_their_full_number() -> None:
    drafts = legal_chunks(license_agreement(), WhitespaceTokenCounterDouble(20))
    grant = f"{SLA} > ARTICLE 2 - LICENSE GRANT"
    assert [(d.section, dict(d.metadata), d.text.split("\n")[0]) for d in drafts[1:7]] == [
        (
            f"{grant} > Section 2.1 Grant",
            {"clause": "Section 2.1"},
            "Section 2.1 Grant. Licensor grants Licensee a non-exclusive, non-transferable "
            "license to:",
        ),
        (
            f"{grant} > Section 2.1 Grant > (a)",
            {"clause": "Section 2.1(a)"},
            "(a) install the Licensed Software on up to 50 workstations; and",
        ),
        (
            f"{grant} > Section 2.1 Grant > (b)",
            {"clause": "Section 2.1(b)"},
            "(b) make one copy of the Licensed Software for backup purposes.",
        ),
        (
            f"{grant} > Section 2.2 Restrictions",
            {"clause": "Section 2.2"},
            "Section 2.2 Restrictions",
        ),
        (
            f"{grant} > Section 2.2 Restrictions > (a)",
            {"clause": "Section 2.2(a)"},
            "(a) reverse engineer, decompile or disassemble the Licensed Software; or",
        ),
        (
            f"{grant} > Section 2.2 Restrictions > (b)",
            {"clause": "Section 2.2(b)"},
            "(b) sublicense, rent or lease the Licensed Software to any third party.",
        ),
    ]
    assert drafts[4].text == "Section 2.2 Restrictions\n\nLicensee shall not:"


@pytest.mark.parametrize(
    ("text", "current", "pieces"),
    [
        (
            "2. Fees and Payment 2.1 Customer shall pay. 2.2 Invoices are due in 30 days.",
            (2,),
            [
                "2. Fees and Payment ",
                "2.1 Customer shall pay. ",
                "2.2 Invoices are due in 30 days.",
            ],
        ),
        (
            "2.3 Provider may suspend. 3. Term and Termination 3.1 This Agreement starts.",
            (2, 3),
            [
                "2.3 Provider may suspend. ",
                "3. Term and Termination ",
                "3.1 This Agreement starts.",
            ],
        ),
        # a sub-clause that skips a number, or belongs elsewhere, is a reference
        ("2.1 Fees are set out in 4.2 Pricing. 2.3 Taxes apply.", (2, 1), None),
        ("2.1 The fees, as set out in clause 2.2 Invoices, are due.", (2, 1), None),
        ("2.1 See Section 2.2 Invoices and 2.2 Payments.", (2, 1), None),
        ("2.1 The fee is 2.2 percent of the order value.", (2, 1), None),
        # a plain number needs the end of a sentence before it
        ("2.3 Provider shall send 3. Reminders before suspending.", (2, 3), None),
        ("Customer shall pay. 2.2 Invoices are due.", None, None),
    ],
)
def test_inline_clause_numbers_cut_only_where_the_numbering_continues(
    text: str, current: tuple[int, ...] | None, pieces: list[str] | None
) -> None:
    cut = split_inline_clauses(text, current)
    assert cut == (pieces or [text])
    assert "".join(cut) == text


@pytest.mark.parametrize(
    ("current", "number", "expected"),
    [
        ((2,), (2, 1), True),
        ((2, 1), (2, 2), True),
        ((2, 1), (2, 1, 1), True),
        ((2, 1, 1), (2, 2), True),
        ((2, 3), (3,), True),
        ((2, 1), (2, 3), False),
        ((2, 1), (3, 1), False),
        ((2,), (2, 2), False),
    ],
)
def test_which_number_follows(
    current: tuple[int, ...], number: tuple[int, ...], expected: bool
) -> None:
    assert follows(current, number) is expected


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("2. Fees and Payment", True),
        ("ARTICLE II - DEFINITIONS", True),
        ("Section 4", True),
        ("2.1 Fees. The Customer shall pay.", False),
        ("3.2 Either party may terminate this Agreement:", False),
        ("2. The Supplier shall deliver", False),
        ("(a) Customer Data", False),
    ],
)
def test_heading_lines_are_a_number_and_a_caption_only(text: str, heading: bool) -> None:
    marker = read_marker(text)
    assert marker is not None
    assert is_heading_line(text, marker) is heading
