"""HTML tables read from the page's own markup, where unstructured drops merged cells.

unstructured's HTML partitioner rebuilds each table's ``text_as_html`` from bare
``<tr>``/``<th>``/``<td>`` tags and leaves out every attribute, so ``colspan``
and ``rowspan`` are gone. An annual report's segment table opens with a
grouping row ("Segment | Revenue (colspan 2) | Margin (colspan 2)") over a row
of years ("| 2023 | 2022 | 2023 | 2022"); rebuilt without the spans, "Margin"
lands over the 2022 revenue column and the last two year columns have no group
at all, which is exactly the wrong-column reading issue 19 is about.

So each table element gets back the markup of the source ``<table>`` it came
from: the outermost tables of the page, taken in order, matched by their text
(whitespace aside). A table that matches none (unstructured skipped or changed
it) keeps unstructured's markup. ``tables.read_html_table`` then spreads the
merged cells and counts the declared header rows as for any table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement


def restore_table_markup(raw: Sequence[Any], markup: str) -> list[Any]:
    """``raw`` (unstructured elements) with each table's ``text_as_html`` from ``markup``."""
    elements = list(raw)
    if not any(str(getattr(item, "category", "")) == "Table" for item in elements):
        return elements
    sources = list(_outer_tables(markup))
    position = 0
    for item in elements:
        if str(getattr(item, "category", "")) != "Table" or item.metadata is None:
            continue
        key = _key(item.text or "")
        for offset, (source_key, source) in enumerate(sources[position:]):
            if source_key == key:
                item.metadata.text_as_html = source
                position += offset + 1
                break
    return elements


def _outer_tables(markup: str) -> Iterator[tuple[str, str]]:
    """(text key, markup) of each table not nested in another, in document order."""
    try:
        root = lxml_html.fromstring(markup)
    except (etree.ParserError, ValueError):
        return
    for table in root.iter("table"):
        if isinstance(table, HtmlElement) and not any(
            ancestor.tag == "table" for ancestor in table.iterancestors()
        ):
            yield (
                _key(table.text_content()),
                lxml_html.tostring(table, encoding="unicode", with_tail=False),
            )


def _key(text: str) -> str:
    return "".join(text.split())
