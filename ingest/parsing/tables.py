"""Tables as rows of cells: read from unstructured's ``text_as_html``, rendered as text.

Chunkers get ``rows`` rather than HTML so they can repeat a header row in every
chunk of a long table. Merged cells are spread over every row and column they
cover, so each row has a value under each header. The rows the markup declares
as header (every row of a ``<thead>``, a leading row of ``<th>`` cells only) are
counted, so a two- or three-row ``<thead>`` ("Segment | Revenue | Revenue" over
"| 2023 | 2022") is repeated whole even where the band rule of
``chunkers.table_header`` would stop after its first row.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Final

from chunkers.table_header import header_band

Rows = tuple[tuple[str, ...], ...]

_MAX_SPAN: Final[int] = 1000


class _TableReader(HTMLParser):
    """Collects the cells of the outermost table; nested tables become cell text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[tuple[str, int, int]]] = []
        self.header_rows: set[int] = set()
        self._depth = 0
        self._in_thead = False
        self._row_all_th = True
        self._cell: list[str] | None = None
        self._span = (1, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            if self._depth > 1 and self._cell is not None:
                self._cell.append(" ")
            return
        if self._depth != 1:
            if tag in {"td", "th", "tr", "br", "p", "div", "li"} and self._cell is not None:
                self._cell.append(" ")
            return
        if tag == "thead":
            self._in_thead = True
        elif tag == "tr":
            self._close_cell()
            self.rows.append([])
            self._row_all_th = True
        elif tag in {"td", "th"}:
            self._close_cell()
            if not self.rows:
                self.rows.append([])
            if tag == "td":
                self._row_all_th = False
            values = dict(attrs)
            self._span = (_span(values.get("rowspan")), _span(values.get("colspan")))
            self._cell = []
        elif tag in {"br", "p", "div", "li"} and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            if self._depth == 1:
                self._close_cell()
            self._depth = max(0, self._depth - 1)
            if self._depth > 0 and self._cell is not None:
                self._cell.append(" ")
            return
        if self._depth != 1:
            return
        if tag in {"td", "th"}:
            self._close_cell()
        elif tag == "tr":
            self._close_cell()
            if self.rows and self.rows[-1] and (self._in_thead or self._row_all_th):
                self.header_rows.add(len(self.rows) - 1)
        elif tag == "thead":
            self._in_thead = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is None:
            return
        text = " ".join("".join(self._cell).split())
        self.rows[-1].append((text, *self._span))
        self._cell = None


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), _MAX_SPAN))
    except ValueError:
        return 1


@dataclass(frozen=True, slots=True)
class HtmlTable:
    """A table read from markup: its rows, whether it opens with a header, and how
    many leading rows the markup declares as header (0 when it declares none)."""

    rows: Rows
    has_header: bool
    header_rows: int


def read_html_table(html: str) -> HtmlTable:
    """The first table in ``html``: rows, header flag and declared header rows.

    Empty rows are dropped and short rows padded, so every row has the same width.
    """
    reader = _TableReader()
    reader.feed(html)
    reader.close()
    reader._close_cell()  # unclosed markup: keep the last cell
    kept = [index for index, row in enumerate(reader.rows) if row]
    grid = _expand_spans([reader.rows[index] for index in kept])
    marked = [index in reader.header_rows for index in kept]
    filled = [any(cell.strip() for cell in row) for row in grid]
    rows = _rectangular(grid)
    declared = _leading_true([mark for mark, full in zip(marked, filled, strict=True) if full])
    explicit_header = 0 in reader.header_rows and bool(reader.rows and reader.rows[0])
    return HtmlTable(rows, explicit_header or declared > 0 or looks_like_header(rows), declared)


def html_table_rows(html: str) -> tuple[Rows, bool]:
    """The rows of the first table in ``html`` and whether its first row is a header."""
    table = read_html_table(html)
    return table.rows, table.has_header


def _leading_true(flags: list[bool]) -> int:
    count = 0
    for flag in flags:
        if not flag:
            break
        count += 1
    return count


def _expand_spans(raw_rows: list[list[tuple[str, int, int]]]) -> list[list[str]]:
    """Lay out cells on a grid, repeating merged cells over the area they cover."""
    grid: list[list[str | None]] = []
    for r, raw in enumerate(raw_rows):
        while len(grid) <= r:
            grid.append([])
        col = 0
        for text, rowspan, colspan in raw:
            while col < len(grid[r]) and grid[r][col] is not None:
                col += 1
            for dr in range(rowspan):
                while len(grid) <= r + dr:
                    grid.append([])
                target = grid[r + dr]
                while len(target) < col + colspan:
                    target.append(None)
                for dc in range(colspan):
                    target[col + dc] = text
            col += colspan
    return [[cell or "" for cell in row] for row in grid[: len(raw_rows)]]


def _rectangular(grid: list[list[str]]) -> Rows:
    rows = [row for row in grid if any(cell.strip() for cell in row)]
    width = max((len(row) for row in rows), default=0)
    return tuple(tuple(row) + ("",) * (width - len(row)) for row in rows)


def looks_like_header(rows: Rows) -> bool:
    """Whether the table opens with a header band rather than data.

    Without ``<th>`` markup (DOCX, XLSX, CSV) this is the band rule of
    ``chunkers.table_header``: title rows, a column row with a blank corner,
    year and unit rows; the chunkers read the same rule to know how many rows
    to repeat.
    """
    return header_band(rows) > 0


def rows_as_text(rows: Rows) -> str:
    """A plain-text rendering (one line per row, cells separated by `` | ``) for embedding."""
    return "\n".join(" | ".join(cell for cell in row) for row in rows)
