"""A page the fast path cannot read is read from its text layer by pypdf before OCR.

No generated file makes pdfminer return nothing where pypdf reads text (real ones do:
fonts pdfminer cannot map, see issue 19), so the step is driven directly: its input
is the list of pages the fast path found bad, and its output the pages left for OCR.
"""

from __future__ import annotations

from pathlib import Path

import parsing_documents as make
import pytest
from pypdf import PdfReader

from ingest.parsing.pdf import _text_layer_into
from kernel.documents import Element

pytestmark = pytest.mark.service


def test_pages_with_a_readable_text_layer_are_read_and_not_sent_to_ocr(tmp_path: Path) -> None:
    source = make.text_pdf(
        tmp_path / "report.pdf",
        [["Revenue grew in the north", "Costs fell by four percent"], ["Outlook for next year"]],
    )
    pages: dict[int, list[Element]] = {}
    left = _text_layer_into(pages, PdfReader(source), [1, 2])
    assert left == []
    assert [(e.page, e.text) for e in pages[1]] == [
        (1, "Revenue grew in the north"),
        (1, "Costs fell by four percent"),
    ]
    assert [(e.page, e.text) for e in pages[2]] == [(2, "Outlook for next year")]
    assert all(e.metadata["source"] == "text_layer" for e in pages[1] + pages[2])


def test_a_page_without_a_text_layer_is_left_for_ocr(tmp_path: Path) -> None:
    source = make.scanned_pdf(tmp_path / "scan.pdf", ["Scanned invoice number 4711"], pages=2)
    pages: dict[int, list[Element]] = {}
    assert _text_layer_into(pages, PdfReader(source), [1, 2]) == [1, 2]
    assert pages == {}
