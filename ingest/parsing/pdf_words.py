"""The words of a PDF page with their positions, in lines: what a table reader needs.

unstructured's ``fast`` strategy hands over pdfminer's text boxes without their
coordinates, and pdfminer cuts a table without ruling lines into one box per
column or per cell, so the rows are gone before anything can see them. pdfium
(pypdfium2) gives every character's box in milliseconds a page; this module
groups them into lines by baseline and into words by the gaps between them,
and leaves the judging of columns to ``pdf_tables``.

Coordinates are PDF points with y growing up the page, as pdfium reports them.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from dataclasses import dataclass
from statistics import median
from typing import Any, Final

#: A gap wider than this share of the font size starts a new word whatever the text says;
#: a narrower one only where pdfium puts a space (a real one or one it infers). Glyph
#: boxes alone cannot tell: a narrow "1" leaves as much air as a space does.
_WIDE_GAP: Final = 0.5
_SPACED_GAP: Final = 0.15
#: Characters whose baselines differ by less than this share of the font size share a line.
_SAME_LINE: Final = 0.4
#: pdfium's code for a hyphen that ends a line ("ambient-" over "strength").
_LINE_END_HYPHEN: Final = 0x02
_SPACES: Final = frozenset({0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x2002, 0x2003, 0x2009})


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    x0: float
    x1: float

    @property
    def middle(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True, slots=True)
class Line:
    """The words sharing one baseline, left to right."""

    words: tuple[Word, ...]
    baseline: float
    size: float

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return max(word.x1 for word in self.words)

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


@dataclass(frozen=True, slots=True)
class _Char:
    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    spaced: bool  # a space comes before it in pdfium's text order


def page_lines(document: Any, index: int) -> list[Line]:
    """The lines of page ``index`` (0-based) of a ``pypdfium2.PdfDocument``, top to bottom."""
    page = document[index]
    textpage = page.get_textpage()
    try:
        chars = list(_chars(textpage))
    finally:
        textpage.close()
        page.close()
    return _lines(chars)


def _chars(textpage: Any) -> Iterator[_Char]:
    """Every drawn character with its box, baseline and size; spaces only mark the next.

    One pdfium call a character (a few microseconds each from Python; the text
    comes in one call): the loose box gives the horizontal extent, the size as
    drawn (ascent to descent, where FPDFText_GetFontSize gives the size before
    the text matrix scales it) and, at its foot, the line: characters of one
    line share it within a fraction of their size. Characters pdfium generates
    are spaces and line ends, so the code alone tells them apart.
    """
    import pypdfium2.raw as pdfium_c

    handle = textpage.raw
    count = pdfium_c.FPDFText_CountChars(handle)
    codes = _codes(handle, count)
    loose = pdfium_c.FS_RECTF()
    spaced = True
    for i in range(count):
        code = codes[i] if codes is not None else pdfium_c.FPDFText_GetUnicode(handle, i)
        if code == _LINE_END_HYPHEN:
            code = ord("-")
        if code in _SPACES or code < 0x20:
            spaced = True
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(handle, i, loose):
            continue
        size = loose.top - loose.bottom
        if size <= 0:
            continue
        yield _Char(chr(code), loose.left, loose.right, loose.bottom, size, spaced)
        spaced = False


def _codes(handle: Any, count: int) -> list[int] | None:
    """The page's character codes in one call, or None when they do not map one to one
    onto character indices (a character outside the basic plane takes two)."""
    import pypdfium2.raw as pdfium_c

    buffer = ctypes.create_string_buffer((count + 1) * 2)
    written = pdfium_c.FPDFText_GetText(
        handle, 0, count, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort))
    )
    units = memoryview(buffer.raw[: max(0, written - 1) * 2]).cast("H").tolist()
    return units if len(units) == count and not any(0xD800 <= u < 0xE000 for u in units) else None


def _lines(chars: list[_Char]) -> list[Line]:
    """Characters grouped by baseline (top of the page first), each line cut into words."""
    rows: list[list[_Char]] = []
    previous: _Char | None = None
    for char in sorted(chars, key=lambda c: -c.baseline):
        # Chained to the previous character: a raised footnote mark joins its line.
        if previous is not None and previous.baseline - char.baseline <= _SAME_LINE * max(
            char.size, previous.size
        ):
            rows[-1].append(char)
        else:
            rows.append([char])
        previous = char
    lines = []
    for row in rows:
        row.sort(key=lambda c: c.x0)
        # Letters and digits give the size: a dot leader's boxes can be a tenth of it.
        sizes = [c.size for c in row if c.text.isalnum()] or [c.size for c in row]
        size = median(sizes)
        lines.append(Line(tuple(_words(row, size)), median(c.baseline for c in row), size))
    return lines


def _words(row: list[_Char], size: float) -> list[Word]:
    """The line's characters cut into words; gaps are judged against the line's size,
    since a full stop's own box can be a tenth of its neighbours'."""
    words: list[Word] = []
    text: list[str] = []
    left = right = 0.0
    wide, spaced_gap = _WIDE_GAP * size, _SPACED_GAP * size
    for char in row:
        if text:
            gap = char.x0 - right
            if gap > wide or (char.spaced and gap > spaced_gap):
                words.append(Word("".join(text), left, right))
                text = []
        if not text:
            left, right = char.x0, char.x1
        text.append(char.text)
        right = max(right, char.x1)
    if text:
        words.append(Word("".join(text), left, right))
    return words
