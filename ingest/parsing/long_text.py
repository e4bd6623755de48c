"""Cutting an over-long text into bounded pieces without losing or reordering anything.

A file can hold a paragraph of any length: a log or a minified export on one
line, a megabyte of words with no blank line. Everything after parsing (the
chunkers' packing and fitting, token counting, embedding) is sized for
paragraphs, so one element of a megabyte makes each of them slow or huge.
Pieces are cut, in order of preference, after a sentence (``text.sentences``,
the boundary rule the chunkers and answers use), after whitespace, or (for a run
with no whitespace at all) at the bound itself.

Pieces are contiguous: joined, they give the input back unchanged. The work is
linear in the input's length: a cut scans one window of ``max_chars``, and any
three cuts in a row advance by more than a window (a cut falls short of its
window's end only where the window holds no later boundary of that kind).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from text.sentences import sentence_ends

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
    end = _last_after(start, sentence_ends(text, start, limit))
    if end is None:
        end = _last_after(
            start, (found.end() for found in _WHITESPACE.finditer(text, start, limit))
        )
    return end if end is not None else limit


def _last_after(start: int, ends: Iterator[int]) -> int | None:
    """The last of ``ends`` past ``start``, if any."""
    last = None
    for end in ends:
        if end > start:
            last = end
    return last
