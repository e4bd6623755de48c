"""An ODS reads as the same workbook saved as XLSX does, an ODP as the same deck saved as PPTX.

The real isolated parser reads both sides. The XLSX and PPTX are written with
openpyxl and python-pptx; the ODP is LibreOffice's conversion of that PPTX
(Impress is installed, for .ppt), the ODS a minimal ODF zip written here
(LibreOffice is installed without Calc).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from parsing_documents import pptx_with_notes_and_table, saved_by_libreoffice

from ingest.parsing import IsolatedParser
from kernel.documents import ParsedDocument

pytestmark = pytest.mark.service

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODP_MIMETYPE = "application/vnd.oasis.opendocument.presentation"

_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
    "<office:body><office:spreadsheet>{sheets}</office:spreadsheet></office:body>"
    "</office:document-content>"
)
WORKBOOK = {
    "Revenue": [
        ["Region", "2023", "2024"],
        ["North Harbour", "1250", "1300"],
        ["South Ridge", "980", "1010"],
    ],
    "Contacts": [["Ana Silva", "Procurement"], ["Bo Chen", "Finance"]],
}


def write_ods(path: Path, workbook: dict[str, list[list[str]]]) -> None:
    sheets = ""
    for name, rows in workbook.items():
        body = "".join(
            "<table:table-row>"
            + "".join(f"<table:table-cell><text:p>{v}</text:p></table:table-cell>" for v in row)
            + '<table:table-cell table:number-columns-repeated="1020"/></table:table-row>'
            for row in rows
        )
        body += '<table:table-row table:number-rows-repeated="1048570"><table:table-cell/>'
        body += "</table:table-row>"
        sheets += f'<table:table table:name="{name}">{body}</table:table>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as writer:
        writer.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        writer.writestr("content.xml", _CONTENT.format(sheets=sheets))
    path.write_bytes(buffer.getvalue())


def write_xlsx(path: Path, workbook: dict[str, list[list[str]]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in workbook.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append([int(v) if v.isdigit() else v for v in row])
    book.save(path)


def shape(document: ParsedDocument) -> list[tuple[str, str, int | None, object, bool]]:
    return [
        (e.kind, e.text, e.page, e.rows, e.has_header)
        for e in document.elements
        if e.kind in {"title", "table", "notes", "page_break"}
    ]


def test_an_ods_reads_as_the_same_workbook_saved_as_xlsx(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    write_ods(tmp_path / "book.ods", WORKBOOK)
    write_xlsx(tmp_path / "book.xlsx", WORKBOOK)
    ods = parser.parse(tmp_path / "book.ods")
    xlsx = parser.parse(tmp_path / "book.xlsx")
    assert ods.format == "ods"
    assert shape(ods) == shape(xlsx)
    assert [e.metadata.get("sheet") for e in ods.elements if e.kind == "table"] == [
        "Revenue",
        "Contacts",
    ]
    assert shape(ods)[1] == (
        "table",
        "Region | 2023 | 2024\nNorth Harbour | 1250 | 1300\nSouth Ridge | 980 | 1010",
        1,
        (
            ("Region", "2023", "2024"),
            ("North Harbour", "1250", "1300"),
            ("South Ridge", "980", "1010"),
        ),
        True,
    )


def test_an_odp_reads_as_the_same_deck_saved_as_pptx(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    pptx_path = pptx_with_notes_and_table(tmp_path / "deck.pptx")
    odp = parser.parse(saved_by_libreoffice(pptx_path, "odp", tmp_path), filename="deck.odp")
    pptx = parser.parse(pptx_path)
    assert odp.format == "odp"
    assert shape(odp) == shape(pptx)
    assert shape(odp) == [
        ("title", "Quarterly review", 1, None, True),
        ("notes", "Mention the weather delay", 1, None, True),
        ("page_break", "", 1, None, True),
        ("title", "Regional table", 2, None, True),
        (
            "table",
            "Region | Sales\nNorth Harbour | 120\nSouth | 95",
            2,
            (("Region", "Sales"), ("North Harbour", "120"), ("South", "95")),
            True,
        ),
    ]
    assert "Revenue grew 12 percent in North Harbour" in odp.text
    assert odp.title == "Quarterly review"


def test_a_damaged_odp_is_refused_as_corrupt(parser: IsolatedParser, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as writer:
        writer.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.presentation"
        )
        writer.writestr("content.xml", "<office:document-content")
    (tmp_path / "broken.odp").write_bytes(buffer.getvalue())
    from kernel.errors import CorruptDocumentError

    with pytest.raises(CorruptDocumentError, match="ODP file is damaged"):
        parser.parse(tmp_path / "broken.odp")
