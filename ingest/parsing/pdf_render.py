"""A PDF page drawn as a greyscale picture for tesseract, at a resolution OCR reads well.

Poppler (``pdftoppm``, through pdf2image) draws the page, honouring its
``/Rotate``. The resolution (:func:`page_dpi`):

- a page without a scan on it (text drawn as outlines, a page whose text layer
  is garbled) is drawn at 300 DPI, the resolution tesseract is tuned for: 6-point
  print still reads whole;
- a scanned page (one picture covering the page) is drawn near the scan's own
  resolution, between 200 and 300 DPI: drawing a 150 DPI JPEG scan at 300 DPI
  invents pixels and magnifies its noise (on such a test page the words read
  right fell from 97% to 87%), and 200 DPI is where unstructured drew every page;
- a page so large that it would pass :data:`MAX_RENDER_PIXELS` (a poster, an
  engineering drawing) is drawn at a lower resolution, so one page cannot take
  the parser child to its memory limit.

Greyscale: tesseract reads grey anyway, and it is a third of the memory of colour.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Final

from kernel.errors import CorruptDocumentError

#: The resolution a page without a scan is drawn at, and the most a scan is drawn at.
OCR_DPI: Final[int] = 300
#: The least a scanned page is drawn at, however coarse the scan.
MIN_SCAN_DPI: Final[int] = 200
#: Most pixels drawn for one page; US Letter at 300 DPI is 8.4 million.
MAX_RENDER_PIXELS: Final[int] = 25_000_000
#: How far a picture's shape may be from the page's for it to count as a scan of the page.
_SCAN_SHAPE_TOLERANCE: Final[float] = 0.03
_POINTS_PER_INCH: Final[float] = 72.0


def render_page(pdf: Path, number: int, dpi: int, folder: Path) -> Path:
    """Draw page ``number`` (from 1) of ``pdf`` at ``dpi`` into ``folder``; returns the picture.

    Raises:
        CorruptDocumentError: poppler cannot draw it.
    """
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError

    try:
        drawn = convert_from_path(
            pdf,
            dpi=dpi,
            first_page=number,
            last_page=number,
            output_folder=folder,
            output_file=f"page-{number}",
            fmt="ppm",  # with grayscale, a PGM: poppler writes grey PNGs as RGB
            grayscale=True,
            paths_only=True,
        )
    except (PDFPageCountError, PDFSyntaxError, PDFPopplerTimeoutError, OSError) as exc:
        raise CorruptDocumentError("PDF file could not be read by OCR") from exc
    if not drawn:
        raise CorruptDocumentError("PDF file could not be read by OCR")
    return Path(str(drawn[0]))  # paths_only: the list holds paths, not images


def page_dpi(page: Any) -> int:
    """The resolution to draw a pypdf page at for OCR (see the module's notes)."""
    width, height = (abs(float(side)) for side in (page.mediabox.width, page.mediabox.height))
    scan = _scan_dpi(page, width, height)
    dpi = OCR_DPI if scan is None else max(MIN_SCAN_DPI, min(OCR_DPI, round(scan)))
    area = (width / _POINTS_PER_INCH) * (height / _POINTS_PER_INCH)
    if area <= 0:
        return dpi
    return max(1, min(dpi, math.floor(math.sqrt(MAX_RENDER_PIXELS / area))))


def _scan_dpi(page: Any, width: float, height: float) -> float | None:
    """The resolution of the page's scan: the widest picture shaped like the page, if any."""
    if width <= 0 or height <= 0:
        return None
    best: float | None = None
    try:
        xobjects = page["/Resources"]["/XObject"]
        for reference in xobjects.values():
            xobject = reference.get_object()
            if xobject.get("/Subtype") != "/Image":
                continue
            pixels_wide, pixels_high = int(xobject["/Width"]), int(xobject["/Height"])
            if pixels_high <= 0 or not _same_shape(pixels_wide / pixels_high, width / height):
                continue
            dpi = pixels_wide / (width / _POINTS_PER_INCH)
            best = dpi if best is None else max(best, dpi)
    except Exception:  # noqa: BLE001 - no readable pictures just means no scan to match
        return None
    return best


def _same_shape(ratio: float, page_ratio: float) -> bool:
    return abs(ratio - page_ratio) <= _SCAN_SHAPE_TOLERANCE * page_ratio
