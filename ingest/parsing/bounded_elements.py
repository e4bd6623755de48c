"""No element's text, and no table cell, longer than a bound, whatever the format.

Applied once to every parsed document, after the readers and the heading rules
have run, so the cut never changes what a paragraph was read as: an over-long
paragraph becomes consecutive elements of the same kind, in the same place, with
the same page and metadata, each cut by :func:`~.long_text.split_long_text`
(after a sentence where possible). A "title" that long is no heading (nothing
downstream wants a 5,000-character section name), so its pieces are ``text``.

A table keeps its shape: a cell over the bound is continued on the rows right
below it, the row's other cells left empty there, as a spreadsheet shows a
wrapped cell. Code is left whole: the chunkers' contract for ``code`` is that
the parser never splits it, and they fit an over-long block themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Final

from kernel.documents import Element

from .long_text import split_long_text
from .tables import rows_as_text

#: A few paragraphs' worth: real paragraphs stay whole, and a chunk (a few hundred
#: tokens by default) is still cut by the chunkers, not here.
MAX_ELEMENT_CHARS: Final[int] = 5_000

_WHOLE_KINDS: Final = frozenset({"code", "page_break"})

Rows = tuple[tuple[str, ...], ...]


def bound_elements(
    elements: Sequence[Element], max_chars: int = MAX_ELEMENT_CHARS
) -> list[Element]:
    """``elements`` in the same order, with over-long texts and cells cut into pieces."""
    bounded: list[Element] = []
    for element in elements:
        if element.kind == "table" and element.rows is not None:
            bounded.append(_bounded_table(element, max_chars))
        elif element.kind in _WHOLE_KINDS or len(element.text) <= max_chars:
            bounded.append(element)
        else:
            bounded.extend(_pieces(element, max_chars))
    return bounded


def bound_rows(rows: Rows, max_chars: int = MAX_ELEMENT_CHARS) -> Rows:
    """``rows`` with every cell over ``max_chars`` continued on the rows below it."""
    if all(len(cell) <= max_chars for row in rows for cell in row):
        return rows
    return tuple(bounded for row in rows for bounded in _continued(row, max_chars))


def _pieces(element: Element, max_chars: int) -> Iterator[Element]:
    kind = "text" if element.kind == "title" else element.kind
    level = None if element.kind == "title" else element.level
    for piece in split_long_text(element.text, max_chars):
        if piece.strip():
            yield replace(element, kind=kind, level=level, text=piece.strip())


def _bounded_table(element: Element, max_chars: int) -> Element:
    assert element.rows is not None  # checked by the caller
    rows = bound_rows(element.rows, max_chars)
    if rows is element.rows:
        return element
    return replace(element, rows=rows, text=rows_as_text(rows))


def _continued(row: tuple[str, ...], max_chars: int) -> Iterator[tuple[str, ...]]:
    if all(len(cell) <= max_chars for cell in row):
        yield row
        return
    columns = [
        [piece.strip() for piece in split_long_text(cell, max_chars)] if cell else [""]
        for cell in row
    ]
    depth = max(len(pieces) for pieces in columns)
    for index in range(depth):
        yield tuple(pieces[index] if index < len(pieces) else "" for pieces in columns)
