"""A plain-text list of short lines packs into normal chunks; real headings still head (issue 19).

A 4 KB list of currencies, one per line, became 401 chunks with a median of 3
characters: every short line was read as a heading, and chunks never cross a
heading. A heading needs something to head; a run of short lines is a list.
Each file is written for real, read by the real parser child process and
chunked with the embedding model's own tokenizer.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from chunking import chunks
from currency_names import CURRENCY_NAMES

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser
from kernel.documents import ChunkDraft

pytestmark = pytest.mark.service


INTRO = (
    "Invoices may be settled in any of the currencies listed below, at the rate published "
    "by the treasury team on the day the invoice is issued."
)
CLOSING = (
    "Payments in any other currency are converted by the bank at the customer's cost, and "
    "the converted amount is what settles the invoice."
)


def assert_packed(drafts: list[ChunkDraft]) -> None:
    sizes = [len(d.text) for d in drafts]
    assert statistics.median(sizes) >= 200, sizes
    assert all(size >= 40 for size in sizes[:-1]), sizes


def test_a_list_of_currencies_packs_into_normal_size_chunks(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    path = tmp_path / "currencies.txt"
    path.write_text("\n".join(CURRENCY_NAMES) + "\n", encoding="utf-8")
    document = parser.parse(path)
    assert not [e.text for e in document.elements if e.kind == "title"]
    drafts = chunks(document, tokens)
    assert_packed(drafts)
    assert len(drafts) <= 10
    text = "\n".join(d.text for d in drafts)
    assert all(name in text for name in CURRENCY_NAMES)
    # In reading order: each chunk picks up where the one before it left off.
    firsts = [CURRENCY_NAMES.index(d.text.splitlines()[0]) for d in drafts]
    assert firsts == sorted(firsts)


def test_a_list_between_paragraphs_packs_and_keeps_its_lead_in(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    path = tmp_path / "payment-terms.txt"
    lines = ["Accepted currencies:", INTRO, *CURRENCY_NAMES, CLOSING]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    drafts = chunks(parser.parse(path), tokens)
    assert_packed(drafts)
    text = "\n".join(d.text for d in drafts)
    assert INTRO in text and CLOSING in text
    assert all(name in text for name in CURRENCY_NAMES)


def test_a_document_with_headings_keeps_its_sections(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    body = (
        "This policy explains how the company handles the personal data of its customers "
        "and staff, and who is responsible for keeping it safe."
    )
    scope = (
        "The policy applies to every office, every contractor and every system that stores "
        "or processes personal data on behalf of the company."
    )
    path = tmp_path / "policy.txt"
    path.write_text(
        f"1. Introduction\n\n{body}\n\n{body}\n\n2. Scope\n\n{scope}\n\n{scope}\n",
        encoding="utf-8",
    )
    drafts = chunks(parser.parse(path), tokens)
    sections = {d.section for d in drafts}
    assert {"1. Introduction", "2. Scope"} <= sections
    assert all(body in d.text for d in drafts if d.section == "1. Introduction")
    assert all(scope in d.text for d in drafts if d.section == "2. Scope")


def test_unnumbered_headings_in_line_mode_still_head_their_text(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    # One line per paragraph and no blank lines, like the currency list.
    sections = [
        ("Payment Terms", INTRO),
        ("Late Payments", CLOSING),
        ("Refunds", "Refunds are paid to the card or account that made the original payment."),
        ("Disputes", "A disputed invoice is put on hold until the account manager replies."),
        ("Credit Notes", "Credit notes are issued within ten working days of an agreed claim."),
        ("Statements", "A statement of every open invoice is sent on the first of each month."),
    ]
    path = tmp_path / "handbook.txt"
    path.write_text("\n".join(line for pair in sections for line in pair), encoding="utf-8")
    drafts = chunks(parser.parse(path), tokens)
    assert [(d.section, d.text) for d in drafts] == sections
