"""A PDF table drawn without ruling lines is read as a table, its header in every chunk.

The PDFs are drawn here with reportlab, each word placed where a report would set
it (amounts flush right, dot leaders after the row labels, a caption and a source
line), and read by the real parser: unstructured's fast path, then the layout
reader. Prose and a two-column page must stay text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chunking import chunks

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser
from kernel.documents import Element, ParsedDocument

pytestmark = pytest.mark.service

_DONOR_COLUMNS = (50.0, 170.0, 290.0, 380.0, 520.0)  # the last is the right edge of amounts
_DONOR_HEADER = ("Surname", "Given names", "ID number", "Date", "Amount")
_SURNAMES = ("MENA", "MOLLE", "PERAZZO", "PICARDI", "PISONI", "REMON", "SPATOLA", "TORRES")
_GIVEN = ("JUAN MARTIN", "MATIAS", "PABLO DANIEL", "FRANCO", "CARLOS", "MABEL", "ANALIA", "HUGO")


def _donor(index: int) -> tuple[str, str, str, str, str]:
    surname = f"{_SURNAMES[index % len(_SURNAMES)]} {chr(65 + index // len(_SURNAMES))}"
    return (
        surname,
        _GIVEN[index % len(_GIVEN)],
        f"{20 + index}.{100 + index:03d}.{400 + index:03d}",
        f"{1 + index % 28:02d}/10/2013",
        f"$ {5 + index % 4 * 5}.000,00",
    )


def _donor_pdf(path: Path, rows: int, *, per_page: int | None = None) -> Path:
    """The donor list; with ``per_page``, continued on further pages without the header."""
    from reportlab.lib.pagesizes import legal
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=legal)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(50, 960, "Donations received by the campaign in October, in pesos.")
    pdf.setFont("Helvetica-Bold", 10)
    y = 930.0
    for x, label in zip(_DONOR_COLUMNS[:-1], _DONOR_HEADER[:-1], strict=True):
        pdf.drawString(x, y, label)
    pdf.drawRightString(_DONOR_COLUMNS[-1], y, _DONOR_HEADER[-1])
    pdf.setFont("Helvetica", 9)
    y -= 22
    for index in range(rows):
        if per_page and index and index % per_page == 0:
            pdf.showPage()
            pdf.setFont("Helvetica", 9)
            y = 960.0
        donor = _donor(index)
        for x, cell in zip(_DONOR_COLUMNS[:-2], donor[:-1], strict=False):
            pdf.drawString(x, y, cell)
        pdf.drawString(_DONOR_COLUMNS[3], y, donor[3])
        pdf.drawString(470, y, "$")
        pdf.drawRightString(_DONOR_COLUMNS[-1], y, donor[4].removeprefix("$ "))
        y -= 14
    pdf.setFont("Helvetica", 11)
    pdf.drawString(50, y - 20, "All donations were received in cash at the party offices.")
    pdf.save()
    return path


def _statistical_pdf(path: Path) -> Path:
    """A statistical abstract's table: caption, headnote, grouped header, leaders, source."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=letter)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(50, 740, "Widget makers reported their sales for the year to the bureau.")
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(50, 700, "Table 7. Widget Sales by Region: 2024")
    pdf.setFont("Helvetica", 7)
    pdf.drawString(
        50, 690, "[In thousands of units (1,204.5 represents 1,204,500). For year ending"
    )
    pdf.drawString(50, 682, "ending December 31. Based on the annual survey of makers]")
    right_edges = (260.0, 330.0, 400.0, 470.0)
    pdf.drawCentredString(295, 668, "North")
    pdf.drawCentredString(435, 668, "South")
    pdf.drawString(50, 656, "Item")
    for edge, label in zip(right_edges, ("Retail", "Online", "Retail", "Online"), strict=True):
        pdf.drawRightString(edge, 656, label)
    rows = [
        ("Gears", ("1,204.5", "310.2", "998.1", "87.0")),
        ("Springs and", None),
        ("coils", ("64.3", "12.9", "70.8", "–")),
        ("Bolts", ("402.0", "51.5", "388.4", "40.6")),
        ("Washers", ("18.7", "2.2", "21.9", "1.4")),
    ]
    y = 644.0
    for label, values in rows:
        indent = 58 if label == "coils" else 50
        pdf.drawString(indent, y, label)
        if values is not None:
            pdf.drawString(indent + pdf.stringWidth(label, "Helvetica", 7) + 3, y, " ." * 20)
            for edge, value in zip(right_edges, values, strict=True):
                pdf.drawRightString(edge, y, value)
        y -= 10
    pdf.drawString(60, y - 4, "– Represents zero.")
    pdf.drawString(60, y - 12, "Source: Widget Bureau, Annual Survey of Makers.")
    pdf.save()
    return path


_PARAGRAPH = (
    "The committee met on the first Monday of the month to review the budget, and "
    "it agreed that the reserve should be kept at three months of running costs. "
    "Members asked for a clearer report on travel, which had grown faster than "
    "the rest of the spending, and for the figures to be shown by quarter. "
)


def _prose_pdf(path: Path, *, columns: int) -> Path:
    """Justified paragraphs over the full measure, or in two columns like a paper."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    width, height = letter
    gap = 24.0
    frame_width = (width - 100 - gap * (columns - 1)) / columns
    frames = [
        Frame(50 + i * (frame_width + gap), 50, frame_width, height - 100, id=f"c{i}")
        for i in range(columns)
    ]
    document = BaseDocTemplate(str(path), pagesize=letter)
    document.addPageTemplates([PageTemplate(id="page", frames=frames)])
    style = ParagraphStyle("body", fontName="Times-Roman", fontSize=10, leading=12, alignment=4)
    document.build([Paragraph(_PARAGRAPH * 3, style) for _ in range(6 * columns)])
    return path


def _tables(document: ParsedDocument) -> list[Element]:
    return [e for e in document.elements if e.kind == "table"]


def test_a_borderless_donor_list_is_one_table_with_its_header_row(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    document = parser.parse(_donor_pdf(tmp_path / "donors.pdf", rows=8))
    [table] = _tables(document)
    assert table.rows is not None
    assert table.rows[0] == _DONOR_HEADER
    assert table.rows[1:] == tuple(_donor(i) for i in range(8))
    assert table.header_rows == 1
    assert table.page == 1
    # The prose around it stays as it was; the cells are not also left behind as text.
    assert [e.text for e in document.elements if e.kind != "table"] == [
        "Donations received by the campaign in October, in pesos.",
        "All donations were received in cash at the party offices.",
    ]
    assert [e.kind for e in document.elements].index("table") == 1


def test_every_chunk_of_a_long_borderless_table_repeats_the_header(
    parser: IsolatedParser, tokens: TransformersTokenCounter, tmp_path: Path
) -> None:
    document = parser.parse(_donor_pdf(tmp_path / "donors.pdf", rows=60))
    drafts = [d for d in chunks(document, tokens) if "09/10/2013" in d.text or "/10/2013" in d.text]
    assert len(drafts) >= 3
    assert all(
        d.text.startswith("Surname | Given names | ID number | Date | Amount") for d in drafts
    )
    held = "\n".join(d.text for d in drafts)
    assert all(" | ".join(_donor(i)) in held for i in range(60))


def test_a_statistical_table_keeps_caption_grouped_header_wrapped_labels_and_notes(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    document = parser.parse(_statistical_pdf(tmp_path / "abstract.pdf"))
    [table] = _tables(document)
    assert table.rows is not None
    empty = ("",) * 4
    assert table.rows[:3] == (
        ("Table 7. Widget Sales by Region: 2024", *empty),
        ("", "North", "North", "South", "South"),
        ("Item", "Retail", "Online", "Retail", "Online"),
    )
    assert table.header_rows == 3
    assert table.rows[3][0].startswith("[In thousands of units (1,204.5 represents 1,204,500).")
    assert table.rows[3][1:] == empty
    assert table.rows[4:-1] == (
        ("Gears", "1,204.5", "310.2", "998.1", "87.0"),
        ("Springs and coils", "64.3", "12.9", "70.8", "–"),
        ("Bolts", "402.0", "51.5", "388.4", "40.6"),
        ("Washers", "18.7", "2.2", "21.9", "1.4"),
    )
    assert table.rows[-1] == (
        "– Represents zero. Source: Widget Bureau, Annual Survey of Makers.",
        *empty,
    )
    assert [e.text for e in document.elements if e.kind != "table"] == [
        "Widget makers reported their sales for the year to the bureau."
    ]


def test_a_table_going_on_over_the_next_page_gets_its_header_there(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    document = parser.parse(_donor_pdf(tmp_path / "donors.pdf", rows=12, per_page=7))
    first, second = _tables(document)
    assert (first.page, second.page) == (1, 2)
    assert first.rows == (_DONOR_HEADER, *(_donor(i) for i in range(7)))
    assert second.rows == (_DONOR_HEADER, *(_donor(i) for i in range(7, 12)))
    assert second.header_rows == 1


@pytest.mark.parametrize("columns", [1, 2])
def test_prose_and_a_two_column_page_stay_text(
    parser: IsolatedParser, tmp_path: Path, columns: int
) -> None:
    document = parser.parse(_prose_pdf(tmp_path / f"prose-{columns}.pdf", columns=columns))
    assert _tables(document) == []
    assert "reserve should be kept at three months" in document.text
