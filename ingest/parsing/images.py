"""Pictures (scans, photos of pages, screenshots) read by OCR, page by page.

Pillow opens every format (pi-heif adds HEIC); each page (a TIFF's frames; the
first frame of an animation, since its other frames repeat it) is turned
upright from its EXIF orientation, as phones store photos sideways, put in a
mode tesseract reads as a person sees it (:mod:`.image_modes`: a fax's 1-bit
pixels, 16-bit greyscale, transparency) and written as a PNG, with the scan's
DPI, to the scratch folder for tesseract (:mod:`.ocr`). The pixel count is
checked from the header before anything is decoded: a small file can declare a
canvas of billions of pixels (a decompression bomb) that would take the child
down at its memory limit only after a long stall.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from kernel.documents import Element, ParsedDocument
from kernel.errors import CorruptDocumentError, EmptyDocumentError, ParseLimitError

from .formats import Format, display_name
from .image_modes import for_ocr
from .ocr import ocr_image
from .text_quality import has_text

if TYPE_CHECKING:
    from PIL.Image import Image

#: Most pixels in one page: Pillow's own decompression-bomb threshold
#: (``PIL.Image.MAX_IMAGE_PIXELS``), about a 9,500 x 9,500 picture.
MAX_IMAGE_PIXELS: Final[int] = 89_478_485
#: Most pages read from one multi-page file (a TIFF fax or scan batch).
MAX_PAGES: Final[int] = 500
#: Formats whose further frames are an animation of the first, not more pages.
_ANIMATED: Final[frozenset[Format]] = frozenset({"gif", "webp"})


def parse_image(data: bytes, fmt: Format, *, ocr: bool, languages: Sequence[str]) -> ParsedDocument:
    """Read the text on a picture, in ``languages`` (tesseract's pack names).

    Raises:
        ParseLimitError: a page over :data:`MAX_IMAGE_PIXELS`, or over :data:`MAX_PAGES` pages.
        CorruptDocumentError: Pillow (or tesseract) cannot read it.
        EmptyDocumentError: OCR finds no text, or OCR is turned off.
    """
    name = f"{display_name(fmt)} image"
    if not ocr:
        raise EmptyDocumentError(f"{name} can only be read by OCR, and OCR is turned off")
    elements: list[Element] = []
    with tempfile.TemporaryDirectory(prefix="ragline-ocr-") as tmp:
        for number, frame in enumerate(_pages(data, fmt, name), start=1):
            picture = Path(tmp) / f"page-{number}.png"
            frame.save(picture, "PNG", **_resolution(frame))
            found = ocr_image(picture, what=name, languages=languages)
            read = [e for e in found if has_text(e.text)]
            picture.unlink()
            if read and elements:
                elements.append(Element(kind="page_break", text="", page=elements[-1].page))
            elements.extend(replace(e, page=number) for e in read)
    if not elements:
        raise EmptyDocumentError(f"{name} has no text that OCR can read")
    return ParsedDocument(format=fmt, elements=tuple(elements))


def _pages(data: bytes, fmt: Format, name: str) -> Iterator[Image]:
    """Each page decoded, upright, in a mode tesseract takes; checked before decoding."""
    import io

    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    if fmt == "heic":
        import pi_heif

        pi_heif.register_heif_opener()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            frames = [image] if fmt in _ANIMATED else ImageSequence.Iterator(image)
            for index, frame in enumerate(frames):
                if index >= MAX_PAGES:
                    raise ParseLimitError(f"{name} has over {MAX_PAGES:,} pages")
                _check_pixels(frame.size, name)
                frame.load()
                yield for_ocr(ImageOps.exif_transpose(frame))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ParseLimitError(
            f"{name} has more pixels than the limit of {MAX_IMAGE_PIXELS:,} pixels"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptDocumentError(f"{name} is damaged or truncated") from exc


def _resolution(frame: Image) -> dict[str, tuple[float, float]]:
    """The scan's own DPI, kept in the PNG for tesseract: it sizes its noise filters by it."""
    dpi = frame.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2 and all(float(d) >= 1 for d in dpi):
        return {"dpi": (float(dpi[0]), float(dpi[1]))}
    return {}


def _check_pixels(size: tuple[int, int], name: str) -> None:
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise ParseLimitError(
            f"{name} is {width:,} x {height:,} pixels, over the limit of "
            f"{MAX_IMAGE_PIXELS:,} pixels (possible decompression bomb)"
        )
