"""A table found on a PDF page put in place of the unstructured elements that held it.

unstructured keeps no positions, so the elements a table was read from are
found by their words: an element goes when the table holds nearly all of its
words (each word counted as often as the table has it left, so two rows saying
"Total" do not both hide behind one). The table takes the place of the first
element it replaces; everything else on the page stays as unstructured read it.
Words are compared as ``match_tokens`` cuts them, on both sides.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Final

from kernel.documents import Element

from .tables import rows_as_text

if TYPE_CHECKING:
    from .pdf_tables import PdfTable

#: Share of an unstructured element's words the table must hold for the table to replace it.
_COVERED: Final = 0.9
#: Words, and each other mark alone: a "$" or a dot leader is an element of its own too.
_TOKEN: Final = re.compile(r"\w+|[^\w\s]")


def match_tokens(text: str) -> list[str]:
    """The words and marks of ``text``, case folded: what a table and an element are matched by."""
    return [token.casefold() for token in _TOKEN.findall(text)]


def placed(elements: list[Element], table: PdfTable, page: int) -> list[Element]:
    """The page's elements with those the table holds replaced by the table, where the first was."""
    available = Counter(table.tokens)
    kept: list[Element] = []
    at: int | None = None
    for element in elements:
        tokens = match_tokens(element.text)
        if element.kind != "page_break" and tokens and _covered(tokens, available):
            for token, count in Counter(tokens).items():
                available[token] = max(0, available[token] - count)
            if at is None:
                at = len(kept)
            continue
        kept.append(element)
    if at is None:
        return elements
    element = Element(
        kind="table",
        text=rows_as_text(table.rows),
        page=page,
        rows=table.rows,
        has_header=True,
        header_rows=table.header_rows,
        metadata={"source": "pdf_layout"},
    )
    return [*kept[:at], element, *kept[at:]]


def _covered(tokens: list[str], available: Counter[str]) -> bool:
    need = Counter(tokens)
    held = sum(min(count, max(0, available[token])) for token, count in need.items())
    return held >= _COVERED * len(tokens)
