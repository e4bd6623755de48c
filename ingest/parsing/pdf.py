"""PDF: the text layer first, OCR for the pages where it is missing or garbled.

unstructured's "fast" strategy reads the text layer and says nothing when there
is none: a scanned page, or an encrypted file, simply yields no elements, and a
rotated page yields letters scattered one per word. So the file is opened with
pypdf first (damaged or password-protected files are refused with a reason),
each page's text is judged, a bad page is read again from its text layer by
pypdf, and only the pages neither reads are copied into a small PDF, drawn as
pictures (:mod:`.pdf_render`) and read by tesseract (:mod:`.ocr`, the same call
and paragraphs as for pictures), so a long document with one scanned page
does not pay OCR for every page, and one whose text layer only pypdf reads pays
OCR for none. A page that draws nothing at all (the empty back of a chapter's
last sheet) is not sent to OCR (:mod:`.pdf_blank`).

A long PDF is read a batch of pages at a time (:mod:`.pdf_batches`), its bad
pages read by OCR one at a time, and progress is reported after each batch and
each OCR page (:mod:`.progress`): the parser's time limit bounds the time
without progress, not the time of the whole document. The borderless-table
reader (:mod:`.pdf_tables`) keeps one pdfium document open over all the
batches, and a table's header across their boundaries.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from kernel.documents import Element, ParsedDocument
from kernel.errors import CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError

from . import progress
from .convert import convert_elements
from .ocr import ocr_image
from .pdf_batches import read_in_batches
from .pdf_blank import draws_nothing
from .pdf_glyphs import has_unmapped_glyphs, map_glyphs
from .pdf_render import page_dpi, render_page
from .pdf_tables import BorderlessTables
from .properties import meaningful_title
from .text_quality import has_text, is_garbled

logger = logging.getLogger(__name__)

#: Upright first; then a quarter turn each way for text running up or down the page.
_ROTATIONS = (0, 90, 270)


def parse_pdf(path: Path, data: bytes, *, ocr: bool, languages: Sequence[str]) -> ParsedDocument:
    """Read a PDF; OCR reads in ``languages`` (tesseract's pack names).

    Raises:
        EncryptedDocumentError: it needs a password.
        CorruptDocumentError: pypdf or pdfminer cannot read it.
        EmptyDocumentError: no page has usable text, even after OCR.
    """
    reader = _open(data)
    page_count = _page_count(reader)
    pages: dict[int, list[Element]] = {}
    ocr_error: CorruptDocumentError | None = None
    with BorderlessTables(data) as tables:
        for batch, read in read_in_batches(
            path, reader, page_count, partial(_read_fast, languages=languages)
        ):
            batch_pages = _by_page(read, page_count, first=batch[0])
            bad = [number for number in batch if _needs_ocr(batch_pages.get(number, []))]
            bad = _text_layer_into(batch_pages, reader, bad)
            _glyphs_into(batch_pages, reader, bad)
            pages.update(tables.into(batch_pages))
            bad = [number for number in bad if not draws_nothing(reader, number)]
            done = batch[-1] - len(bad)
            progress.report(done, page_count)
            if bad and ocr and ocr_error is None:
                ocr_error = _ocr_each(pages, reader, bad, done, page_count, languages)
            progress.report(batch[-1], page_count)
    elements = _with_page_breaks(pages)
    if not elements:
        raise EmptyDocumentError(_empty_reason(ocr=ocr, ocr_failed=ocr_error is not None)) from (
            ocr_error
        )
    return ParsedDocument(format="pdf", elements=tuple(elements), title=_title(reader))


def _open(data: bytes) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise CorruptDocumentError("PDF file is damaged or truncated") from exc
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except DependencyError:
            return reader  # an AES cipher pypdf cannot check; pdfminer will try
        except (PdfReadError, ValueError, NotImplementedError) as exc:
            raise EncryptedDocumentError("PDF is encrypted in a way that cannot be read") from exc
        if not opened:  # PasswordType.NOT_DECRYPTED == 0: an empty password does not open it
            raise EncryptedDocumentError("PDF is password-protected")
    return reader


def _page_count(reader: Any) -> int:
    from pypdf.errors import PdfReadError

    try:
        count = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise CorruptDocumentError("PDF file is damaged: its page tree is unreadable") from exc
    if count == 0:
        raise CorruptDocumentError("PDF file is damaged: it has no pages")
    return count


def _read_fast(path: Path, first_page: int, *, languages: Sequence[str]) -> list[Element]:
    return _partition(path, strategy="fast", first_page=first_page, languages=languages)


def _partition(
    path: Path, *, strategy: str, languages: Sequence[str], first_page: int = 1
) -> list[Element]:
    from unstructured.partition.pdf import partition_pdf

    try:
        raw = partition_pdf(
            filename=str(path),
            strategy=strategy,
            languages=list(languages),
            starting_page_number=first_page,
        )
    except MemoryError:
        raise
    except Exception as exc:
        raise CorruptDocumentError("PDF file could not be read") from exc
    return convert_elements(raw)


def _by_page(
    elements: list[Element], page_count: int, *, first: int = 1
) -> dict[int, list[Element]]:
    pages: dict[int, list[Element]] = defaultdict(list)
    current = first
    for element in elements:
        if element.kind == "page_break":
            continue
        if element.page is not None and 1 <= element.page <= page_count:
            current = element.page
        pages[current].append(element)
    return dict(pages)


def _page_text(elements: list[Element]) -> str:
    return "\n".join(e.text for e in elements if e.kind != "header")


def _needs_ocr(elements: list[Element]) -> bool:
    text = _page_text(elements)
    return not has_text(text) or is_garbled(text)


def _text_layer_into(pages: dict[int, list[Element]], reader: Any, bad: list[int]) -> list[int]:
    """Read with pypdf the bad pages whose text layer it can read; returns the rest for OCR.

    pdfminer (unstructured's fast path) returns nothing for some text layers that
    pypdf reads (fonts it cannot map, content in forms), and ``(cid:NN)`` codes where
    pypdf maps the glyphs; OCR is seconds per page (a 76-page report took 588 s), a
    text layer milliseconds. A page pypdf reads as garbled as pdfminer did goes on
    to OCR. Each line becomes a paragraph: pypdf keeps no paragraph breaks, and the
    chunkers pack lines into sentences' windows anyway.
    """
    remaining = []
    for number in bad:
        text = _pypdf_page_text(reader, number)
        if has_text(text) and not is_garbled(text):
            pages[number] = [
                Element(kind="text", text=line, page=number, metadata={"source": "text_layer"})
                for line in (raw.strip() for raw in text.splitlines())
                if line
            ]
        else:
            remaining.append(number)
    return remaining


def _pypdf_page_text(reader: Any, number: int) -> str:
    try:
        return str(reader.pages[number - 1].extract_text() or "")
    except Exception:  # any failure of this second path just means OCR
        logger.info("pypdf could not read the text layer of page %d", number, exc_info=True)
        return ""


def _glyphs_into(pages: dict[int, list[Element]], reader: Any, bad: list[int]) -> None:
    """Give back, from pypdf's text layer, the ``(cid:NN)`` glyphs of the pages kept."""
    for number, elements in pages.items():
        if number not in bad and has_unmapped_glyphs(elements):
            pages[number] = map_glyphs(elements, _pypdf_page_text(reader, number))


def _ocr_each(
    pages: dict[int, list[Element]],
    reader: Any,
    bad: list[int],
    done: int,
    page_count: int,
    languages: Sequence[str],
) -> CorruptDocumentError | None:
    """OCR the bad pages one at a time, reporting progress after each (a page is seconds).

    Returns the failure that stopped it: tesseract failing once (missing, or broken
    by the file) is not tried again on the document's other pages.
    """
    for number in bad:
        try:
            _ocr_into(pages, reader, [number], languages)
        except CorruptDocumentError as exc:
            logger.warning("OCR failed on page %d of %s: %r", number, bad, exc.__cause__)
            return exc
        done += 1
        progress.report(done, page_count)
    return None


def _ocr_into(
    pages: dict[int, list[Element]], reader: Any, bad: list[int], languages: Sequence[str]
) -> None:
    """Replace the bad pages' elements with what OCR reads on them.

    A page whose text layer is garbled but which OCR reads nothing from usually
    holds text running up or down the page; it is tried again turned a quarter
    each way. Pages with no text at all are not retried: most are blank or pictures.
    """
    garbled = {number for number in bad if has_text(_page_text(pages.get(number, [])))}
    remaining = bad
    for rotation in _ROTATIONS:
        read = _ocr_pages(reader, remaining, rotation, languages)
        for number, elements in read.items():
            if any(has_text(e.text) for e in elements):
                pages[number] = elements
        remaining = [n for n in remaining if n in garbled and n not in read]
        if not remaining:
            return


def _ocr_pages(
    reader: Any, numbers: list[int], rotation: int, languages: Sequence[str]
) -> dict[int, list[Element]]:
    """OCR just these pages (turned ``rotation`` degrees), copied into a temporary PDF."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    resolutions = []
    for number in numbers:
        page = writer.add_page(reader.pages[number - 1])
        resolutions.append(page_dpi(page))
        if rotation:
            page.rotate(rotation)
    read: dict[int, list[Element]] = {}
    with tempfile.TemporaryDirectory(prefix="ragline-ocr-") as tmp:
        subset = Path(tmp) / "pages.pdf"
        with subset.open("wb") as handle:
            writer.write(handle)
        for index, (number, dpi) in enumerate(zip(numbers, resolutions, strict=True), start=1):
            picture = render_page(subset, index, dpi, Path(tmp))
            elements = ocr_image(picture, what="PDF file", languages=languages, dpi=dpi)
            picture.unlink()
            text = [replace(e, page=number) for e in elements if has_text(e.text)]
            if text:
                read[number] = text
    return read


def _with_page_breaks(pages: dict[int, list[Element]]) -> list[Element]:
    out: list[Element] = []
    previous: int | None = None
    for number in sorted(pages):
        content = [e for e in pages[number] if e.text]
        if not content:
            continue
        if previous is not None:
            out.append(Element(kind="page_break", text="", page=previous))
        out.extend(content)
        previous = number
    return out


def _empty_reason(*, ocr: bool, ocr_failed: bool) -> str:
    if not ocr:
        return "PDF has no text layer and OCR is turned off"
    if ocr_failed:
        return "PDF has no text layer and OCR failed"
    return "PDF has no text layer and OCR found no text"


def _title(reader: Any) -> str | None:
    try:
        metadata = reader.metadata
        return meaningful_title(str(metadata.title)) if metadata and metadata.title else None
    except Exception:  # noqa: BLE001 - a broken info dictionary must not fail the document
        return None
