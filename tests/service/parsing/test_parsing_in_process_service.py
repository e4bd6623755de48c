"""UnstructuredParser in the test process itself: same results, and no stray warnings."""

from __future__ import annotations

from pathlib import Path

import parsing_documents as make
import pytest

from ingest.parsing import UnstructuredParser
from kernel.errors import EmptyDocumentError, ParseLimitError

pytestmark = pytest.mark.service


def test_in_process_parser_reads_markdown_and_html(tmp_path: Path) -> None:
    parser = UnstructuredParser(max_bytes=1_000_000)
    markdown = tmp_path / "readme.md"
    markdown.write_text("# Readme\n\nSome words.\n\n```sh\nmake test\n```\n")
    document = parser.parse(markdown)
    assert [(e.kind, e.text) for e in document.elements] == [
        ("title", "Readme"),
        ("text", "Some words."),
        ("code", "make test"),
    ]
    html = tmp_path / "page"  # no extension: the bytes decide
    html.write_bytes("<html><body><h2>Résumé</h2><p>très bien</p></body></html>".encode("cp1252"))
    page = parser.parse(html)
    assert page.format == "html"
    assert [(e.kind, e.level, e.text) for e in page.elements] == [
        ("title", 2, "Résumé"),
        ("text", None, "très bien"),
    ]
    parser.close()


def test_in_process_parser_applies_the_size_limit(tmp_path: Path) -> None:
    source = tmp_path / "big.txt"
    source.write_text("x" * 2_000)
    with pytest.raises(ParseLimitError):
        UnstructuredParser(max_bytes=1_000).parse(source)


def test_without_ocr_a_scanned_pdf_is_empty(tmp_path: Path) -> None:
    scan = make.scanned_pdf(tmp_path / "scan.pdf", ["Only pixels here"])
    with pytest.raises(EmptyDocumentError) as caught:
        UnstructuredParser(max_bytes=5_000_000, ocr=False).parse(scan)
    assert caught.value.message == "PDF has no text layer and OCR is turned off"
