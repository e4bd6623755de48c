"""Every chunk of a long real-world table repeats its header band (issue 19).

Financial tables open with title rows, a blank corner cell and several header
rows ("Segment analysis" / "", "2023", "2022" / "", "$m", "$m"); none of 23
multi-chunk tables repeated them, so a continuation chunk carried figures with
no year over them and a question about 2023 was answered from the 2022 column.
Each file here is written for real (openpyxl, HTML), read by the real parser
child process and chunked with the embedding model's own tokenizer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chunking import chunks

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser
from kernel.documents import ChunkDraft, ParsedDocument

pytestmark = pytest.mark.service

SEGMENTS = ("Retail banking", "Corporate banking", "Wealth management", "Insurance")


def table_chunks(document: ParsedDocument, tokens: TransformersTokenCounter) -> list[ChunkDraft]:
    return [d for d in chunks(document, tokens) if d.metadata.get("content") == "table"]


def line_label(index: int) -> str:
    return f"{SEGMENTS[index % len(SEGMENTS)]} line {index + 1} operating income"


def segment_workbook(path: Path, data_rows: int) -> Path:
    """A sheet as finance teams write them: titles, a blank corner, year and unit rows."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Segments"
    sheet.append(["Acme Group plc"])
    sheet.append(["Segment analysis"])
    sheet.append([None, "2023", "2022"])
    sheet.append([None, "$m", "$m"])
    for i in range(data_rows):
        sheet.append([line_label(i), 2000 + 7 * i, 1000 + 3 * i])
    workbook.save(path)
    return path


def filing_html(path: Path, data_rows: int) -> Path:
    """An annual report's income statement: merged title, &nbsp; corners, no <th>."""
    body = "".join(
        f"<tr><td>{line_label(i)}</td><td>{2000 + 7 * i:,}</td><td>({1000 + 3 * i:,})</td></tr>"
        for i in range(data_rows)
    )
    path.write_text(
        "<html><body><h1>Annual report 2023</h1>"
        "<p>The group's results for the year are set out below, with the prior year.</p>"
        '<table><tr><td colspan="3">Consolidated income statement</td></tr>'
        "<tr><td>&nbsp;</td><td>2023</td><td>2022</td></tr>"
        "<tr><td>&nbsp;</td><td>$m</td><td>$m</td></tr>"
        f"{body}</table></body></html>",
        encoding="utf-8",
    )
    return path


def lines_of(draft: ChunkDraft) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")] for line in draft.text.splitlines()]


def test_every_chunk_of_a_spreadsheet_repeats_titles_years_and_units(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    document = parser.parse(segment_workbook(tmp_path / "segments.xlsx", data_rows=90))
    drafts = table_chunks(document, tokens)
    assert len(drafts) >= 3
    for draft in drafts:
        assert lines_of(draft)[:4] == [
            ["Acme Group plc"],
            ["Segment analysis"],
            ["", "2023", "2022"],
            ["", "$m", "$m"],
        ], draft.text
    data = [line for d in drafts for line in lines_of(d)[4:]]
    assert [line[0] for line in data] == [line_label(i) for i in range(90)]
    # The 2023 figure of a continuation chunk sits under the 2023 column.
    last = lines_of(drafts[-1])
    assert last[2][1] == "2023" and last[-1] == [line_label(89), str(2000 + 7 * 89), "1267"]
    assert drafts[0].metadata["rows"].startswith("1-")
    assert drafts[-1].metadata["rows"].endswith("-90")


def test_every_chunk_of_an_html_filing_table_repeats_its_band(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    document = parser.parse(filing_html(tmp_path / "annual-report.html", data_rows=85))
    drafts = table_chunks(document, tokens)
    assert len(drafts) >= 3
    for draft in drafts:
        assert lines_of(draft)[:3] == [
            ["Consolidated income statement"],
            ["", "2023", "2022"],
            ["", "$m", "$m"],
        ], draft.text
    data = [line for d in drafts for line in lines_of(d)[3:]]
    assert [line[0] for line in data] == [line_label(i) for i in range(85)]
    assert data[-1][1:] == ["2,588", "(1,252)"]


def test_a_tidy_spreadsheet_still_repeats_its_one_header_row(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Customer", "Plan", "Seats", "Renewal"])
    for i in range(120):
        sheet.append([f"Customer {i:03d} Holdings", "Team", 5 + i, f"2024-{i % 12 + 1:02d}-01"])
    path = tmp_path / "customers.xlsx"
    workbook.save(path)
    drafts = table_chunks(parser.parse(path), tokens)
    assert len(drafts) >= 3
    assert all(d.text.splitlines()[0] == "Customer | Plan | Seats | Renewal" for d in drafts)
    assert all(not d.text.splitlines()[1].startswith("Customer |") for d in drafts)
    data = [line for d in drafts for line in d.text.splitlines()[1:]]
    assert len(data) == 120 and data[0].startswith("Customer 000 Holdings | Team | 5")
