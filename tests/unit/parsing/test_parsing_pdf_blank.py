"""Which PDF pages are spared OCR: only those that draw nothing at all.

The pages are drawn with reportlab, one kind per page, and read back with pypdf,
as the PDF reader reads them.
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from ingest.parsing.pdf_blank import draws_nothing


def _pages(path: Path) -> PdfReader:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    pdf.showPage()  # 1: nothing
    pdf.setFillColorRGB(0, 0, 0)
    pdf.translate(90, 700)
    pdf.showPage()  # 2: a colour and a move, as TeX leaves an empty verso
    pdf.drawString(72, 700, "Text")
    pdf.showPage()  # 3: text
    pdf.drawImage(ImageReader(Image.new("L", (40, 20), 0)), 72, 600)
    pdf.showPage()  # 4: a picture (a scan)
    pdf.rect(72, 600, 200, 100, stroke=1, fill=0)
    pdf.showPage()  # 5: a stroked path (text drawn as outlines is paths too)
    pdf.linkURL("https://example.org", (72, 600, 200, 620))
    pdf.showPage()  # 6: an annotation, which a renderer draws
    pdf.save()
    return PdfReader(path)


def test_only_pages_that_paint_nothing_are_blank(tmp_path: Path) -> None:
    reader = _pages(tmp_path / "kinds.pdf")
    assert [draws_nothing(reader, n) for n in range(1, 7)] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_a_page_that_cannot_be_read_goes_to_ocr(tmp_path: Path) -> None:
    reader = _pages(tmp_path / "kinds.pdf")
    assert draws_nothing(reader, 99) is False
