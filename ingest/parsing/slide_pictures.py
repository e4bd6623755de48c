"""The text of slides that are only pictures, read by OCR.

A deck often carries a slide that is one screenshot, a scanned page or a chart
exported as a picture, with no text of its own. unstructured reads shapes'
text only, so such a slide vanished from the document (no element, not even a
page break): a question about it found nothing. Here the pictures of every
slide without text are read with the same tesseract call as a picture file
(:func:`~.ocr.ocr_image`), in the slide's order, marked ``source: ocr``.

Slides with text of their own keep it alone: a logo or a photo beside the text
is decoration far more often than content, and OCR costs 0.1 to 2 s a picture.
Pictures too small to hold a line of text, too large to decode safely, or in a
format Pillow cannot read (WMF/EMF) are skipped; so is the whole step when the
operator turned OCR off. At most :data:`MAX_PICTURES` pictures are read a deck.

OCR leaves a word broken at a line end as "docu- ment"; the parser mends that only
for PDFs and pictures, so the OCR'd text of a deck is mended here
(:mod:`.line_hyphens`), with the whole deck's words as evidence.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from kernel.documents import Element
from kernel.errors import CorruptDocumentError

from .image_modes import for_ocr
from .images import MAX_IMAGE_PIXELS
from .line_hyphens import mend_line_breaks
from .ocr import ocr_image
from .text_quality import has_text

if TYPE_CHECKING:
    from pptx.presentation import Presentation as PptxPresentation

log = logging.getLogger(__name__)

#: Most pictures read by OCR in one deck; the rest of the picture-only slides stay unread.
MAX_PICTURES: Final[int] = 40
#: Smaller pictures (icons, bullets, logos) cannot hold a readable line of text.
_MIN_WIDTH: Final[int] = 120
_MIN_HEIGHT: Final[int] = 24


def with_picture_slides(
    elements: Sequence[Element], deck: PptxPresentation, *, languages: Sequence[str]
) -> list[Element]:
    """``elements`` (a deck read by unstructured, ``page`` = slide number) with the
    OCR'd text of each picture-only slide put in its place, between page breaks.

    ``deck`` is the deck python-pptx opened (the reader opens it once, for the
    speaker notes too)."""
    with_text = {e.page for e in elements if e.page is not None and e.kind != "page_break"}
    try:
        slides = list(deck.slides)
    except Exception:  # noqa: BLE001 - unstructured read the deck; its pictures are extra
        log.warning("slide pictures not read: python-pptx cannot list the slides")
        return list(elements)
    read: dict[int, list[Element]] = {}
    budget = MAX_PICTURES
    with tempfile.TemporaryDirectory(prefix="ragline-slides-") as tmp:
        for number, slide in enumerate(slides, start=1):
            if number in with_text or budget <= 0:
                continue
            for index, blob in enumerate(_picture_blobs(slide.shapes)):
                if budget <= 0:
                    break
                picture = Path(tmp) / f"slide-{number}-{index}.png"
                if not _saved_for_ocr(blob, picture):
                    continue
                budget -= 1
                found = _ocr(picture, languages)
                read.setdefault(number, []).extend(
                    Element(kind=e.kind, text=e.text, page=number, metadata=e.metadata)
                    for e in found
                    if has_text(e.text)
                )
    return _placed(list(elements), _mended(elements, read))


def _mended(
    elements: Sequence[Element], read: dict[int, list[Element]]
) -> dict[int, list[Element]]:
    """The OCR'd text with words broken at line ends made whole (:mod:`.line_hyphens`),
    on the evidence of the whole deck: the parser mends PDFs and pictures, not decks,
    and OCR leaves "docu- ment" for that rule to decide."""
    pictures = [e for found in read.values() for e in found]
    mended = iter(mend_line_breaks([*elements, *pictures])[len(elements) :])
    return {n: [next(mended) for _ in found] for n, found in read.items() if found}


def _picture_blobs(shapes: Any) -> Iterator[bytes]:
    """The image bytes of the pictures among ``shapes``, groups opened, in z-order."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE
    from pptx.shapes.picture import Picture

    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _picture_blobs(shape.shapes)
        elif isinstance(shape, Picture):
            try:
                blob = shape.image.blob
            except (AttributeError, KeyError, ValueError) as exc:  # linked, or its part missing
                log.info("a slide picture has no embedded image (%s); skipped", exc)
                continue
            yield blob


def _saved_for_ocr(blob: bytes, target: Path) -> bool:
    """Write the picture as an 8-bit PNG at ``target``; False for one not worth reading."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(blob)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return False
            if width < _MIN_WIDTH or height < _MIN_HEIGHT:
                return False
            image.seek(0)
            for_ocr(image).save(target, "PNG")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False
    return True


def _ocr(picture: Path, languages: Sequence[str]) -> list[Element]:
    try:
        return ocr_image(picture, what="slide picture", languages=languages)
    except CorruptDocumentError:
        log.info("a slide picture could not be read by OCR; the slide stays without text")
        return []


def _placed(elements: list[Element], read: dict[int, list[Element]]) -> list[Element]:
    """Each slide's OCR'd text where the slide stands, with the page breaks between slides."""
    for number in sorted(read):
        found = read[number]
        at = next(
            (
                index
                for index, element in enumerate(elements)
                if element.page is not None
                and element.page > number
                and element.kind != "page_break"
            ),
            None,
        )
        if at is None:
            tail = [Element(kind="page_break", text="", page=elements[-1].page)] if elements else []
            elements = [*elements, *tail, *found]
        else:
            elements = [
                *elements[:at],
                *found,
                Element(kind="page_break", text="", page=number),
                *elements[at:],
            ]
    return elements
