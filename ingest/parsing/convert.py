"""unstructured's elements turned into ragline :class:`Element` values.

The conventions the chunkers rely on are set here: reading order kept; a title's
``level`` is 1 for the top (unstructured counts ``category_depth`` from 0 for
HTML/Markdown headings, DOCX heading styles and slide titles, and gives none for
PDF or plain-text titles, which stay ``None``, except numbered plain-text
headings, levelled by ``text_headings``); tables carry ``rows`` and the count
of header rows their markup declares (``header_rows``); page
furniture is ``header``; empty elements are dropped; a ``page_break`` sits only
between content and carries the number of the page it ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, Protocol

from kernel.documents import Element, ElementKind

from .tables import read_html_table, rows_as_text

_KINDS: Final[dict[str, ElementKind]] = {
    "Title": "title",
    "ListItem": "list_item",
    "List": "list_item",
    "CodeSnippet": "code",
    "Table": "table",
    "TableChunk": "table",
    "PageBreak": "page_break",
    "Header": "header",
    "Footer": "header",
    "PageHeader": "header",
    "PageFooter": "header",
    "PageNumber": "header",
}


class RawElement(Protocol):
    """The part of an unstructured element this module reads (duck-typed, no import)."""

    @property
    def category(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def metadata(self) -> Any: ...


def convert_elements(raw: Iterable[RawElement]) -> list[Element]:
    """Convert in reading order, then tidy page breaks."""
    converted = [element for item in raw if (element := convert_element(item)) is not None]
    return tidy_page_breaks(converted)


def convert_element(item: RawElement) -> Element | None:
    """One element, or ``None`` when it carries nothing (an empty image, a blank line)."""
    category = str(item.category)
    kind: ElementKind = _KINDS.get(category, "text")
    metadata = item.metadata
    page = _int_or_none(getattr(metadata, "page_number", None))
    if kind == "page_break":
        return Element(kind="page_break", text="", page=page)
    text = _clean(item.text or "", keep_layout=kind == "code")
    if kind == "table":
        return _table(text, getattr(metadata, "text_as_html", None), page)
    if not text:
        return None
    level = None
    if kind == "title":
        depth = _int_or_none(getattr(metadata, "category_depth", None))
        level = depth + 1 if depth is not None and depth >= 0 else None
    return Element(kind=kind, text=text, page=page, level=level)


def tidy_page_breaks(elements: Sequence[Element]) -> list[Element]:
    """Drop leading, trailing and doubled breaks; number each by the page it ends."""
    tidy: list[Element] = []
    last_page: int | None = None
    for element in elements:
        if element.kind == "page_break":
            if tidy and tidy[-1].kind != "page_break":
                page = last_page if last_page is not None else element.page
                tidy.append(Element(kind="page_break", text="", page=page))
            continue
        tidy.append(element)
        if element.page is not None:
            last_page = element.page
    while tidy and tidy[-1].kind == "page_break":
        tidy.pop()
    return tidy


def _table(text: str, html: object, page: int | None) -> Element | None:
    if isinstance(html, str) and html.strip():
        table = read_html_table(html)
        if table.rows:
            return Element(
                kind="table",
                text=rows_as_text(table.rows),
                page=page,
                rows=table.rows,
                has_header=table.has_header,
                header_rows=table.header_rows or None,
            )
    if not text:
        return None
    return Element(kind="text", text=text, page=page)


def _clean(text: str, *, keep_layout: bool) -> str:
    """Strip surrounding blank space; code keeps its indentation and inner blank lines."""
    if keep_layout:
        return text.strip("\n").rstrip()
    return text.strip()


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return None
