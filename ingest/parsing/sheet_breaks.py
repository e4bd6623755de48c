"""Line breaks inside spreadsheet cells, which unstructured hands over as backslash-n.

``partition_xlsx`` renders each sheet with pandas' ``to_html``, which escapes a
cell's tab, line feed and carriage return as the two characters ``\\t``,
``\\n``, ``\\r``: a wrapped cell ("Strong growth" / "operating margin") reached
chunks and BM25 as ``growth\\noperating``. The escape cannot be undone from the
HTML alone (a cell may really hold ``C:\\new``), so the workbook's own cells are
read and only text that is exactly an escaped multi-line cell is given back,
with its breaks as spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Final

from kernel.documents import Element

from .tables import rows_as_text

_BREAKS: Final[str] = "\t\n\r"
_ESCAPES: Final[dict[int, str]] = {ord("\t"): r"\t", ord("\n"): r"\n", ord("\r"): r"\r"}
_ESCAPED = re.compile(r"\\[tnr]")


def unescape_cell_breaks(elements: list[Element], path: Path, fmt: str) -> list[Element]:
    """``elements`` with every table cell pandas escaped given back its breaks as spaces.

    The workbook is opened again only when some cell holds a backslash escape.
    """
    if not any(_has_escape(e) for e in elements):
        return elements
    spaced = _multiline_cells(path, fmt)
    if not spaced:
        return elements
    out = []
    for element in elements:
        if element.rows is None or not _has_escape(element):
            out.append(element)
            continue
        rows = tuple(tuple(spaced.get(cell, cell) for cell in row) for row in element.rows)
        out.append(replace(element, rows=rows, text=rows_as_text(rows)))
    return out


def _has_escape(element: Element) -> bool:
    return element.rows is not None and bool(_ESCAPED.search(element.text))


def _multiline_cells(path: Path, fmt: str) -> dict[str, str]:
    """Each multi-line cell as the table reader saw it (escaped) -> its text with spaces."""
    spaced: dict[str, str] = {}
    try:
        for value in _cell_strings(path, fmt):
            if any(ch in value for ch in _BREAKS):
                spaced[" ".join(value.translate(_ESCAPES).split())] = " ".join(value.split())
    except Exception:  # noqa: BLE001 - unstructured read the file; the escapes just stay
        return {}
    return spaced


def _cell_strings(path: Path, fmt: str) -> Iterator[str]:
    if fmt == "xls":
        import xlrd

        book = xlrd.open_workbook(str(path), on_demand=True)
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            for r in range(sheet.nrows):
                yield from _strings(sheet.row_values(r))
        return
    from openpyxl import load_workbook

    workbook = load_workbook(str(path), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                yield from _strings(row)
    finally:
        workbook.close()


def _strings(values: Iterable[object]) -> Iterator[str]:
    return (value for value in values if isinstance(value, str))
