"""One reader per format family: calls unstructured and shapes its output.

Each reader takes a :class:`Source` (the bytes already read, checked and, for
text, decoded) and returns a :class:`ParsedDocument`; the parser then checks the
result is not empty and fills in a title. unstructured is imported inside the
readers, never at module import.
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel.documents import Element, ParsedDocument
from kernel.errors import (
    CorruptDocumentError,
    DocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    ParseLimitError,
)

from .convert import convert_element, convert_elements
from .delimited import delimited_elements
from .docx_header_rows import mark_docx_header_rows
from .email_message import EmailContent, header_element, read_email
from .formats import IMAGE_FORMATS, Format, display_name
from .html_breaks import split_clause_breaks, split_list_breaks
from .html_source_tables import restore_table_markup
from .images import parse_image
from .markdown import CodeBlock, split_fenced_code
from .office_convert import OfficeTarget, convert_with_libreoffice
from .opendocument_sheets import ods_elements
from .outlook import read_outlook
from .pdf import parse_pdf
from .properties import container_title, html_title
from .sheet_breaks import unescape_cell_breaks
from .sheet_dates import dates_without_midnight
from .short_line_lists import list_short_line_runs
from .slide_pictures import with_picture_slides
from .source_code import code_elements
from .structured import json_elements, jsonl_elements, xml_elements, yaml_elements
from .text_headings import mark_text_headings
from .text_layout import group_paragraphs
from .zip_archive import parse_zip

if TYPE_CHECKING:
    from pptx.presentation import Presentation as PptxPresentation

log = logging.getLogger(__name__)

_LANGUAGES = ["eng"]


@dataclass(frozen=True, slots=True)
class Source:
    """A document ready to read: its path, bytes, format and (for text formats) text."""

    path: Path
    data: bytes
    format: Format
    text: str | None
    ocr: bool
    # Tesseract's pack names OCR reads with (the operator's RAGLINE_INGEST__OCR_LANGUAGES).
    ocr_languages: tuple[str, ...]

    @property
    def name(self) -> str:
        return display_name(self.format)

    def decoded(self) -> str:
        if self.text is None:  # detection decodes every text format; a bug otherwise
            raise CorruptDocumentError(f"{self.name} file could not be decoded as text")
        return self.text


Reader = Callable[[Source], ParsedDocument]


def run_partitioner(source: Source, function: Callable[..., Any], **kwargs: Any) -> list[Any]:
    """Run an unstructured partitioner, translating its failures into document errors.

    Raises:
        ParseLimitError: it ran out of memory.
        EncryptedDocumentError: it reported a password (unstructured does for XLSX).
        CorruptDocumentError: any other failure; on a file that passed detection
            that means the file is malformed.

    The library's message (which can hold server paths and tool versions) is
    kept only as the error's cause, for the log.
    """
    try:
        return list(function(**kwargs, languages=_LANGUAGES))
    except MemoryError as exc:
        raise ParseLimitError(f"{source.name} file needs more memory than allowed") from exc
    except DocumentError:
        raise
    except Exception as exc:
        if "password" in str(exc).lower():
            raise EncryptedDocumentError(f"{source.name} file is password protected") from exc
        raise CorruptDocumentError(f"{source.name} file is damaged or truncated") from exc


def read_pdf(source: Source) -> ParsedDocument:
    return parse_pdf(source.path, source.data, ocr=source.ocr, languages=source.ocr_languages)


def read_docx(source: Source) -> ParsedDocument:
    from unstructured.partition.docx import partition_docx

    raw = run_partitioner(
        source,
        partition_docx,
        filename=str(source.path),
        include_page_breaks=True,
        infer_table_structure=True,
    )
    raw = mark_docx_header_rows(raw, source.path)
    return _document(source, convert_elements(raw), title=_zip_title(source))


def read_pptx(source: Source) -> ParsedDocument:
    """Slides in order, each followed by its speaker notes as a ``notes`` element;
    a slide that is only pictures is read by OCR (:mod:`.slide_pictures`)."""
    from unstructured.partition.pptx import partition_pptx

    raw = run_partitioner(
        source,
        partition_pptx,
        filename=str(source.path),
        include_page_breaks=True,
        include_slide_notes=False,
        infer_table_structure=True,
    )
    elements = convert_elements(raw)
    deck = _open_deck(source)
    if deck is not None:
        if source.ocr:
            elements = with_picture_slides(elements, deck, languages=source.ocr_languages)
        elements = _with_notes(elements, _slide_notes(deck))
    return _document(source, elements, title=_zip_title(source))


def _open_deck(source: Source) -> PptxPresentation | None:
    """The deck as python-pptx reads it, opened once for its notes and its pictures;
    None when python-pptx cannot (unstructured read it, and both are extras)."""
    from pptx import Presentation

    try:
        return Presentation(str(source.path))
    except Exception:  # noqa: BLE001 - notes and pictures are extra; the deck stays read
        log.warning(
            "notes and slide pictures of %s not read: python-pptx cannot open it", source.path.name
        )
        return None


def read_spreadsheet(source: Source) -> ParsedDocument:
    """One ``table`` per sheet, every row, after a ``title`` naming the sheet."""
    from unstructured.partition.xlsx import partition_xlsx

    raw = run_partitioner(
        source,
        partition_xlsx,
        filename=str(source.path),
        find_subtable=False,
        include_header=False,
        infer_table_structure=True,
    )
    elements: list[Element] = []
    for item in raw:
        table = convert_element(item)
        if table is None:
            continue
        sheet = str(getattr(item.metadata, "page_name", None) or "").strip()
        if sheet:
            elements.append(Element(kind="title", text=sheet, page=table.page, level=1))
            table = replace(table, metadata={**table.metadata, "sheet": sheet})
        elements.append(table)
    elements = dates_without_midnight(unescape_cell_breaks(elements, source.path, source.format))
    title = _zip_title(source) if source.format == "xlsx" else None
    return _document(source, elements, title=title)


def read_ods(source: Source) -> ParsedDocument:
    """One ``table`` per sheet after a ``title`` naming it, as an XLSX gives, read from the XML."""
    return _document(source, ods_elements(source.data), title=_zip_title(source))


#: Formats read as the OOXML LibreOffice converts them to, by that format's reader.
_CONVERSIONS: dict[Format, tuple[OfficeTarget, Reader]] = {
    "doc": ("docx", read_docx),
    "ppt": ("pptx", read_pptx),
    "odp": ("pptx", read_pptx),
}


def read_converted(source: Source) -> ParsedDocument:
    """DOC, PPT, ODP: converted to DOCX or PPTX by LibreOffice, then read as that format
    (Word tables' header rows, lists, slide numbers, notes), keeping the original's
    format and, for ODP, its own title (a legacy file's title comes through the conversion)."""
    target, reader = _CONVERSIONS[source.format]
    with tempfile.TemporaryDirectory() as folder:
        converted = convert_with_libreoffice(source.path, source.format, target, Path(folder))
        document = reader(replace(source, path=converted, data=converted.read_bytes()))
    return replace(document, title=_zip_title(source) or document.title)


def read_delimited(source: Source) -> ParsedDocument:
    return _document(source, delimited_elements(source.decoded(), source.format))


def read_html(source: Source) -> ParsedDocument:
    """Elements as unstructured reads them, with the page's own table markup (merged
    cells, ``<thead>``) and its runs of short lines read as lists, as in plain text."""
    text = source.decoded()
    return _document(source, _html_elements(source, text), title=html_title(text))


def _html_elements(source: Source, text: str) -> list[Element]:
    """An HTML page or mail body: one reading for both, lists and table markup alike."""
    from unstructured.partition.html import partition_html

    raw = run_partitioner(source, partition_html, text=split_list_breaks(text))
    return list_short_line_runs(convert_elements(restore_table_markup(raw, text)))


def read_markdown(source: Source) -> ParsedDocument:
    """Prose through unstructured, fenced code kept whole as ``code`` elements."""
    from unstructured.partition.md import partition_md

    elements: list[Element] = []
    for part in split_fenced_code(source.decoded()):
        if isinstance(part, CodeBlock):
            if part.code.strip():
                language = {"language": part.language} if part.language else {}
                elements.append(Element(kind="code", text=part.code, metadata=language))
        elif part.text.strip():
            elements.extend(convert_elements(run_partitioner(source, partition_md, text=part.text)))
    return _document(source, elements)


def read_rst(source: Source) -> ParsedDocument:
    from unstructured.partition.rst import partition_rst

    # Handed over as UTF-8, since the decoding was settled at detection.
    file = io.BytesIO(source.decoded().encode("utf-8"))
    return _document(source, convert_elements(run_partitioner(source, partition_rst, file=file)))


def read_text(source: Source) -> ParsedDocument:
    """Paragraphs as the text lays them out: clause lines apart, numbered headings as titles."""
    from unstructured.partition.text import partition_text

    raw = run_partitioner(
        source, partition_text, text=source.decoded(), paragraph_grouper=group_paragraphs
    )
    return _document(source, mark_text_headings(convert_elements(raw)))


def read_through_pandoc(source: Source) -> ParsedDocument:
    """RTF and EPUB as pandoc's HTML (as unstructured reads them), clause lines kept
    apart, runs of short lines read as lists (as in HTML and plain text)."""
    raw = run_partitioner(
        source, _partition_pandoc_html, filename=str(source.path), source_format=source.format
    )
    title = _zip_title(source) if source.format == "epub" else None
    return _document(source, list_short_line_runs(convert_elements(raw)), title=title)


def _partition_pandoc_html(filename: str, source_format: str, **kwargs: Any) -> list[Any]:
    """``partition_rtf``/``partition_epub`` with the HTML's line breaks before clause
    numbers and around runs of short lines made paragraphs, and pandoc's own table
    markup kept."""
    from unstructured.file_utils.file_conversion import convert_file_to_html_text_using_pandoc
    from unstructured.partition.html import partition_html

    markup = convert_file_to_html_text_using_pandoc(source_format=source_format, filename=filename)
    raw = partition_html(text=split_list_breaks(split_clause_breaks(markup)), **kwargs)
    return restore_table_markup(list(raw), markup)


def read_odt(source: Source) -> ParsedDocument:
    """ODT, through pandoc (as unstructured reads it)."""
    from unstructured.partition.odt import partition_odt

    raw = run_partitioner(source, partition_odt, filename=str(source.path))
    return _document(source, convert_elements(raw), title=_zip_title(source))


def read_eml(source: Source) -> ParsedDocument:
    """Headers as an ``email_header`` element and metadata; attachments handed back whole."""
    return _email_document(source, read_email(source.data))


def read_msg(source: Source) -> ParsedDocument:
    """An Outlook message, read as an email is (same elements, metadata and attachments)."""
    return _email_document(source, read_outlook(source.data))


def read_image(source: Source) -> ParsedDocument:
    return parse_image(source.data, source.format, ocr=source.ocr, languages=source.ocr_languages)


def read_zip(source: Source) -> ParsedDocument:
    return parse_zip(source.data)


def _email_document(source: Source, content: EmailContent) -> ParsedDocument:
    body: list[Element] = []
    if content.body.strip():
        if content.body_type == "html":
            body = _html_elements(source, content.body)
        else:
            from unstructured.partition.text import partition_text

            raw = run_partitioner(source, partition_text, text=content.body)
            body = list_short_line_runs(convert_elements(raw))
    if not body and not content.attachments:
        raise EmptyDocumentError(f"{source.name} file has no body text and no attachments")
    return ParsedDocument(
        format=source.format,
        elements=(header_element(content.metadata), *body),
        title=content.subject,
        metadata=content.metadata,
        attachments=content.attachments,
    )


def read_json(source: Source) -> ParsedDocument:
    return _document(source, json_elements(source.decoded()))


def read_xml(source: Source) -> ParsedDocument:
    return _document(source, xml_elements(source.decoded()))


def read_jsonl(source: Source) -> ParsedDocument:
    return _document(source, jsonl_elements(source.decoded()))


def read_yaml(source: Source) -> ParsedDocument:
    return _document(source, yaml_elements(source.decoded()))


def read_code(source: Source) -> ParsedDocument:
    return _document(source, code_elements(source.decoded(), source.path.name))


READERS: dict[Format, Reader] = {
    "pdf": read_pdf,
    "docx": read_docx,
    "doc": read_converted,
    "odt": read_odt,
    "ods": read_ods,
    "odp": read_converted,
    "rtf": read_through_pandoc,
    "pptx": read_pptx,
    "ppt": read_converted,
    "xlsx": read_spreadsheet,
    "xls": read_spreadsheet,
    "csv": read_delimited,
    "tsv": read_delimited,
    "html": read_html,
    "md": read_markdown,
    "rst": read_rst,
    "txt": read_text,
    "eml": read_eml,
    "epub": read_through_pandoc,
    "json": read_json,
    "xml": read_xml,
    "msg": read_msg,
    "zip": read_zip,
    **dict.fromkeys(IMAGE_FORMATS, read_image),
    "jsonl": read_jsonl,
    "yaml": read_yaml,
    "code": read_code,
}


def _document(
    source: Source, elements: Sequence[Element], *, title: str | None = None
) -> ParsedDocument:
    return ParsedDocument(format=source.format, elements=tuple(elements), title=title)


def _zip_title(source: Source) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
            return container_title(archive)
    except (zipfile.BadZipFile, OSError):
        return None


def _slide_notes(deck: PptxPresentation) -> dict[int, str]:
    """Speaker notes by slide number, read with python-pptx (unstructured mixes them into text)."""
    notes: dict[int, str] = {}
    try:
        for number, slide in enumerate(deck.slides, start=1):
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                text = slide.notes_slide.notes_text_frame.text.strip()
                if text:
                    notes[number] = text
    except Exception:  # noqa: BLE001 - notes are extra; a slide deck unstructured read stays read
        return notes
    return notes


def _with_notes(elements: list[Element], notes: dict[int, str]) -> list[Element]:
    """Put each slide's notes after that slide's last element."""
    if not notes:
        return elements
    last_index: dict[int, int] = {}
    for index, element in enumerate(elements):
        if element.page is not None and element.kind != "page_break":
            last_index[element.page] = index
    out: list[Element] = []
    pending = dict(notes)
    for index, element in enumerate(elements):
        out.append(element)
        page = element.page
        if page is not None and last_index.get(page) == index and page in pending:
            out.append(Element(kind="notes", text=pending.pop(page), page=page))
    out.extend(
        Element(kind="notes", text=text, page=page) for page, text in sorted(pending.items())
    )
    return out
