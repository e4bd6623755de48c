"""Typographic ligatures in a PDF's text layer, spelled out as their letters.

A PDF set with ligatures may map the glyph to its presentation-form character
(U+FB00 to U+FB06: "ﬁ", "ﬂ", "ﬃ"...) rather than to the letters. BM25 terms
are NFKC-normalised and see "fi" either way, but the chunk text is what the
embedding model reads (its vocabulary has no "ﬁ", so "ﬁnance" becomes an
unknown token), what an answer quotes and what a reader searches for.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from kernel.documents import Element

#: Each Latin ligature's compatibility form: "ﬃ" -> "ffi".
_SPELLED: Final = {code: unicodedata.normalize("NFKC", chr(code)) for code in range(0xFB00, 0xFB07)}


def spell_out_ligatures(elements: Sequence[Element]) -> list[Element]:
    """``elements`` with Latin ligature characters replaced by their letters (cells too)."""
    return [_spelled(element) for element in elements]


def _spelled(element: Element) -> Element:
    text = element.text.translate(_SPELLED)
    rows = element.rows
    if rows is not None:
        rows = tuple(tuple(cell.translate(_SPELLED) for cell in row) for row in rows)
    if text == element.text and rows == element.rows:
        return element
    return replace(element, text=text, rows=rows)
