"""A DOC reads as the same document saved as DOCX, a PPT as the same deck saved as PPTX.

Both are converted by LibreOffice once (the parser child's own profile) and read by
the DOCX and PPTX readers: a Word table's declared header rows head every chunk,
slides are numbered in ``page``, speaker notes follow their slide, and the
title in the file's properties is kept. A damaged file is refused as corrupt
after that one run (unstructured's helper re-ran soffice about a hundred times).
The DOCX and PPTX are written with python-docx and python-pptx and saved as
DOC and PPT by LibreOffice here; the real isolated parser reads every file.
"""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from chunking import chunks
from parsing_documents import pptx_with_notes_and_table, saved_by_libreoffice

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser
from kernel.documents import ParsedDocument
from kernel.errors import CorruptDocumentError

pytestmark = pytest.mark.service

DATA_ROWS = 40
GROUP = "Segment | Revenue ($m) | Revenue ($m)"
NAMES = "Business unit | 2023 | 2022"


def unit(index: int) -> str:
    return f"Business unit {index + 1}, operating income before tax"


def word_report(path: Path) -> Path:
    """A titled report: heading, paragraph, bullets, a long table with two declared
    header rows ("Repeat as header row"), a second heading after a page break."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.core_properties.title = "Segment report 2023"
    document.add_heading("Segment information", level=1)
    document.add_paragraph("Revenue by business unit for the year, in $m.")
    document.add_paragraph("Retail volumes recovered in the second half", style="List Bullet")
    document.add_paragraph("Funding costs rose with the base rate", style="List Bullet")
    table = document.add_table(rows=2 + DATA_ROWS, cols=3)
    group, names = table.rows[0].cells, table.rows[1].cells
    group[0].text = "Segment"
    group[1].merge(group[2]).text = "Revenue ($m)"
    for cell, name in zip(names, ("Business unit", "2023", "2022"), strict=True):
        cell.text = name
    for i in range(DATA_ROWS):
        values = (unit(i), f"{2000 + 7 * i:,}", f"{1800 + 5 * i:,}")
        for cell, value in zip(table.rows[2 + i].cells, values, strict=True):
            cell.text = value
    for row in table.rows[:2]:
        mark = OxmlElement("w:tblHeader")
        mark.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(mark)
    document.add_paragraph("Figures are unaudited.").add_run().add_break(WD_BREAK.PAGE)
    document.add_heading("Outlook", level=1)
    document.add_paragraph("Management expects margins to hold in the coming year.")
    document.save(str(path))
    return path


def slide_deck(path: Path) -> Path:
    """The deck with a title in its properties and a closing third slide."""
    pptx_with_notes_and_table(path, title="Quarterly review Q3", closing_slide=True)
    return path


def slide_shape(document: ParsedDocument) -> list[tuple[str, str, int | None]]:
    body = {"text", "list_item"}
    return [("body" if e.kind in body else e.kind, e.text, e.page) for e in document.elements]


def shape(document: ParsedDocument) -> list[tuple[str, str, int | None, int | None]]:
    return [(e.kind, e.text, e.page, e.header_rows) for e in document.elements]


# "report.txt": a DOC under another name is converted from a copy named .doc, since
# LibreOffice picks its import filter by extension and fails to load it as text.
@pytest.mark.parametrize("name", ["report.doc", "report.txt"], ids=["doc", "misnamed"])
def test_a_doc_reads_as_the_same_report_saved_as_docx(
    name: str, parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    docx_path = word_report(tmp_path / "report.docx")
    legacy = tmp_path / name
    shutil.copyfile(saved_by_libreoffice(docx_path, "doc:MS Word 97", tmp_path), legacy)
    doc = parser.parse(legacy)
    assert doc.format == "doc"
    assert shape(doc) == shape(parser.parse(docx_path))
    assert doc.title == "Segment report 2023"
    assert [e.text for e in doc.elements if e.kind == "list_item"] == [
        "Retail volumes recovered in the second half",
        "Funding costs rose with the base rate",
    ]
    assert [e.text for e in doc.elements if e.kind == "title"] == [
        "Segment information",
        "Outlook",
    ]
    table = next(e for e in doc.elements if e.kind == "table")
    assert table.header_rows == 2
    assert table.rows is not None and len(table.rows) == 2 + DATA_ROWS
    drafts = [d for d in chunks(doc, tokens) if d.metadata.get("content") == "table"]
    assert len(drafts) >= 2
    assert all(d.text.splitlines()[:2] == [GROUP, NAMES] for d in drafts)
    body = [line for d in drafts for line in d.text.splitlines()[2:]]
    assert [line.split(" | ")[0] for line in body] == [unit(i) for i in range(DATA_ROWS)]


def test_a_ppt_reads_as_the_same_deck_saved_as_pptx(parser: IsolatedParser, tmp_path: Path) -> None:
    pptx_path = slide_deck(tmp_path / "deck.pptx")
    ppt = parser.parse(saved_by_libreoffice(pptx_path, "ppt:MS PowerPoint 97", tmp_path))
    assert ppt.format == "ppt"
    # LibreOffice writes the body placeholder's bullet out, so it reads as a list item
    # where python-pptx's deck gives plain text; everything else is the same.
    assert slide_shape(ppt) == slide_shape(parser.parse(pptx_path))
    assert ppt.title == "Quarterly review Q3"
    assert slide_shape(ppt) == [
        ("title", "Quarterly review", 1),
        ("body", "Revenue grew 12 percent in North Harbour", 1),
        ("notes", "Mention the weather delay", 1),
        ("page_break", "", 1),
        ("title", "Regional table", 2),
        ("table", "Region | Sales\nNorth Harbour | 120\nSouth | 95", 2),
        ("page_break", "", 2),
        ("title", "Next steps", 3),
        ("body", "Open the Bergen office in March", 3),
    ]
    table = next(e for e in ppt.elements if e.kind == "table")
    assert table.rows == (("Region", "Sales"), ("North Harbour", "120"), ("South", "95"))


def scrambled(path: Path, stream: str) -> Path:
    """``path`` with ``stream``'s bytes replaced by noise: the directory still reads,
    the format is still recognised, but LibreOffice cannot load the content."""
    import olefile

    noise = random.Random(7)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        size = ole.get_size(stream)
        ole.write_stream(stream, bytes(noise.randrange(256) for _ in range(size)))
    return path


@pytest.mark.parametrize(
    ("write", "name", "export", "stream", "message"),
    [
        (word_report, "report.docx", "doc:MS Word 97", "WordDocument", "DOC"),
        (slide_deck, "deck.pptx", "ppt:MS PowerPoint 97", "PowerPoint Document", "PPT"),
    ],
    ids=["doc", "ppt"],
)
def test_a_damaged_legacy_file_is_refused_as_corrupt(
    write: Callable[[Path], Path],
    name: str,
    export: str,
    stream: str,
    message: str,
    parser: IsolatedParser,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    damaged = scrambled(saved_by_libreoffice(write(tmp_path / name), export, tmp_path), stream)
    with (
        caplog.at_level(logging.INFO, logger="ingest.parsing.isolated"),
        pytest.raises(CorruptDocumentError) as caught,
    ):
        parser.parse(damaged)
    assert caught.value.code == "corrupt_document"
    assert caught.value.message == f"{message} file is damaged or truncated"
    assert "source file could not be loaded" in caplog.text  # what soffice said, logged only
