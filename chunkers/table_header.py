"""Which leading rows of a table are its header band: the one rule, for parsers and chunkers.

Real tables rarely open with one tidy row of column names. An annual report's
table or a finance spreadsheet opens with a band such as::

    Segment analysis            <- a title row: one value, spread or alone
                | 2023 | 2022   <- the column row, its corner cell blank
                | $m   | $m     <- a unit row

and the data rows under it mean nothing without the years: a chunk that carries
"Retail | 1,204 | 1,117" but no "2023 | 2022" invites the wrong column. So the
band, not just the first row, is what every chunk of the table repeats.

The band is read from the top, at most :data:`MAX_BAND_ROWS` rows, always
leaving a data row under it:

- title rows (a value in the corner, the rest blank or the same merged value)
  count only when a column row follows them;
- the column row opens the band: every filled cell a label (text, a year or
  period, a unit; not a number), at least two distinct values unless they are
  all years or units ("", "$m", "$m"), and at most half of the cells right of
  the corner blank;
- rows after it continue the band while they are labels too and either hold
  only years, periods and units, or leave the corner blank, or repeat the
  corner above (a merged corner spread down). A data row has a row label in its
  corner and numbers beside it, so the band stops there; so does a row of text
  with its own label (the first record of a list of names).

A band of title rows alone is no header: they may be the first records.

Spreadsheets often carry free-text notes above the table: a few rows with gaps
("Lots of people | | | some notes") and then a full row of column names, every
cell a distinct label, with a data row under it (more than half filled, a
number among its cells). Such a full column row, with only rows with gaps above
it, opens the band there, the notes above included: they are the table's
caption, and a note row must never pass for the column row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

MAX_BAND_ROWS: Final = 6

_NUMBER = re.compile(r"^\(?[\s$€£¥+-]*[\d.,]+\s*%?\)?$")
_PERIOD = re.compile(
    r"^(?:(?:FY|CY|[HQ][1-4])\s*)?'?(?:19|20)\d{2}(?:\s*[/-]\s*\d{2,4})?"
    r"(?:\s*\((?:restated|unaudited|audited)\))?\s*\**$",
    re.IGNORECASE,
)
_UNIT = re.compile(r"^\(?\s*[$€£¥]?\s*'?0{3}s?\s*\)?$")


def header_band(rows: Sequence[Sequence[str]], *, marked: int = 0) -> int:
    """How many leading rows of ``rows`` form the header band (0 for none).

    ``marked`` rows at the top are header rows whatever they hold (``<th>``
    markup, or a parser that already knows); the band may go on below them, and
    when they are title rows only, the column row may still follow.
    """
    cells = [[cell.strip() for cell in row] for row in rows[: max(marked, MAX_BAND_ROWS) + 1]]
    under_notes = _column_row_under_notes(cells)
    if under_notes is not None and under_notes + 1 >= marked:
        return _continued(cells, under_notes + 1)
    band = known = min(marked, len(rows))
    opened = any(not is_title_row(row) for row in cells[:band])
    last = min(len(rows) - 1, MAX_BAND_ROWS)
    while band < last:
        row = cells[band]
        if opened and _continues_band(row, cells[band - 1]):
            band += 1
        elif not opened and _opens_band(row):
            band, opened = band + 1, True
        elif not opened and is_title_row(row):
            band += 1
        else:
            break
    return band if opened else known


def note_rows(rows: Sequence[Sequence[str]]) -> int:
    """How many free-text note rows open the band above its column row (0 for none).

    They are a caption, read as words: their cells' positions mean nothing.
    """
    cells = [[cell.strip() for cell in row] for row in rows[: MAX_BAND_ROWS + 1]]
    return _column_row_under_notes(cells) or 0


def _column_row_under_notes(cells: list[list[str]]) -> int | None:
    """The index of a full column row that only sparse note rows precede, if any."""
    for index, row in enumerate(cells[: min(len(cells) - 1, MAX_BAND_ROWS)]):
        if _is_full_label_row(row):
            return index if index > 0 and _is_data_row(cells[index + 1], len(row)) else None
        if all(row):
            return None
    return None


def _continued(cells: list[list[str]], band: int) -> int:
    last = min(len(cells) - 1, MAX_BAND_ROWS)
    while band < last and _continues_band(cells[band], cells[band - 1]):
        band += 1
    return band


def _is_full_label_row(row: list[str]) -> bool:
    return len(row) > 1 and all(row) and _all_labels(row) and len(set(row)) == len(row)


def _is_data_row(row: list[str], width: int) -> bool:
    filled = [cell for cell in row if cell]
    return len(filled) * 2 > width and not _all_labels(filled)


def is_title_row(row: Sequence[str]) -> bool:
    """One value in the corner, alone or spread over the row (a merged title cell).

    A unit row ("", "$m", "$m") has one value too, but not in the corner.
    """
    values = {cell.strip() for cell in row if cell.strip()}
    return len(row) > 1 and bool(row[0].strip()) and values == {row[0].strip()}


def _opens_band(row: list[str]) -> bool:
    filled = [cell for cell in row if cell]
    right = row[1:]
    return (
        _all_labels(filled)
        and (len(set(filled)) >= 2 or all(_is_period_or_unit(cell) for cell in filled))
        and sum(1 for cell in right if cell) * 2 >= len(right)
    )


def _continues_band(row: list[str], above: list[str]) -> bool:
    filled = [cell for cell in row if cell]
    if not _all_labels(filled):
        return False
    corner = row[0] if row else ""
    spread_corner = bool(corner) and bool(above) and corner == above[0]
    return all(_is_period_or_unit(cell) for cell in filled) or not corner or spread_corner


def _all_labels(filled: list[str]) -> bool:
    return bool(filled) and all(_is_period_or_unit(c) or not _NUMBER.match(c) for c in filled)


def _is_period_or_unit(cell: str) -> bool:
    if _PERIOD.match(cell) or _UNIT.match(cell):
        return True
    return not any(ch.isdigit() for ch in cell) and len(cell) <= 4 and not cell.isalpha()
