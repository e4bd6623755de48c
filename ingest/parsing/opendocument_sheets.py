"""OpenDocument spreadsheets (.ods) read from their ``content.xml``: one table per sheet.

No ODF library is installed and LibreOffice is installed without Calc (only
Writer and Impress, for .doc/.ppt), so the sheets are read here, straight from
the XML, streamed. What comes out is what an XLSX gives (``readers.read_spreadsheet``):
a ``title`` naming the sheet, then a ``table`` of every non-empty row, padded to
one width, its header judged by the same rule (``tables.looks_like_header``),
with the rows the file declares as header (``table:table-header-rows``, the
rows repeated on every printed page) counted as a ``<thead>``'s are.

ODF stores runs of identical rows and cells once with a repeat count: a sheet
formatted to its last row is one empty ``<table:table-row>`` repeated 1,048,576
times. Empty repeats are counted, never built; repeats that hold text are
built, within :data:`MAX_CELLS` for the whole file. Merged cells are spread
over the cells they cover, as in an HTML table.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Final

from kernel.documents import Element
from kernel.errors import CorruptDocumentError, ParseLimitError

from .tables import Rows, looks_like_header, rows_as_text

#: Cells built for one file (repeats that hold text included): a bound on memory
#: that real sheets stay far below (an XLSX of this size is hundreds of megabytes).
MAX_CELLS: Final[int] = 5_000_000
#: Rows or columns one merged cell may cover, as for HTML tables.
_MAX_SPAN: Final[int] = 1000

_TABLE_NS: Final = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT_NS: Final = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_OFFICE_NS: Final = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE: Final = f"{{{_TABLE_NS}}}table"
_ROW: Final = f"{{{_TABLE_NS}}}table-row"
_CELL: Final = f"{{{_TABLE_NS}}}table-cell"
_COVERED: Final = f"{{{_TABLE_NS}}}covered-table-cell"
_HEADER_ROWS: Final = f"{{{_TABLE_NS}}}table-header-rows"
_NAME: Final = f"{{{_TABLE_NS}}}name"
_ROWS_REPEATED: Final = f"{{{_TABLE_NS}}}number-rows-repeated"
_COLUMNS_REPEATED: Final = f"{{{_TABLE_NS}}}number-columns-repeated"
_COLUMNS_SPANNED: Final = f"{{{_TABLE_NS}}}number-columns-spanned"
_ROWS_SPANNED: Final = f"{{{_TABLE_NS}}}number-rows-spanned"
_PARAGRAPHS: Final = frozenset({f"{{{_TEXT_NS}}}p", f"{{{_TEXT_NS}}}h"})
_SPACE: Final = f"{{{_TEXT_NS}}}s"
_SPACE_COUNT: Final = f"{{{_TEXT_NS}}}c"
_BREAKS: Final = frozenset({f"{{{_TEXT_NS}}}tab", f"{{{_TEXT_NS}}}line-break"})
#: Comments and notes on a cell: not the cell's value (XLSX comments are not read either).
_ANNOTATION: Final = f"{{{_OFFICE_NS}}}annotation"
#: Where a cell with no paragraph keeps its value, by value type.
_VALUE_ATTRIBUTES: Final = tuple(
    f"{{{_OFFICE_NS}}}{name}"
    for name in ("string-value", "value", "date-value", "time-value", "boolean-value")
)


@dataclass(frozen=True, slots=True)
class _Span:
    """A merged cell: the rows and columns it covers (ends excluded) and its text."""

    top: int
    bottom: int
    left: int
    right: int
    text: str


@dataclass(slots=True)
class _Sheet:
    """The rows of the sheet being read, and the merged cells that still cover rows."""

    name: str
    rows: list[tuple[str, ...]] = field(default_factory=list)
    header_rows: int = 0
    row_index: int = 0  # rows seen, repeats and empty ones included
    spans: list[_Span] = field(default_factory=list)

    def covering(self, column: int) -> str:
        """The text of the merged cell that covers ``column`` of the current row, if any."""
        for span in self.spans:
            if span.top <= self.row_index < span.bottom and span.left <= column < span.right:
                return span.text
        return ""


@dataclass(slots=True)
class _Row:
    """The cells of the row being read; a run of empty cells is counted, built only
    when text follows it (a row padded to the sheet's last column costs nothing)."""

    cells: list[str] = field(default_factory=list)
    pending_empty: int = 0

    @property
    def column(self) -> int:
        return len(self.cells) + self.pending_empty


@dataclass(slots=True)
class _Budget:
    """Cells built so far for the whole file, against :data:`MAX_CELLS`."""

    cells: int = 0

    def spend(self, count: int) -> None:
        self.cells += count
        if self.cells > MAX_CELLS:
            raise ParseLimitError(
                f"ODS file holds more than {MAX_CELLS:,} cells, over the parsing limit"
            )


def ods_elements(data: bytes) -> list[Element]:
    """A ``title`` and a ``table`` per sheet holding text, in the workbook's order.

    Raises:
        CorruptDocumentError: no ``content.xml``, or XML that is not well-formed.
        ParseLimitError: the sheets hold more than :data:`MAX_CELLS` cells.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("content.xml") as content:
            sheets = list(_sheets(content))
    except KeyError as exc:
        raise CorruptDocumentError("ODS file is damaged: it has no content.xml") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CorruptDocumentError("ODS file is damaged: its content cannot be read") from exc
    elements: list[Element] = []
    for number, sheet in enumerate(sheets, start=1):
        table = _table(sheet, number)
        if table is None:
            continue
        if sheet.name:
            elements.append(Element(kind="title", text=sheet.name, page=number, level=1))
        elements.append(table)
    return elements


def _sheets(content: IO[bytes]) -> Iterator[_Sheet]:
    """Each top-level ``table:table``, read row by row as the XML streams in.

    A table inside a cell (rare in a spreadsheet) is not a sheet and is skipped.
    """
    from lxml import etree

    events = etree.iterparse(
        content,
        events=("start", "end"),
        tag=(_TABLE, _HEADER_ROWS, _ROW, _CELL, _COVERED),  # paragraphs are read with their cell
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    budget = _Budget()
    sheet: _Sheet | None = None
    row: _Row | None = None
    depth = 0
    in_header = False
    try:
        for event, node in events:
            tag = node.tag
            if event == "start":
                if tag == _TABLE:
                    depth += 1
                    if depth == 1:
                        sheet = _Sheet(name=" ".join((node.get(_NAME) or "").split()))
                elif depth == 1 and tag == _HEADER_ROWS:
                    in_header = True
                elif depth == 1 and tag == _ROW:
                    row = _Row()
                continue
            if tag == _TABLE:
                depth -= 1
                if depth == 0 and sheet is not None:
                    yield sheet
                    sheet = None
                    node.clear()
            elif depth != 1 or sheet is None:
                continue
            elif tag in (_CELL, _COVERED) and row is not None:
                _take_cell(node, sheet, row, budget)
                node.clear()
            elif tag == _ROW and row is not None:
                _take_row(node, sheet, row, budget, header=in_header)
                row = None
                _drop_read(node)
            elif tag == _HEADER_ROWS:
                in_header = False
    except etree.XMLSyntaxError as exc:
        raise CorruptDocumentError("ODS file is damaged: its content is not well-formed") from exc


def _take_cell(node: Any, sheet: _Sheet, row: _Row, budget: _Budget) -> None:
    """Add a cell to ``row``, as many times as it repeats; remember what it merges."""
    column = row.column
    text = _cell_text(node) if node.tag == _CELL else ""
    text = text or sheet.covering(column)
    repeat = _count(node.get(_COLUMNS_REPEATED), limit=MAX_CELLS + 1)
    if not text:
        row.pending_empty += repeat
        return
    budget.spend(row.pending_empty + repeat)
    row.cells.extend([""] * row.pending_empty)
    row.pending_empty = 0
    row.cells.extend([text] * repeat)
    across = _count(node.get(_COLUMNS_SPANNED), limit=_MAX_SPAN)
    down = _count(node.get(_ROWS_SPANNED), limit=_MAX_SPAN)
    if node.tag == _CELL and (across > 1 or down > 1):
        row_index = sheet.row_index
        sheet.spans.append(_Span(row_index, row_index + down, column, column + across, text))


def _take_row(node: Any, sheet: _Sheet, row: _Row, budget: _Budget, *, header: bool) -> None:
    """Keep a row that holds text, as many times as it repeats (empty ones are only counted)."""
    repeat = _count(node.get(_ROWS_REPEATED), limit=MAX_CELLS + 1)
    sheet.row_index += repeat
    sheet.spans = [span for span in sheet.spans if span.bottom > sheet.row_index]
    if not row.cells:
        return
    budget.spend(len(row.cells) * (repeat - 1))
    if header and len(sheet.rows) == sheet.header_rows:
        sheet.header_rows += repeat
    sheet.rows.extend([tuple(row.cells)] * repeat)


def _drop_read(node: Any) -> None:
    """Free a row read, and the rows before it, so a long sheet is not kept as a tree."""
    node.clear()
    parent = node.getparent()
    while parent is not None and node.getprevious() is not None:
        del parent[0]


def _cell_text(node: Any) -> str:
    """The cell as displayed: its paragraphs on one line, else its stored value."""
    parts = [_paragraph_text(child) for child in node if child.tag in _PARAGRAPHS]
    text = " ".join(" ".join(part.split()) for part in parts if part.strip())
    if text:
        return text
    for attribute in _VALUE_ATTRIBUTES:
        value = node.get(attribute)
        if value and value.strip():
            return " ".join(value.split())
    return ""


def _paragraph_text(node: Any) -> str:
    pieces: list[str] = [node.text or ""]
    for child in node:
        if child.tag == _ANNOTATION:
            pass
        elif child.tag == _SPACE:
            pieces.append(" " * _count(child.get(_SPACE_COUNT), limit=_MAX_SPAN))
        elif child.tag in _BREAKS:
            pieces.append(" ")
        else:
            pieces.append(_paragraph_text(child))
        pieces.append(child.tail or "")
    return "".join(pieces)


def _count(value: str | None, *, limit: int) -> int:
    try:
        return max(1, min(int(value or 1), limit))
    except ValueError:
        return 1


def _table(sheet: _Sheet, number: int) -> Element | None:
    rows = _rectangular(sheet.rows)
    if not rows:
        return None
    declared = min(sheet.header_rows, len(rows))
    return Element(
        kind="table",
        text=rows_as_text(rows),
        page=number,
        rows=rows,
        has_header=declared > 0 or looks_like_header(rows),
        header_rows=declared or None,
        metadata={"sheet": sheet.name} if sheet.name else {},
    )


def _rectangular(rows: list[tuple[str, ...]]) -> Rows:
    """Every row as wide as the widest, as ``tables.read_html_table`` pads them."""
    width = max((len(row) for row in rows), default=0)
    return tuple(row + ("",) * (width - len(row)) for row in rows)
