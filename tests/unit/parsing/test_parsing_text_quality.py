"""The heuristics that send a PDF page to OCR."""

from __future__ import annotations

import pytest

from ingest.parsing.text_quality import has_text, is_garbled

pytestmark = pytest.mark.unit


def test_text_from_a_rotated_page_is_garbled() -> None:
    # What pdfminer makes of rotated-page-90.pdf.
    text = "R o\nt\na e d p a g e\nt\nf i x t\nu r e\nS e c o n d\nl i\nn e o\nf\nt\ne x t"
    assert is_garbled(text)


def test_unmapped_glyphs_are_garbled() -> None:
    assert is_garbled("(cid:12)(cid:15) (cid:16)(cid:17) (cid:3) report (cid:44)")
    assert is_garbled("\ufffd\ufffd \ufffd\ufffd\ufffd \ufffd total")


@pytest.mark.parametrize(
    "text",
    [
        "I think a quarterly report is due. A review of the plan is needed, and I agree.",
        "Table 3: 1 2 3 4 5 6 7 8 9 10 11 12 revenue by month",
        "A",
        "Vitamin D and B group: see section C of part II.",
        "",
    ],
)
def test_ordinary_text_is_not_garbled(text: str) -> None:
    assert not is_garbled(text)


def test_has_text_needs_a_letter_or_digit() -> None:
    assert has_text(" - 7 -")
    assert not has_text(" \n\t•  —  ")
