"""Word's "repeat as header row" read back into a DOCX table's markup (issue 19).

A Word table declares its header rows itself: each row marked "Repeat as
header row at the top of each page" carries ``<w:tblHeader/>``, and Word
repeats those rows on every page the table runs over. unstructured's
``text_as_html`` for a DOCX table is plain ``<tr>`` rows, so that declaration
is lost and the chunkers fall back to guessing the band from the cells.

Here the leading marked rows of each body table (the tables unstructured
emits as ``Table`` elements, in the same order) are moved into a ``<thead>``
of that element's ``text_as_html``, so ``tables.read_html_table`` counts them
as it counts an HTML ``<thead>``: one path for every declared header. When
the number of body tables and of ``Table`` elements differ, nothing is
changed rather than risk marking the wrong table.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from lxml import etree
from lxml import html as lxml_html

_W: Final = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFF: Final = frozenset({"0", "false", "off"})


def mark_docx_header_rows(raw: Sequence[Any], path: Path) -> list[Any]:
    """``raw`` (unstructured elements of ``path``) with Word's header rows in a ``<thead>``."""
    elements = list(raw)
    tables = [item for item in elements if str(getattr(item, "category", "")) == "Table"]
    if not tables:
        return elements
    counts = declared_header_rows(path)
    if len(counts) != len(tables):
        return elements
    for item, count in zip(tables, counts, strict=True):
        markup = getattr(item.metadata, "text_as_html", None)
        if count and isinstance(markup, str) and markup.strip():
            item.metadata.text_as_html = _with_thead(markup, count)
    return elements


def declared_header_rows(path: Path) -> list[int]:
    """For each table of the document body, in order, how many leading rows repeat as header."""
    import docx
    from docx.exceptions import PythonDocxError
    from docx.opc.exceptions import OpcError

    try:
        body = docx.Document(str(path)).element.body
    except (OpcError, PythonDocxError, KeyError, ValueError, OSError, zipfile.BadZipFile):
        return []  # a refinement only: unstructured read the file, keep its reading
    return [_leading_header_rows(tbl) for tbl in body.iterchildren(f"{_W}tbl")]


def _leading_header_rows(tbl: Any) -> int:
    count = 0
    for tr in tbl.iterchildren(f"{_W}tr"):
        marks = tr.findall(f"{_W}trPr/{_W}tblHeader")
        if not marks or marks[0].get(f"{_W}val", "true").lower() in _OFF:
            break
        count += 1
    return count


def _with_thead(markup: str, count: int) -> str:
    """``markup`` (one table) with its first ``count`` rows inside a ``<thead>``."""
    try:
        table = lxml_html.fragment_fromstring(markup)
    except (etree.ParserError, ValueError):
        return markup
    if table.tag != "table" or table.find("thead") is not None:
        return markup
    rows = [child for child in table if child.tag == "tr"][:count]
    if not rows:
        return markup
    thead = lxml_html.Element("thead")
    rows[0].addprevious(thead)
    for row in rows:
        thead.append(row)
    return str(lxml_html.tostring(table, encoding="unicode"))
