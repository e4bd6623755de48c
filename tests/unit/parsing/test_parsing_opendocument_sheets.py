"""OpenDocument spreadsheets and presentations: told apart by their ``mimetype`` member,
and sheets read from ``content.xml`` (repeats, merges, declared header rows, limits).

The files are minimal ODF zips written here: a ``mimetype`` member first, stored,
then ``content.xml`` (LibreOffice is installed without Calc, so none is converted).
"""

from __future__ import annotations

import io
import zipfile

import pytest

from chunkers.detection import detect_doc_type
from ingest.parsing.detect import detect
from ingest.parsing.opendocument_sheets import MAX_CELLS, ods_elements
from ingest.parsing.zip_archive import parse_zip
from kernel.documents import ParsedDocument
from kernel.errors import CorruptDocumentError, ParseLimitError

pytestmark = pytest.mark.unit

ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def odf(mimetype: str, body: str, *, content: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as writer:
        writer.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # stored, first
        if content:
            writer.writestr(
                "content.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NAMESPACES}>'
                f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
                "</office:document-content>",
            )
        writer.writestr("META-INF/manifest.xml", "<manifest/>")
    return buffer.getvalue()


def cell(text: str, **attributes: str) -> str:
    attrs = "".join(
        f' table:{name.replace("_", "-")}="{value}"' for name, value in attributes.items()
    )
    return f"<table:table-cell{attrs}><text:p>{text}</text:p></table:table-cell>"


def row(*cells: str, repeated: int | None = None) -> str:
    attrs = f' table:number-rows-repeated="{repeated}"' if repeated else ""
    return f"<table:table-row{attrs}>{''.join(cells)}</table:table-row>"


def sheet(name: str, *rows: str) -> str:
    return f'<table:table table:name="{name}">{"".join(rows)}</table:table>'


EMPTY_TO_THE_LAST_COLUMN = '<table:table-cell table:number-columns-repeated="16380"/>'
EMPTY_TO_THE_LAST_ROW = row(EMPTY_TO_THE_LAST_COLUMN, repeated=1_048_570)


@pytest.mark.parametrize(("mimetype", "fmt"), [(ODS, "ods"), (ODP, "odp")])
def test_a_zip_is_told_an_opendocument_by_its_mimetype_member(mimetype: str, fmt: str) -> None:
    data = odf(mimetype, "")
    assert detect(data, filename="export.zip", content_type=None).format == fmt
    assert detect(data, filename=None, content_type="application/zip").format == fmt


def test_an_ods_in_a_zip_is_a_member_document_not_more_members() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as writer:
        writer.writestr("books/pythagoras.ods", odf(ODS, sheet("Sheet1", row(cell("3")))))
    parsed = parse_zip(buffer.getvalue())
    assert [a.filename for a in parsed.attachments] == ["books/pythagoras.ods"]


def test_one_titled_table_per_sheet_and_empty_sheets_left_out() -> None:
    body = (
        sheet(
            "Revenue",
            row(cell("Region"), cell("2023"), cell("2024"), EMPTY_TO_THE_LAST_COLUMN),
            row(cell("North"), cell("1250"), cell("1300")),
            EMPTY_TO_THE_LAST_ROW,
        )
        + sheet("Empty", row(EMPTY_TO_THE_LAST_COLUMN), EMPTY_TO_THE_LAST_ROW)
        + sheet("Notes", row(cell("Audited in March")))
    )
    elements = ods_elements(odf(ODS, body))
    assert [(e.kind, e.text, e.page, e.level) for e in elements] == [
        ("title", "Revenue", 1, 1),
        ("table", "Region | 2023 | 2024\nNorth | 1250 | 1300", 1, None),
        ("title", "Notes", 3, 1),
        ("table", "Audited in March", 3, None),
    ]
    revenue = elements[1]
    assert revenue.rows == (("Region", "2023", "2024"), ("North", "1250", "1300"))
    assert revenue.has_header  # the band rule of XLSX and CSV: a year row over data
    assert revenue.header_rows is None
    assert revenue.metadata == {"sheet": "Revenue"}
    assert not elements[3].has_header


def test_repeated_rows_and_cells_with_text_are_built_empty_ones_only_counted() -> None:
    body = sheet(
        "Sheet1",
        row(cell("id"), cell("flag", number_columns_repeated="2")),
        row(cell("n/a"), cell("0", number_columns_repeated="2"), repeated=3),
        row(EMPTY_TO_THE_LAST_COLUMN, repeated=5),
        row('<table:table-cell table:number-columns-repeated="2"/>', cell("late")),
    )
    (_, table) = ods_elements(odf(ODS, body))
    assert table.rows == (
        ("id", "flag", "flag"),
        ("n/a", "0", "0"),
        ("n/a", "0", "0"),
        ("n/a", "0", "0"),
        ("", "", "late"),
    )


def test_merged_cells_are_spread_over_the_cells_they_cover() -> None:
    covered = "<table:covered-table-cell/>"
    body = sheet(
        "Sheet1",
        row(
            cell("Segment", number_rows_spanned="2"),
            cell("Revenue", number_columns_spanned="2"),
            covered,
        ),
        row(covered, cell("2023"), cell("2022")),
        row(cell("Retail"), cell("10"), cell("9")),
    )
    (_, table) = ods_elements(odf(ODS, body))
    assert table.rows == (
        ("Segment", "Revenue", "Revenue"),
        ("Segment", "2023", "2022"),
        ("Retail", "10", "9"),
    )


def test_rows_the_file_declares_as_header_are_counted() -> None:
    body = sheet(
        "Sheet1",
        "<table:table-header-rows>"
        + row(cell("Quarterly sales"))
        + row(cell("Region"), cell("Units"))
        + "</table:table-header-rows>",
        row(cell("North"), cell("12")),
    )
    (_, table) = ods_elements(odf(ODS, body))
    assert table.header_rows == 2
    assert table.has_header


def test_cell_text_is_the_displayed_text_on_one_line_without_comments() -> None:
    paragraphs = (
        '<table:table-cell><text:p>Strong<text:s text:c="3"/>growth</text:p>'
        "<text:p>operating<text:line-break/>margin</text:p>"
        "<office:annotation><text:p>check this</text:p></office:annotation></table:table-cell>"
    )
    value_only = '<table:table-cell office:value-type="float" office:value="42.5"/>'
    styled = cell('<text:span>Net</text:span> <text:a xlink:href="#">income</text:a>')
    body = sheet("Sheet1", row(paragraphs, value_only, styled.replace("xlink:href", "text:x")))
    (_, table) = ods_elements(odf(ODS, body))
    assert table.rows == (("Strong growth operating margin", "42.5", "Net income"),)


def test_text_repeated_past_the_cell_limit_is_refused() -> None:
    body = sheet("Sheet1", row(cell("x", number_columns_repeated=str(MAX_CELLS + 1))))
    with pytest.raises(ParseLimitError, match="ODS file holds more than 5,000,000 cells"):
        ods_elements(odf(ODS, body))


def test_repeated_rows_with_text_count_against_the_limit() -> None:
    body = sheet("Sheet1", row(cell("a"), cell("b"), repeated=MAX_CELLS))
    with pytest.raises(ParseLimitError, match="over the parsing limit"):
        ods_elements(odf(ODS, body))


def test_a_damaged_spreadsheet_is_corrupt() -> None:
    with pytest.raises(CorruptDocumentError, match=r"ODS file is damaged: it has no content\.xml"):
        ods_elements(odf(ODS, "", content=False))
    with pytest.raises(CorruptDocumentError, match="not well-formed"):
        ods_elements(odf(ODS, "<table:table><table:table-row>"))


@pytest.mark.parametrize(("fmt", "doc_type"), [("ods", "tables"), ("odp", "slides")])
def test_opendocument_sheets_and_decks_are_chunked_as_xlsx_and_pptx(
    fmt: str, doc_type: str
) -> None:
    assert detect_doc_type(ParsedDocument(format=fmt, elements=())) == doc_type
