"""Table rules, shared by every strategy: row groups that repeat the header.

Text format (chosen so a chunk reads on its own and costs few tokens): the
header line first, then one line per row, cells joined by " | " (blank cells at
a row's end left out):

    Plan | Price | Seats
    Basic | 10 USD | 5
    Team | 25 USD | 20

"Header: value" pairs would repeat every header word on every row, spending a
large share of the window on labels. Whitespace inside a cell (line breaks of a
wrapped cell) is collapsed to single spaces so one line stays one row.

The header is the table's whole header band (``chunkers.table_header``): the
title rows, the column row and the year and unit rows under it, one line each,
a title row as its one value. So a chunk from the middle of a long financial
table still says "Segment analysis / | 2023 | 2022 / | $m | $m" above its rows.
The rows the source declares as header (``Element.header_rows``: a multi-row
``<thead>``) are always part of the band, which may go on below them.

Rows are grouped up to the target with the header's tokens reserved in every
group; each group's ``rows`` metadata gives its data rows (1-based, the header
excluded) for citations. A row too long for one chunk is cut as a last resort,
each part still under the header. A header too long to repeat (over half the
window) is kept as the table's first rows instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chunkers.base import TokenCounter
from chunkers.blocks import Block
from chunkers.budget import Budget
from chunkers.fitting import fit, split_after, words
from chunkers.packing import plan_windows
from chunkers.table_header import header_band, is_title_row, note_rows
from kernel.documents import Element

CELL_SEPARATOR = " | "
_cells = split_after(r" \| ")


def render_row(cells: Sequence[str]) -> str:
    """One row as a line; blank cells at its end are left out (a note row, a short
    record), since the cells before them keep their places."""
    values = [" ".join(cell.split()) for cell in cells]
    while len(values) > 1 and not values[-1]:
        values.pop()
    return CELL_SEPARATOR.join(values)


def _band_line(cells: Sequence[str], *, note: bool = False) -> str:
    """A header-band row as text; a title row (one merged value) is that value once.

    A note row above the column row is read as words, its blank cells dropped.
    """
    if is_title_row(cells):
        return next(" ".join(c.split()) for c in cells if c.strip())
    if note:
        return " ".join(" ".join(c.split()) for c in cells if c.strip())
    return render_row(cells)


def table_blocks(
    element: Element,
    path: tuple[str, ...],
    tokens: TokenCounter,
    budget: Budget,
    metadata: Mapping[str, str] | None = None,
) -> list[Block]:
    """Standalone blocks for a table element, each repeating the header line."""
    cells = [r for r in element.rows or () if any(c.strip() for c in r)]
    if not cells:
        return []
    declared = element.declared_header_rows
    band = header_band(cells, marked=declared) if element.has_header and declared else 0
    rows = [render_row(r) for r in cells[band:]]
    notes = note_rows(cells) if band else 0
    header = (
        "\n".join(_band_line(r, note=i < notes) for i, r in enumerate(cells[:band]))
        if band
        else None
    )
    header_tokens = tokens.count(header) if header is not None else 0
    if header is not None and (header_tokens > budget.limit // 2 or not rows):
        rows[:0] = header.split("\n")
        header, header_tokens = None, 0
    table = _Table(header, header_tokens, path, element.page, tokens, budget, metadata or {})
    return table.blocks(rows)


class _Table:
    def __init__(
        self,
        header: str | None,
        header_tokens: int,
        path: tuple[str, ...],
        page: int | None,
        tokens: TokenCounter,
        budget: Budget,
        metadata: Mapping[str, str],
    ) -> None:
        self.header = header
        self.reserve = header_tokens
        self.path = path
        self.page = page
        self.tokens = tokens
        self.budget = budget
        self.metadata = {**metadata, "content": "table"}

    def blocks(self, rows: list[str]) -> list[Block]:
        room = self.budget.limit - self.reserve
        sizes = [self.tokens.count(r) for r in rows]
        found: list[Block] = []
        pending: list[int] = []  # indices of rows that fit, waiting to be grouped
        for index, size in enumerate(sizes):
            if size <= room:
                pending.append(index)
                continue
            found.extend(self._grouped(pending, rows, sizes))
            pending = []
            found.extend(self._cut_row(index, rows[index], room))
        found.extend(self._grouped(pending, rows, sizes))
        return found

    def _grouped(self, indices: list[int], rows: list[str], sizes: list[int]) -> list[Block]:
        if not indices:
            return []
        windows = plan_windows(
            [sizes[i] for i in indices],
            target=max(1, self.budget.target - self.reserve),
            floor=self.budget.floor,
            limit=self.budget.limit - self.reserve,
        )
        found: list[Block] = []
        for start, end in windows:
            found.extend(self._verified(indices[start:end], rows, sizes))
        return found

    def _verified(self, indices: list[int], rows: list[str], sizes: list[int]) -> list[Block]:
        text = self._text("\n".join(rows[i] for i in indices))
        count = self.tokens.count(text) if len(indices) > 1 or self.header else sizes[indices[0]]
        over = count - self.budget.limit
        if over > 0 and len(indices) > 1:
            half = len(indices) // 2
            return self._verified(indices[:half], rows, sizes) + self._verified(
                indices[half:], rows, sizes
            )
        if over > 0:  # header and row did not add up: cut the row a little smaller
            room = max(1, self.budget.limit - self.reserve - over)
            return self._cut_row(indices[0], rows[indices[0]], room)
        first, last = indices[0] + 1, indices[-1] + 1
        span = str(first) if first == last else f"{first}-{last}"
        return [self._block(text, count, {"rows": span})]

    def _cut_row(self, index: int, row: str, room: int) -> list[Block]:
        target = max(1, min(room, self.budget.target - self.reserve))
        pieces = fit(row, self.tokens, limit=room, target=target, levels=(_cells, words))
        number = str(index + 1)
        found: list[Block] = []
        for part, piece in enumerate(pieces, start=1):
            text = self._text(piece.text)
            count = self.tokens.count(text) if self.header else piece.tokens
            if count > self.budget.limit:  # the header did not add up; drop it here
                text, count = piece.text, piece.tokens
            found.append(self._block(text, count, {"rows": number, "row_part": str(part)}))
        return found

    def _text(self, body: str) -> str:
        return body if self.header is None else f"{self.header}\n{body}"

    def _block(self, text: str, count: int, extra: Mapping[str, str]) -> Block:
        return Block(
            text=text,
            tokens=count,
            page=self.page,
            path=self.path,
            standalone=True,
            metadata={**self.metadata, **extra},
        )
