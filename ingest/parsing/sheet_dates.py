"""Date cells of a spreadsheet, written as the dates they are.

``partition_xlsx`` renders each sheet through pandas, which turns a date cell into
a timestamp: a date of death reads "2016-01-10 00:00:00". The midnight is not in
the workbook (a date cell holds a day), it costs tokens in every row, and a reader
takes it for a recorded time. A cell that is exactly a timestamp at midnight is
given back as its date; any other time of day is kept.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from kernel.documents import Element

from .tables import rows_as_text

_MIDNIGHT: Final = re.compile(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$")


def dates_without_midnight(elements: list[Element]) -> list[Element]:
    """``elements`` with every table cell that is a timestamp at midnight cut to its date."""
    out = []
    for element in elements:
        if element.rows is None or " 00:00:00" not in element.text:
            out.append(element)
            continue
        rows = tuple(tuple(_MIDNIGHT.sub(r"\1", cell) for cell in row) for row in element.rows)
        out.append(replace(element, rows=rows, text=rows_as_text(rows)))
    return out
