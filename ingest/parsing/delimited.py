"""CSV and TSV read with the standard library, as one table of every row.

Done here rather than by unstructured, whose CSV partitioner goes through pandas:
it refuses files past a cell budget, and its delimiter sniffing can keep a
semicolon file as one column. The delimiter is chosen as the candidate that cuts
the first lines into the most consistent number of fields.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Final

from kernel.documents import Element

from .formats import Format
from .tables import looks_like_header, rows_as_text

_CANDIDATES: Final[tuple[str, ...]] = (",", ";", "\t", "|")
_SAMPLE_LINES: Final[int] = 50


def delimited_elements(text: str, fmt: Format) -> list[Element]:
    """One ``table`` element holding every non-empty row, padded to the same width."""
    csv.field_size_limit(2**31 - 1)  # a long cell is content, not an attack
    delimiter = "\t" if fmt == "tsv" else choose_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [[cell.strip() for cell in row] for row in reader]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    table = tuple(tuple(row) + ("",) * (width - len(row)) for row in rows)
    return [
        Element(
            kind="table",
            text=rows_as_text(table),
            rows=table,
            has_header=looks_like_header(table),
            metadata={"delimiter": delimiter},
        )
    ]


def choose_delimiter(text: str) -> str:
    """The delimiter whose field count is the same on most sample lines (comma on a tie)."""
    sample = [line for line in text.splitlines()[:_SAMPLE_LINES] if line.strip()]
    best, best_score = ",", (0.0, 0)
    for delimiter in _CANDIDATES:
        counts = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        if not counts:
            continue
        width, seen = Counter(counts).most_common(1)[0]
        if width < 2:
            continue
        score = (seen / len(counts), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best
