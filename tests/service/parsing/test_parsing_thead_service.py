"""Every chunk of a long HTML table repeats every row of its ``<thead>`` (issue 19).

Filings put two or three header rows in a ``<thead>``: a grouping row with
merged cells ("Revenue" over two year columns) and a row of column names
under it. unstructured dropped the merged cells, and the band rule stopped at
a row of column names with its own corner label, so continuation chunks said
"Europe | Americas" with no "Revenue" or "Headcount" over them. Each page is
written for real, read by the real parser child process and chunked with the
embedding model's own tokenizer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chunking import chunks

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser
from kernel.documents import ChunkDraft, ParsedDocument

pytestmark = pytest.mark.service

SEGMENTS = ("Retail banking", "Corporate banking", "Wealth management", "Insurance", "Treasury")
DATA_ROWS = 48


def line_label(index: int) -> str:
    return f"{SEGMENTS[index % len(SEGMENTS)]}, business unit {index + 1}"


def body_rows() -> str:
    return "".join(
        f"<tr><td>{line_label(i)}</td><td>{2000 + 7 * i:,}</td><td>{1800 + 5 * i:,}</td>"
        f"<td>{10 + i % 9}.{i % 10}%</td><td>{9 + i % 7}.{(i + 3) % 10}%</td></tr>"
        for i in range(DATA_ROWS)
    )


def annual_report(path: Path, thead: str) -> Path:
    path.write_text(
        "<!DOCTYPE html><html><head><title>Annual report 2023</title></head><body>"
        "<h1>Annual report 2023</h1><h2>Segment information</h2>"
        "<p>The group manages its business through five operating segments. The table "
        "below sets out revenue and operating margin by business unit for the year.</p>"
        f'<table class="financial">{thead}<tbody>{body_rows()}</tbody></table>'
        "<p>Margins are stated before central costs and exceptional items.</p>"
        "</body></html>",
        encoding="utf-8",
    )
    return path


TWO_ROW_HEAD = (
    "<thead>"
    '<tr><th>Segment</th><th colspan="2">Revenue ($m)</th>'
    '<th colspan="2">Operating margin</th></tr>'
    "<tr><th>&nbsp;</th><th>2023</th><th>2022</th><th>2023</th><th>2022</th></tr>"
    "</thead>"
)
THREE_ROW_HEAD = (
    "<thead>"
    '<tr><th colspan="5">Segment results by region</th></tr>'
    '<tr><th></th><th colspan="2">Revenue ($m)</th><th colspan="2">Operating margin</th></tr>'
    "<tr><th>Business unit</th><th>Europe</th><th>Americas</th><th>Europe</th>"
    "<th>Americas</th></tr>"
    "</thead>"
)
ONE_ROW_HEAD = (
    "<thead><tr><th>Segment</th><th>Revenue 2023</th><th>Revenue 2022</th>"
    "<th>Margin 2023</th><th>Margin 2022</th></tr></thead>"
)


def table_chunks(document: ParsedDocument, tokens: TransformersTokenCounter) -> list[ChunkDraft]:
    return [d for d in chunks(document, tokens) if d.metadata.get("content") == "table"]


def assert_every_row_once_in_order(drafts: list[ChunkDraft], head_lines: int) -> None:
    labels = [line.split(" | ")[0] for d in drafts for line in d.text.splitlines()[head_lines:]]
    assert labels == [line_label(i) for i in range(DATA_ROWS)]


def test_a_two_row_thead_with_merged_cells_heads_every_chunk(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    document = parser.parse(annual_report(tmp_path / "segments.html", TWO_ROW_HEAD))
    table = next(e for e in document.elements if e.kind == "table")
    assert table.header_rows == 2
    drafts = table_chunks(document, tokens)
    assert len(drafts) >= 3
    for draft in drafts:
        assert draft.text.splitlines()[:2] == [
            "Segment | Revenue ($m) | Revenue ($m) | Operating margin | Operating margin",
            " | 2023 | 2022 | 2023 | 2022",
        ]
    assert_every_row_once_in_order(drafts, head_lines=2)


def test_a_three_row_thead_heads_every_chunk_past_the_band_rule(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    document = parser.parse(annual_report(tmp_path / "regions.html", THREE_ROW_HEAD))
    table = next(e for e in document.elements if e.kind == "table")
    assert table.header_rows == 3
    drafts = table_chunks(document, tokens)
    assert len(drafts) >= 3
    for draft in drafts:
        assert draft.text.splitlines()[:3] == [
            "Segment results by region",
            " | Revenue ($m) | Revenue ($m) | Operating margin | Operating margin",
            "Business unit | Europe | Americas | Europe | Americas",
        ]
    assert_every_row_once_in_order(drafts, head_lines=3)


def test_a_one_row_thead_still_repeats_just_that_row(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    document = parser.parse(annual_report(tmp_path / "simple.html", ONE_ROW_HEAD))
    table = next(e for e in document.elements if e.kind == "table")
    assert (table.has_header, table.header_rows) == (True, 1)
    drafts = table_chunks(document, tokens)
    assert len(drafts) >= 3
    header = "Segment | Revenue 2023 | Revenue 2022 | Margin 2023 | Margin 2022"
    assert all(d.text.splitlines()[0] == header for d in drafts)
    assert all(d.text.splitlines()[1].startswith(SEGMENTS) for d in drafts)
    assert_every_row_once_in_order(drafts, head_lines=1)


def word_report(path: Path, repeat_rows: int) -> Path:
    """A Word table whose first rows are marked "Repeat as header row" (``w:tblHeader``)."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_heading("Segment information", level=1)
    document.add_paragraph("Revenue by business unit and region for the year, in $m.")
    table = document.add_table(rows=2 + DATA_ROWS, cols=5)
    group, names = table.rows[0].cells, table.rows[1].cells
    group[0].text = "Segment"
    group[1].merge(group[2]).text = "Revenue ($m)"
    group[3].merge(group[4]).text = "Headcount"
    columns = ("Business unit", "Europe", "Americas", "Europe", "Americas")
    for cell, name in zip(names, columns, strict=True):
        cell.text = name
    for i in range(DATA_ROWS):
        values = (line_label(i), f"{2000 + 7 * i:,}", f"{1800 + 5 * i:,}", str(40 + i), str(30 + i))
        for cell, value in zip(table.rows[2 + i].cells, values, strict=True):
            cell.text = value
    for row in table.rows[:repeat_rows]:
        mark = OxmlElement("w:tblHeader")
        mark.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(mark)
    document.save(str(path))
    return path


@pytest.mark.parametrize("repeat_rows", [2, 0], ids=["declared", "undeclared"])
def test_word_header_rows_marked_to_repeat_head_every_chunk(
    repeat_rows: int, parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    document = parser.parse(word_report(tmp_path / "segments.docx", repeat_rows))
    table = next(e for e in document.elements if e.kind == "table")
    assert table.header_rows == (repeat_rows or None)
    drafts = table_chunks(document, tokens)
    assert len(drafts) >= 3
    group = "Segment | Revenue ($m) | Revenue ($m) | Headcount | Headcount"
    names = "Business unit | Europe | Americas | Europe | Americas"
    if repeat_rows:
        assert all(d.text.splitlines()[:2] == [group, names] for d in drafts)
        assert_every_row_once_in_order(drafts, head_lines=2)
    else:  # undeclared: the band rule alone keeps the grouping row only, as before
        assert all(d.text.splitlines()[0] == group for d in drafts)
        assert sum(names in d.text for d in drafts) == 1
