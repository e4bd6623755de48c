"""The heuristics that send a PDF page to OCR."""

from __future__ import annotations

import pytest

from ingest.parsing.text_quality import has_text, is_garbled, unreadable_reason

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


@pytest.mark.parametrize(
    ("text", "prose", "reason"),
    [
        ("F\x00r\x00o\x00m\x00:\x00 \x00a\x00n\x00n\x00", None, "control characters"),
        ("(cid:3)(cid:4) (cid:5) the (cid:6)(cid:7) (cid:8)", None, "unmapped glyph"),
        ("T h i s  i s  a  l e t t e r - s p a c e d  l i n e", None, "letter-spaced"),
    ],
)
def test_unreadable_text_is_named(text: str, prose: str | None, reason: str) -> None:
    found = unreadable_reason(text, prose=prose)
    assert found is not None and reason in found


@pytest.mark.parametrize(
    ("text", "prose"),
    [
        ("I think a quarterly report is due. A review of the plan is needed, and I agree.", None),
        # A table of Y/N flags is not letter-spaced prose when tables are left out.
        ("Item | A | B\nx | Y | N\ny | N | Y\nz | Y | Y\nw | N | N", "Flags by item"),
        ("Col1\tCol2\r\nA form feed\f ends the page\v and a tab\t is layout.", None),
        ("Glyph (cid:12) in an otherwise readable sentence of many ordinary words here.", None),
        # A short document of headers and footers (docx-hdrftr.docx's share is 0.375).
        ("Header A\nFirst page B\nEven page C\nOdd D\nFooter E of F\nthe body G text", None),
        ("", None),
    ],
)
def test_readable_text_passes(text: str, prose: str | None) -> None:
    assert unreadable_reason(text, prose=prose) is None
