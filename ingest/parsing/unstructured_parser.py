"""The in-process parser: checks a file, detects its format, and reads it with unstructured.

Runs in whatever process calls it, with no time or memory bound; the service
uses it inside :class:`~ingest.parsing.isolated.IsolatedParser`'s child process,
which adds those. Every refusal is a :class:`~kernel.errors.DocumentError`
naming the format and the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Final

from kernel.documents import Element, ParsedDocument
from kernel.errors import CorruptDocumentError, EmptyDocumentError

from . import unstructured_runtime
from .archives import check_expansion, open_zip
from .bounded_elements import bound_elements
from .cjk_lines import join_cjk_lines
from .detect import detect
from .formats import IMAGE_FORMATS, SPREADSHEET_FORMATS, ZIP_FORMATS, display_name
from .ligatures import spell_out_ligatures
from .limits import check_file_size
from .line_hyphens import mend_line_breaks
from .ocr_languages import DEFAULT_OCR_LANGUAGES, require_ocr_languages
from .readers import READERS, Source
from .text_headings import NUMBERING_KEY
from .text_quality import unreadable_reason

#: Element kinds judged for control characters and glyph codes, not letter-spacing.
_NOT_PROSE: Final[frozenset[str]] = frozenset({"table", "code", "email_header"})


class UnstructuredParser:
    """Reads one file into a :class:`ParsedDocument` in this process.

    Args:
        max_bytes: files larger than this are refused with ``ParseLimitError``.
        ocr: read PDF pages without a usable text layer, and pictures, with tesseract.
        ocr_languages: tesseract's language packs to read with (``eng``, ``rus``).

    Raises ``ConfigurationError`` when OCR is on and a language's pack is not
    installed (see :mod:`.ocr_languages`), here rather than on every picture.

    Calls are serialised: unstructured keeps module-level caches that are not
    documented as thread-safe.
    """

    def __init__(
        self,
        max_bytes: int,
        ocr: bool = True,
        ocr_languages: Sequence[str] = DEFAULT_OCR_LANGUAGES,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if ocr:
            require_ocr_languages(ocr_languages)
        self._max_bytes = max_bytes
        self._ocr = ocr
        self._ocr_languages = tuple(ocr_languages)
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load unstructured and spaCy now instead of on the first document."""
        unstructured_runtime.warm_up()

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        """Parse ``path``; ``filename`` and ``content_type`` are hints.

        Raises:
            ParseLimitError: over ``max_bytes``, or a zip that expands too far.
            EmptyDocumentError: no text (empty file, only whitespace, scanned PDF
                that OCR could not read).
            UnsupportedFormatError, EncryptedDocumentError, CorruptDocumentError.
            OSError: ``path`` cannot be read (not a property of the document).
        """
        with self._lock:
            return self._parse(Path(path), filename or Path(path).name, content_type)

    def close(self) -> None:
        """Nothing to release in-process; present for the ``Parser`` protocol."""

    def _parse(self, path: Path, filename: str, content_type: str | None) -> ParsedDocument:
        check_file_size(path, self._max_bytes)
        data = path.read_bytes()
        if not data:
            raise EmptyDocumentError("file is empty")
        detected = detect(data, filename=filename, content_type=content_type)
        fmt = detected.format
        if fmt in ZIP_FORMATS:
            with open_zip(data, fmt) as archive:
                check_expansion(archive, len(data), fmt)
        text = detected.text.text if detected.text is not None else None
        if text is not None and not text.strip():
            raise EmptyDocumentError(f"{display_name(fmt)} file is empty (only whitespace)")
        unstructured_runtime.prepare()
        source = Source(
            path=path,
            data=data,
            format=fmt,
            text=text,
            ocr=self._ocr,
            ocr_languages=self._ocr_languages,
        )
        document = READERS[fmt](source)
        return _finished(document)


def _finished(document: ParsedDocument) -> ParsedDocument:
    """Refuse a document with nothing to index; bound its elements; fill in a title.

    The title comes from the first top heading; the bound (``bounded_elements``)
    cuts over-long paragraphs and cells so nothing downstream gets a megabyte.
    Ligatures of a PDF's text layer are spelled out, words a PDF or a scan
    hyphenated at a line end made whole, and Chinese and Japanese paragraphs cut
    into lines joined (:mod:`.ligatures`, :mod:`.line_hyphens`, :mod:`.cjk_lines`),
    first, so the title and the bound see the words as written.
    """
    if document.format == "pdf" or document.format in IMAGE_FORMATS:
        elements = join_cjk_lines(mend_line_breaks(spell_out_ligatures(document.elements)))
        document = replace(document, elements=tuple(elements))
    has_content = any(e.text.strip() for e in document.elements) or document.attachments
    if not has_content:
        raise EmptyDocumentError(f"{display_name(document.format)} file has no text to index")
    _refuse_unreadable(document)
    document = replace(document, elements=tuple(bound_elements(document.elements)))
    if document.title is None and document.format not in SPREADSHEET_FORMATS:
        heading = _opening_title(document.elements) or next(
            (e.text for e in document.elements if _names_document(e)), None
        )
        if heading:
            document = replace(document, title=" ".join(heading.split())[:300])
    return document


def _refuse_unreadable(document: ParsedDocument) -> None:
    """Fail a document whose extracted text is garbage rather than index it.

    Readers retry another path first where one exists (a PDF page goes to OCR);
    what still reads as NULs, control characters, unmapped glyph codes or
    letter-spaced words after that is refused, never marked indexed. Tables and
    code are left out of the letter-spacing test: "Y | N" cells are normal there.
    """
    texts = [e.text for e in document.elements if e.text]
    prose = [e.text for e in document.elements if e.text and e.kind not in _NOT_PROSE]
    reason = unreadable_reason("\n".join(texts), prose="\n".join(prose))
    if reason:
        raise CorruptDocumentError(f"{display_name(document.format)} file is unreadable: {reason}")


def _opening_title(elements: tuple[Element, ...]) -> str | None:
    """An unnumbered heading that opens the document names it, whatever its level.

    Plain text has no heading levels: "MASTER SERVICES AGREEMENT" on the first line
    is the title even though the parser cannot say it is a level-1 heading.
    """
    first = next((e for e in elements if e.kind not in ("header", "page_break")), None)
    if first is None or first.kind != "title" or NUMBERING_KEY in first.metadata:
        return None
    return first.text


def _names_document(element: Element) -> bool:
    """A top heading, unless it is a clause's ("1. Definitions" names a clause, not the file)."""
    return element.kind == "title" and element.level == 1 and NUMBERING_KEY not in element.metadata
