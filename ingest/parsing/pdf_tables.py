"""Tables without ruling lines on a PDF page, found from where the words sit.

unstructured's ``fast`` strategy hands over pdfminer's text boxes, and pdfminer
cuts a table drawn without lines into one box per cell or per column: a one-page
donor list came out as 115 one-word chunks, and a statistical table as a run of
lines whose numbers had no column names. The header is gone from every chunk,
which is exactly the wrong-column reading issue 19 is about.

So each page's words are read with their positions (``pdf_words``) and a table
is looked for where the page itself shows one:

- a run of lines of three or more cells each (words set apart by more than a
  font size), at most three other lines between them, no wide vertical gap;
- columns are the x ranges the run's words cover, split by gutters that at
  most one line in ten crosses and that are wider than a word space; at least
  three columns, or it is no table. Prose covers the whole measure and a
  two-column paper has two columns, so neither qualifies;
- the header is the lines of the run above its first line holding a number,
  and the lines right above the run while each of their cells sits over one
  column; a header line with a few labels over a line with many (``Total |
  Male | Female`` over the age columns) is a group row, each label spread over
  the columns under it, and the other header lines are one row, each column's
  words joined (a label wrapped over two lines);
- it is a table only with a name over every column right of the corner and
  numbers in at least half of its (three or more, mostly filled) rows: a matrix,
  an index or the boxes of a diagram are not;
- a data line holding only a row label ends with the label of the line under it
  when that goes on in lower case ("Murder and nonnegligent" / "manslaughter
  . . . 10.0"); a line of text with no label of its own is more of the cells of
  the nearest row (a comment wrapped around the row's other cells); dot leaders
  go, and a column of lone "$" joins the amounts beside it.

A statistical table comes with its caption and notes: the line "Table 324.
Arrests by ..." right above (with its bracketed headnote, which says the numbers
are thousands) and the legend and "Source:" lines right below. The caption line
becomes a title row of the header, so every chunk names its table; the headnote
and the notes become rows of their own, kept with the table rather than left as
loose text that says "in thousands" to no number. A table that ends a page and
goes on at the top of the next without its header gets the header there too.

The table replaces the unstructured elements that held its words
(:mod:`.pdf_table_placement`); everything else on the page stays as
unstructured read it. pdfium opens the file once for the whole parse, and a
table that ends the last page of one batch of pages (:mod:`.pdf_batches`) gives
its header to the first page of the next (:class:`BorderlessTables`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from statistics import median
from types import TracebackType
from typing import Any, Final

from kernel.documents import Element

from .pdf_table_placement import match_tokens, placed
from .pdf_words import Line, Word, page_lines

Rows = tuple[tuple[str, ...], ...]

#: Words set apart by more than this share of the font size are in different cells.
_CELL_GAP: Final = 1.0
#: A gutter narrower than this share of the font size is a space between words.
_WORD_SPACE: Final = 0.5
_MIN_CELLS: Final = 3
_MIN_COLUMNS: Final = 3
_MIN_TABLE_LINES: Final = 3
#: Lines that are not rows of cells allowed between two that are (a wrapped row label,
#: a comment wrapped around a row of two cells).
_MAX_INTERRUPTION: Final = 3
#: A gap between lines wider than this many font sizes ends the table.
_MAX_LINE_GAP: Final = 3.0
#: A gutter may be crossed by this share of the run's lines (a name overflowing its column).
_GUTTER_TOLERANCE: Final = 0.1
_MIN_DATA_ROWS: Final = 3
#: Share of a table's data cells that hold something.
_MIN_FILL: Final = 0.7
#: A column holds a word in at least this share of the run's lines.
_MIN_FILLED: Final = 0.3
_MAX_CAPTION_LINES: Final = 6
#: Lines a running head or foot may take at the top or bottom of a page.
_RUNNING_LINES: Final = 3
_MAX_NOTE_LINES: Final = 6

_LEADER = re.compile(r"^[.·…_]+$")
_NUMERIC = re.compile(
    r"^[(\[]?[-+–—$€£%]?\s*[\d][\d.,/\-\s]*%?[)\]]?$|^[–—-]$|^\(?[XxNA/]{1,3}\)?$"
)
_CAPTION = re.compile(r"^(?:Table|TABLE|Tabla|Tableau|Tabelle)\s+[\w.-]+")
_NOTE = re.compile(r"^(?:Source|Sources|Note|Notes|Fuente|Quelle)s?\s*:", re.IGNORECASE)
_SIGN = re.compile(r"^[$€£¥%]$")
_CJK_SENTENCE_END = re.compile(r"[。！？][」』）]*$")


@dataclass(frozen=True, slots=True)
class PdfTable:
    """A table read from a page: rows, how many lead as header, and its words for matching."""

    rows: Rows
    header_rows: int
    tokens: tuple[str, ...]
    columns: tuple[_Column, ...] = ()
    #: It ends the page (at most a running footer under it): the next page may go on with it.
    ends_page: bool = False


@dataclass(frozen=True, slots=True)
class _Column:
    x0: float
    x1: float

    @property
    def middle(self) -> float:
        return (self.x0 + self.x1) / 2


class BorderlessTables:
    """The borderless tables of one PDF, put in place batch after batch of its pages.

    pdfium opens the file once for the whole parse rather than once a batch (58
    times for a 1,158-page manual), and the table that ended the last page read
    is kept from one batch to the next, so a table going on from page 20 onto
    page 21 gets its header there as it does inside a batch. Close it (or use it
    in a ``with``) to let pdfium go. A PDF pdfium cannot open, or a page it
    cannot read, is left as unstructured read it.
    """

    def __init__(self, data: bytes) -> None:
        import pypdfium2 as pdfium

        try:
            self._document: Any = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            self._document = None
        self._carried: PdfTable | None = None
        self._previous: int | None = None

    def __enter__(self) -> BorderlessTables:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._document is not None:
            self._document.close()
            self._document = None

    def into(self, pages: dict[int, list[Element]]) -> dict[int, list[Element]]:
        """``pages`` with each table found on a page put in place of the elements it holds.

        The pages come in order from one call to the next; a page that does not
        follow the one read before starts with no table carried over.
        """
        if self._document is None:
            return pages
        out = dict(pages)
        for number in sorted(pages):
            if self._previous is None or number != self._previous + 1:
                self._carried = None
            self._previous = number
            self._carried = self._page_into(out, number)
        return out

    def _page_into(self, pages: dict[int, list[Element]], number: int) -> PdfTable | None:
        """Put page ``number``'s tables in place; returns the last (the next page may go on)."""
        import pypdfium2 as pdfium

        if not _may_hold_table(pages[number]) or number > len(self._document):
            return None
        try:
            lines = page_lines(self._document, number - 1)
        except pdfium.PdfiumError:
            return None
        carried = self._carried if self._carried and self._carried.ends_page else None
        tables = find_tables(lines, carried)
        for table in tables:
            pages[number] = placed(pages[number], table, number)
        return tables[-1] if tables else None


def with_borderless_tables(
    pages: dict[int, list[Element]], data: bytes
) -> dict[int, list[Element]]:
    """``pages`` with their tables in place, pdfium opened for just this call."""
    with BorderlessTables(data) as tables:
        return tables.into(pages)


def _may_hold_table(elements: Sequence[Element]) -> bool:
    """Cheap first look: some text and no table read already (then pdfium is not asked)."""
    return any(e.kind != "table" and e.text.strip() for e in elements) and not any(
        e.kind == "table" for e in elements
    )


def find_tables(lines: Sequence[Line], carried: PdfTable | None = None) -> list[PdfTable]:
    """The tables without ruling lines among a page's lines (top to bottom).

    ``carried`` is the table that ended the page before: a run at the top of
    this page with its columns and no header of its own goes on with it.
    """
    cleaned = [_without_leaders(line) for line in lines]
    tables: list[PdfTable] = []
    start = 0
    end = -1
    while (run := _run_from(cleaned, start)) is not None:
        first, last, count = run
        may_continue = carried if not tables and first <= _RUNNING_LINES else None
        found = (
            _table(cleaned, first, last, floor=start, tokens_from=lines, carried=may_continue)
            if count >= _MIN_TABLE_LINES
            else None
        )
        if found is None:
            start = last + 1
            continue
        tables.append(found[0])
        start = end = found[1]
        start += 1
    if tables and end >= len(lines) - 1 - _RUNNING_LINES:
        tables[-1] = replace(tables[-1], ends_page=True)
    return tables


def _without_leaders(line: Line) -> Line:
    """The line without its dot leaders, and without the one dot a label ran into them with."""
    words: list[Word] = []
    for word in line.words:
        if _LEADER.match(word.text):
            if words and words[-1].text.endswith("."):
                last = words[-1]
                words[-1] = Word(last.text[:-1], last.x0, last.x1)
            continue
        words.append(word)
    return Line(tuple(w for w in words if w.text), line.baseline, line.size)


def _cells(line: Line) -> list[list[Word]]:
    """The line's words grouped where the gap between them is wider than a cell gap."""
    groups: list[list[Word]] = []
    for word in line.words:
        if groups and word.x0 - groups[-1][-1].x1 <= _CELL_GAP * line.size:
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def _is_row_of_cells(line: Line) -> bool:
    return len(_cells(line)) >= _MIN_CELLS


def _close(upper: Line, lower: Line) -> bool:
    return upper.baseline - lower.baseline <= _MAX_LINE_GAP * max(upper.size, lower.size)


def _run_from(lines: Sequence[Line], start: int) -> tuple[int, int, int] | None:
    """First and last index, and how many rows of cells, of the next run from ``start``."""
    first = next((i for i in range(start, len(lines)) if _is_row_of_cells(lines[i])), None)
    if first is None:
        return None
    last, count = first, 1
    for i in range(first + 1, len(lines)):
        if not _close(lines[i - 1], lines[i]) or not lines[i].words:
            break
        if _is_row_of_cells(lines[i]):
            last, count = i, count + 1
        elif i - last > _MAX_INTERRUPTION:
            break
    return first, last, count


def _columns(lines: Sequence[Line]) -> list[_Column]:
    """Column ranges: the x ranges covered by the lines' words, between shared gutters."""
    x0 = int(min(line.x0 for line in lines))
    x1 = int(max(line.x1 for line in lines)) + 1
    cover = [0] * (x1 - x0 + 1)
    for line in lines:
        for word in line.words:
            for x in range(int(word.x0) - x0, int(word.x1) - x0 + 1):
                cover[x] += 1
    allowed = int(len(lines) * _GUTTER_TOLERANCE)
    columns: list[_Column] = []
    open_at: int | None = None
    for offset, count in enumerate([*cover, 0]):
        if count > allowed and open_at is None:
            open_at = offset
        elif count <= allowed and open_at is not None:
            columns.append(_Column(x0 + open_at, x0 + offset))
            open_at = None
    return _without_sparse(_without_narrow_gutters(columns, lines), lines)


def _without_narrow_gutters(columns: list[_Column], lines: Sequence[Line]) -> list[_Column]:
    """Columns joined across a gutter as narrow as a word space: that is what it is.

    The same text in many rows ("Significantly changed the technical content.")
    puts its word spaces at the same x in every line, which reads as gutters.
    """
    gap = _WORD_SPACE * median(line.size for line in lines)
    joined = columns[:1]
    for column in columns[1:]:
        if column.x0 - joined[-1].x1 < gap:
            joined[-1] = _Column(joined[-1].x0, column.x1)
        else:
            joined.append(column)
    return joined


def _without_sparse(columns: list[_Column], lines: Sequence[Line]) -> list[_Column]:
    """Columns with words in few lines joined to the one on their left.

    The longest row labels reach past where most end, which opens a gutter
    inside the label column; a real column has a value in most rows.
    """
    merged = list(columns)
    index = 1
    while index < len(merged):
        filled = sum(
            1 for line in lines if any(_column_of(word, merged) == index for word in line.words)
        )
        if filled < _MIN_FILLED * len(lines):
            merged[index - 1 : index + 1] = [_Column(merged[index - 1].x0, merged[index].x1)]
        else:
            index += 1
    return merged


def _column_of(word: Word, columns: Sequence[_Column]) -> int:
    for index, column in enumerate(columns):
        if column.x0 <= word.middle <= column.x1:
            return index
    return min(
        range(len(columns)),
        key=lambda i: min(abs(word.middle - columns[i].x0), abs(word.middle - columns[i].x1)),
    )


def _is_row_by_columns(line: Line, columns: Sequence[_Column]) -> bool:
    """Words in three columns or more, each over one: a row whose cells almost touch.

    A row of wide values ("default" in every column) leaves gaps too narrow to
    split cells by, but its words still sit inside the columns above; a line of
    prose under the table runs words across the gutters.
    """
    used: set[int] = set()
    for word in line.words:
        over = [i for i, c in enumerate(columns) if word.x0 < c.x1 and word.x1 > c.x0]
        if len(over) != 1:
            return False
        used.add(over[0])
    return len(used) >= _MIN_CELLS


def _wraps_last_row(line: Line, columns: Sequence[_Column]) -> bool:
    """Text under the last row, clear of the label column: the rest of a wrapped cell."""
    row = _row(line, columns)
    return _fits(line, columns, strict=False) and _continues_cells(row)


def _fits(line: Line, columns: Sequence[_Column], *, strict: bool = True) -> bool:
    """Each cell of the line sits over one column or a gutter: a label, not prose.

    Above the table (``strict``) a cell may pass its column's edges by a few font
    sizes (a label wider than the numbers under it, a group label set further
    left than the row labels under it: a balance sheet's "資産の部" over
    "流動資産" over "現金及び預金"), not run on across the gutter: that is a
    headnote. A line with one label over each column right of the corner is
    column names, however far the labels reach into the gutters (period names
    centred over right-aligned amounts). A line ending a Japanese sentence
    (``。``) is the paragraph above, not a label. Inside the table, a wrapped row
    label may reach into the gutter as long as it stays clear of the next column.
    """
    slack = 4 * line.size
    outside = line.x0 < columns[0].x0 - slack or line.x1 > columns[-1].x1 + line.size
    if strict and (outside or _CJK_SENTENCE_END.search(line.text)):
        return False
    cells = _cells(line)
    names_columns = strict and _names_each_value_column(cells, columns)
    for cell in cells:
        x0, x1 = cell[0].x0, cell[-1].x1
        over = [c for c in columns if x0 < c.x1 and x1 > c.x0]
        if len(over) > 1:
            return False
        beyond = bool(over) and (x0 < over[0].x0 - slack or x1 > over[0].x1 + slack)
        if strict and beyond and not names_columns:
            return False
    return True


def _names_each_value_column(cells: Sequence[Sequence[Word]], columns: Sequence[_Column]) -> bool:
    """One cell over each column right of the corner, in order, and over no other."""
    if len(cells) != len(columns) - 1:
        return False
    for cell, column in zip(cells, columns[1:], strict=True):
        over = [c for c in columns if cell[0].x0 < c.x1 and cell[-1].x1 > c.x0]
        if over != [column]:
            return False
    return True


def _row(line: Line, columns: Sequence[_Column]) -> list[str]:
    cells: list[list[str]] = [[] for _ in columns]
    for word in line.words:
        cells[_column_of(word, columns)].append(word.text)
    return [" ".join(cell) for cell in cells]


def _is_numeric(cell: str) -> bool:
    return bool(cell) and bool(_NUMERIC.match(cell))


def _table(
    lines: Sequence[Line],
    first: int,
    last: int,
    *,
    floor: int,
    tokens_from: Sequence[Line],
    carried: PdfTable | None = None,
) -> tuple[PdfTable, int] | None:
    """The table on lines ``first`` to ``last`` (a run), and the index of its last line.

    ``tokens_from`` are the lines as read, dot leaders included, to match the
    elements unstructured made of them. With ``carried`` (the table that ended
    the page before), a run with no header of its own whose columns are that
    table's is its continuation and gets its header.
    """
    body = [lines[i] for i in range(first, last + 1) if _is_row_of_cells(lines[i])]
    columns = _columns(body)
    if len(columns) < _MIN_COLUMNS:
        return None
    # Lines inside the run that are not rows of cells must fit the columns (a wrapped label).
    if not all(
        _is_row_of_cells(lines[i]) or _fits(lines[i], columns, strict=False)
        for i in range(first, last + 1)
    ):
        return None
    while last + 1 < len(lines) and _close(lines[last], lines[last + 1]):
        below = lines[last + 1]
        if not (_is_row_by_columns(below, columns) or _wraps_last_row(below, columns)):
            break
        last += 1
    top = first
    while (
        top - 1 >= floor and _close(lines[top - 1], lines[top]) and _fits(lines[top - 1], columns)
    ):
        top -= 1
    split = _split(lines, top, last, columns)
    if split is None and carried is not None and _same_columns(columns, carried.columns):
        split = _under_carried_header(lines, first, last, columns, carried)
        top = first
    if split is None:
        return None
    header, data, title_rows = split
    width = len(data[0])
    caption, headnote, caption_top = ("", [], top) if title_rows else _caption(lines, top, floor)
    notes, notes_end = _notes(lines, last)
    if caption:
        title_rows = [_noted(caption, width)]
    note_rows = [_noted(text, width) for text in [*headnote, *notes]]
    rows = tuple(
        tuple(row)
        for row in [
            *title_rows,
            *header,
            *note_rows[: len(headnote)],
            *data,
            *note_rows[len(headnote) :],
        ]
    )
    words = [w.text for i in range(caption_top, notes_end + 1) for w in tokens_from[i].words]
    tokens = tuple(t for word in words for t in match_tokens(word))
    table = PdfTable(rows, len(title_rows) + len(header), tokens, tuple(columns))
    return table, notes_end


Split = tuple[list[list[str]], list[list[str]], list[list[str]]]


def _split(lines: Sequence[Line], top: int, last: int, columns: Sequence[_Column]) -> Split | None:
    """Header rows and data rows of lines ``top`` to ``last``; no title rows yet."""
    grid = [(lines[i], _row(lines[i], columns)) for i in range(top, last + 1)]
    data_at = next(
        (k for k, (_, row) in enumerate(grid) if any(_is_number(c) for c in row[1:])), None
    )
    if data_at is None:
        return None
    header = _header([row for _, row in grid[:data_at]], columns)
    if not header or not _names_columns(header[-1]):
        return None
    data = _data_rows([(line.baseline, row) for line, row in grid[data_at:]])
    if not _looks_like_data(data):
        return None
    joined = _with_signs_joined([*header, *data])
    return joined[: len(header)], joined[len(header) :], []


def _under_carried_header(
    lines: Sequence[Line],
    first: int,
    last: int,
    columns: Sequence[_Column],
    carried: PdfTable,
) -> Split | None:
    """The run as data rows under the header (and title rows) of the table it continues."""
    data = _data_rows(
        [(lines[i].baseline, _row(lines[i], columns)) for i in range(first, last + 1)]
    )
    if not _looks_like_data(data):
        return None
    data = _with_signs_joined(data)
    band = [list(row) for row in carried.rows[: carried.header_rows]]
    if not band or len(band[0]) != len(data[0]):
        return None
    titles = [row for row in band if row[0] and not any(row[1:])]
    return band[len(titles) :], data, titles


def _same_columns(columns: Sequence[_Column], other: Sequence[_Column]) -> bool:
    return len(columns) == len(other) and all(
        a.x0 < b.x1 and b.x0 < a.x1 for a, b in zip(columns, other, strict=True)
    )


def _names_columns(row: list[str]) -> bool:
    """A column row: a label, not a number, over every column right of the corner.

    A grid of numbers with no names over it (a matrix printed in a manual, an
    index of terms and pages) gains nothing from being a table: there is no
    header to repeat in its chunks, and it reads as well as text. Boxes of a
    diagram set side by side leave some columns unnamed.
    """
    return all(row[1:]) and not any(_is_number(cell) for cell in row if cell)


def _looks_like_data(rows: list[list[str]]) -> bool:
    """Enough rows, most cells filled, numbers beside the labels in most rows.

    A diagram (UML boxes side by side, a form) also sets words in columns, but
    leaves most of its grid empty and holds few numbers.
    """
    if len(rows) < _MIN_DATA_ROWS:
        return False
    filled = sum(1 for row in rows for cell in row if cell) / (len(rows) * len(rows[0]))
    numeric = sum(1 for row in rows if any(_is_number(cell) for cell in row[1:]))
    return filled >= _MIN_FILL and numeric * 2 >= len(rows)


def _is_number(cell: str) -> bool:
    return _is_numeric(cell) and any(ch.isdigit() for ch in cell)


def _header(rows: list[list[str]], columns: Sequence[_Column]) -> list[list[str]]:
    """The header lines as rows: group rows spread over their columns, the rest merged."""
    out: list[list[str]] = []
    pending: list[list[str]] = []
    for index, row in enumerate(rows):
        below = rows[index + 1 :]
        if _is_group_row(row, below):
            if pending:
                out.append(_merged(pending))
                pending = []
            out.append(_spread_group(row, columns))
        else:
            pending.append(row)
    if pending:
        out.append(_merged(pending))
    return out


def _with_signs_joined(rows: list[list[str]]) -> list[list[str]]:
    """A column of currency or percent signs alone joined to the amounts beside it.

    Accounting layouts set "$" flush left and the amount flush right, far enough
    apart to read as two columns; the sign belongs to the number.
    """
    if not rows:
        return rows
    signs = [
        i
        for i in range(len(rows[0]) - 1)
        if any(row[i] for row in rows) and all(not row[i] or _SIGN.match(row[i]) for row in rows)
    ]
    out = []
    for row in rows:
        cells = list(row)
        for i in reversed(signs):
            cells[i : i + 2] = [" ".join(c for c in cells[i : i + 2] if c)]
        out.append(cells)
    return out


def _is_group_row(row: list[str], below: list[list[str]]) -> bool:
    """A few labels, none side by side, over lines that fill at least twice as many columns."""
    filled = [i for i, cell in enumerate(row) if i > 0 and cell]
    most_below = max((sum(1 for cell in r[1:] if cell) for r in below), default=0)
    apart = all(b - a > 1 for a, b in pairwise(filled))
    return len(filled) >= 2 and apart and most_below >= 2 * len(filled)


def _merged(rows: list[list[str]]) -> list[str]:
    """Each column's header words, top to bottom; a label hyphenated at a line end rejoined."""
    merged = []
    for cells in zip(*rows, strict=True):
        text = ""
        for cell in filter(None, cells):
            text = f"{text}{cell}" if text.endswith("-") else f"{text} {cell}".strip()
        merged.append(text)
    return merged


def _spread_group(row: list[str], columns: Sequence[_Column]) -> list[str]:
    """Each label over the columns nearer to it than to the next label (the stub keeps its own)."""
    placed = [(columns[i].middle, cell) for i, cell in enumerate(row) if i > 0 and cell]
    spread = [row[0]]
    for column in columns[1:]:
        spread.append(min(placed, key=lambda p: abs(p[0] - column.middle))[1])
    return spread


def _data_rows(lines: list[tuple[float, list[str]]]) -> list[list[str]]:
    """Rows from the data lines (baseline, cells), wrapped labels and cells joined.

    A line holding only a row label, followed by one whose label is empty or
    starts in lower case, is the first part of that row's label ("Murder and
    nonnegligent" / "manslaughter . . . 10.0"). A line with no row label and
    only text (a comment wrapped over two lines, the row's other cells centred
    between them) goes with the nearest row, the one above on a tie.
    """
    joined: list[tuple[float, list[str]]] = []
    carry: tuple[float, str] | None = None
    for baseline, row in lines:
        if not any(row):
            continue
        if carry is not None:
            if row[0][:1].islower() or not row[0]:
                row = [f"{carry[1]} {row[0]}".strip(), *row[1:]]
            else:
                joined.append((carry[0], [carry[1], *[""] * (len(row) - 1)]))
            carry = None
        if row[0] and not any(row[1:]):
            carry = (baseline, row[0])
            continue
        joined.append((baseline, row))
    if carry is not None:
        joined.append((carry[0], [carry[1], *[""] * (len(lines[0][1]) - 1)]))
    anchors = [i for i, (_, row) in enumerate(joined) if not _continues_cells(row)]
    if not anchors:
        return [row for _, row in joined]
    parts: dict[int, list[tuple[float, list[str]]]] = {i: [joined[i]] for i in anchors}
    for index, (baseline, row) in enumerate(joined):
        if index not in parts:
            nearest = min(
                anchors,
                key=lambda a: (round(abs(joined[a][0] - baseline), 1), joined[a][0] < baseline),
            )
            parts[nearest].append((baseline, row))
    rows = []
    for anchor in anchors:
        pieces = [row for _, row in sorted(parts[anchor], key=lambda part: -part[0])]
        rows.append(
            [" ".join(cell for cell in cells if cell) for cells in zip(*pieces, strict=True)]
        )
    return rows


def _continues_cells(row: list[str]) -> bool:
    """Text rather than numbers, and no row label of its own (none, or one going on in
    lower case): more lines of the cells of a row."""
    filled = [cell for cell in row[1:] if cell]
    return (
        (not row[0] or row[0][:1].islower())
        and bool(filled)
        and not any(_is_number(cell) for cell in row if cell)
    )


def _noted(text: str, width: int) -> list[str]:
    """A row of one value in the corner: a title row in the header, a note among the rows."""
    return [text, *[""] * (width - 1)]


def _caption(lines: Sequence[Line], top: int, floor: int) -> tuple[str, list[str], int]:
    """The "Table N. ..." line right above the table and the headnote lines under it."""
    start = top
    for k in range(top - 1, max(floor, top - _MAX_CAPTION_LINES) - 1, -1):
        if not _close(lines[k], lines[k + 1]):
            break
        if _CAPTION.match(lines[k].text):
            start = k
            break
    if start == top:
        return "", [], top
    headnote = " ".join(lines[k].text for k in range(start + 1, top))
    return lines[start].text, [headnote] if headnote else [], start


def _notes(lines: Sequence[Line], last: int) -> tuple[list[str], int]:
    """The legend and "Source:" lines right below the table, in the notes' own size."""
    end = last
    block: list[str] = []
    for k in range(last + 1, min(len(lines), last + 1 + _MAX_NOTE_LINES)):
        line = lines[k]
        if not _close(lines[k - 1], line) or _CAPTION.match(line.text) or _is_row_of_cells(line):
            break
        if block and abs(line.size - lines[k - 1].size) > 0.15 * line.size:
            break
        block.append(line.text)
        end = k
    if not any(_NOTE.match(text) for text in block):
        return [], last
    return [" ".join(block)], end
