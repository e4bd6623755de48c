"""The resolution a PDF page is drawn at for OCR: near a scan's own, 300 DPI otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from ingest.parsing.pdf_render import MAX_RENDER_PIXELS, OCR_DPI, page_dpi, render_page

pytestmark = pytest.mark.unit

LETTER = (612.0, 792.0)


def pdf_page(
    path: Path, *, size: tuple[float, float] = LETTER, picture: tuple[int, int] | None = None
) -> object:
    """A one-page PDF, with a grey picture of ``picture`` pixels drawn over the whole page."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=size)
    if picture is not None:
        image = Image.new("L", picture, 200)
        pdf.drawImage(ImageReader(image), 0, 0, width=size[0], height=size[1])
    else:
        pdf.drawString(72, 72, "Outlined text stands in here")
    pdf.showPage()
    pdf.save()
    return PdfReader(path).pages[0]


def test_a_page_without_a_scan_is_drawn_at_300_dpi(tmp_path: Path) -> None:
    assert page_dpi(pdf_page(tmp_path / "text.pdf")) == OCR_DPI


def test_a_coarse_scan_is_drawn_near_its_own_resolution_not_blown_up(tmp_path: Path) -> None:
    scan = pdf_page(tmp_path / "scan150.pdf", picture=(1275, 1650))  # Letter at 150 DPI
    assert page_dpi(scan) == 200


def test_a_scan_between_200_and_300_dpi_is_drawn_at_its_own(tmp_path: Path) -> None:
    scan = pdf_page(tmp_path / "scan240.pdf", picture=(2040, 2640))  # Letter at 240 DPI
    assert page_dpi(scan) == 240


def test_a_fine_scan_is_drawn_at_300_dpi(tmp_path: Path) -> None:
    assert page_dpi(pdf_page(tmp_path / "scan600.pdf", picture=(5100, 6600))) == OCR_DPI


def test_a_picture_not_shaped_like_the_page_is_no_scan(tmp_path: Path) -> None:
    # A wide banner stretched over the page: its pixels say nothing about the text.
    assert page_dpi(pdf_page(tmp_path / "banner.pdf", picture=(600, 100))) == OCR_DPI


def test_a_poster_is_drawn_within_the_pixel_limit(tmp_path: Path) -> None:
    poster = pdf_page(tmp_path / "poster.pdf", size=(36 * 72.0, 48 * 72.0))
    dpi = page_dpi(poster)
    assert dpi < OCR_DPI
    assert (36 * dpi) * (48 * dpi) <= MAX_RENDER_PIXELS


def test_a_page_is_drawn_as_a_greyscale_picture_of_its_size(tmp_path: Path) -> None:
    source = tmp_path / "text.pdf"
    pdf_page(source)
    picture = render_page(source, 1, 100, tmp_path)
    with Image.open(picture) as drawn:
        assert drawn.mode == "L"
        assert drawn.size == (850, 1100)
