"""A long PDF's borderless tables across its batches of pages, and pdfium opened once.

The PDF is read twenty pages at a time (``pdf_batches``); a table that ends page
20 and goes on at the top of page 21 without its header must still get the
header there, as it does between two pages of one batch. The PDF is drawn here
with reportlab and read by the real parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypdfium2
import pytest

from ingest.parsing import IsolatedParser, UnstructuredParser
from ingest.parsing.pdf_batches import PAGES_PER_BATCH
from kernel.documents import Element

pytestmark = pytest.mark.service

_COLUMNS = (50.0, 200.0, 330.0, 470.0)
_HEADER = ("Part number", "Supplier", "Delivered", "Unit price")
_ROWS_ON_FIRST = 8
_ROWS_ON_SECOND = 5


def _row(index: int) -> tuple[str, str, str, str]:
    suppliers = ("ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI")
    return (
        f"PN-{4100 + index}",
        suppliers[index % len(suppliers)],
        f"{1 + index % 28:02d}/03/2024",
        f"{12 + index * 3}.{index * 7 % 100:02d}",
    )


def _long_pdf(path: Path, table_page: int) -> Path:
    """Prose pages, then a table starting on ``table_page`` and going on over the next page."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=letter)
    for number in range(1, table_page):
        pdf.setFont("Helvetica", 11)
        pdf.drawString(50, 740, f"Chapter {number} describes how the stores are kept in order.")
        pdf.drawString(50, 724, "Every delivery is checked against the order before it is shelved.")
        pdf.showPage()
    pdf.setFont("Helvetica", 11)
    pdf.drawString(50, 740, "Deliveries received by the stores in March, by part number.")
    y = 710.0
    pdf.setFont("Helvetica-Bold", 10)
    for x, label in zip(_COLUMNS, _HEADER, strict=True):
        pdf.drawString(x, y, label)
    pdf.setFont("Helvetica", 9)
    for index in range(_ROWS_ON_FIRST + _ROWS_ON_SECOND):
        if index == _ROWS_ON_FIRST:
            pdf.showPage()
            pdf.setFont("Helvetica", 9)
            y = 756.0
        else:
            y -= 14
        for x, cell in zip(_COLUMNS, _row(index), strict=True):
            pdf.drawString(x, y, cell)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(50, y - 30, "Late deliveries are listed in the next chapter.")
    pdf.save()
    return path


def _tables(elements: tuple[Element, ...]) -> list[Element]:
    return [e for e in elements if e.kind == "table"]


def test_a_table_going_on_from_page_20_to_21_gets_its_header_in_the_next_batch(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    assert PAGES_PER_BATCH == 20  # page 21 is the first page of the second batch
    document = parser.parse(_long_pdf(tmp_path / "stores.pdf", table_page=20))
    first, second = _tables(document.elements)
    assert (first.page, second.page) == (20, 21)
    assert first.rows == (_HEADER, *(_row(i) for i in range(_ROWS_ON_FIRST)))
    assert second.rows == (
        _HEADER,
        *(_row(i) for i in range(_ROWS_ON_FIRST, _ROWS_ON_FIRST + _ROWS_ON_SECOND)),
    )
    assert second.header_rows == 1
    assert [e.text for e in document.elements if e.page == 21 and e.kind != "table"] == [
        "Late deliveries are listed in the next chapter."
    ]


def test_pdfium_opens_a_long_pdf_once_a_parse_and_closes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three batches of pages, one pdfium document: counted around the real class."""
    opened: list[pypdfium2.PdfDocument] = []
    closed: list[pypdfium2.PdfDocument] = []

    class Counted(pypdfium2.PdfDocument):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

        def close(self) -> None:
            closed.append(self)
            super().close()

    monkeypatch.setattr(pypdfium2, "PdfDocument", Counted)
    path = _long_pdf(tmp_path / "stores.pdf", table_page=2 * PAGES_PER_BATCH + 1)
    parser = UnstructuredParser(max_bytes=5_000_000, ocr=False)
    try:
        document = parser.parse(path)
    finally:
        parser.close()
    assert [table.page for table in _tables(document.elements)] == [41, 42]
    assert len(opened) == 1
    assert closed == opened
