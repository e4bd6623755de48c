"""Cutting an over-long text into bounded pieces without losing or reordering anything.

A file can hold a paragraph of any length: a log or a minified export on one
line, a megabyte of words with no blank line. Everything after parsing (the
chunkers' packing and fitting, token counting, embedding) is sized for
paragraphs, so one element of a megabyte makes each of them slow or huge.
Pieces are cut, in order of preference, after a sentence, after whitespace,
or (for a run with no whitespace at all) at the bound itself.

Pieces are contiguous: joined, they give the input back unchanged. The work is
linear in the input's length: a cut scans one window of ``max_chars``, and any
three cuts in a row advance by more than a window (a cut falls short of its
window's end only where the window holds no later boundary of that kind).
"""

from __future__ import annotations

import re
from typing import Final

#: End punctuation (plus closing quotes and brackets) and whitespace before a capital,
#: a digit or an opening quote; or a CJK full stop, which needs no space after it.
SENTENCE_END: Final = re.compile(
    r"""[.!?\u2026]+["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])"""
    r"|[\u3002\uff01\uff1f]+\s*"
)
_WHITESPACE: Final = re.compile(r"\s+")


def split_long_text(text: str, max_chars: int) -> list[str]:
    """``text`` as contiguous pieces of at most ``max_chars`` characters each.

    A piece ends after the last sentence end that fits, else after the last
    whitespace that fits, else at ``max_chars``. Text within the bound is
    returned as it is, in a list of one.
    """
    if max_chars <= 0:
        raise ValueError("max_chars must be positive")
    pieces: list[str] = []
    start = 0
    while len(text) - start > max_chars:
        end = _cut(text, start, start + max_chars)
        pieces.append(text[start:end])
        start = end
    if start < len(text) or not pieces:
        pieces.append(text[start:])
    return pieces


def _cut(text: str, start: int, limit: int) -> int:
    """Where the piece starting at ``start`` ends: a boundary in ``(start, limit]``."""
    end = _last_end(SENTENCE_END, text, start, limit)
    if end is None:
        end = _last_end(_WHITESPACE, text, start, limit)
    return end if end is not None else limit


def _last_end(pattern: re.Pattern[str], text: str, start: int, limit: int) -> int | None:
    """The end of the last match inside ``text[start:limit]``, if one ends after ``start``."""
    last = None
    for match in pattern.finditer(text, start, limit):
        if match.end() > start:
            last = match.end()
    return last
