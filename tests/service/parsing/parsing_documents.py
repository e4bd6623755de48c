"""Small documents generated for the parser's service tests (nothing is read from ../shared)."""

from __future__ import annotations

import io
import subprocess
import zipfile
from email.message import EmailMessage
from pathlib import Path

ELF_HEADER = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00"


def text_pdf(path: Path, pages: list[list[str]], *, title: str | None = None) -> Path:
    """A PDF with a real text layer: one list of lines per page, the first line in bold."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        y = 760
        for index, line in enumerate(lines):
            pdf.setFont("Helvetica-Bold" if index == 0 else "Helvetica", 18 if index == 0 else 11)
            pdf.drawString(72, y, line)
            y -= 28
        pdf.showPage()
    pdf.save()
    return path


def scanned_pdf(path: Path, lines: list[str], *, pages: int = 1) -> Path:
    """A PDF whose pages are all the same picture of text: no text layer at all."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=64)
    for index, line in enumerate(lines):
        draw.text((150, 300 + 150 * index), line, fill=0, font=font)
    pdf = canvas.Canvas(str(path), pagesize=(612, 792))
    for _ in range(pages):
        pdf.drawImage(ImageReader(image), 0, 0, width=612, height=792)
        pdf.showPage()
    pdf.save()
    return path


def rotated_pdf(path: Path, lines: list[str]) -> Path:
    """A page turned with /Rotate 90: its text layer comes out one letter per word."""
    from pypdf import PdfReader, PdfWriter

    upright = text_pdf(path.with_suffix(".upright.pdf"), [lines])
    writer = PdfWriter()
    page = writer.add_page(PdfReader(upright).pages[0])
    page.rotate(90)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def vertical_text_pdf(path: Path, lines: list[str]) -> Path:
    """An upright page whose text runs up the page (drawn turned a quarter)."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(612, 792))
    pdf.saveState()
    pdf.translate(300, 200)
    pdf.rotate(90)
    pdf.setFont("Helvetica", 24)
    for index, line in enumerate(lines):
        pdf.drawString(0, -40 * index, line)
    pdf.restoreState()
    pdf.showPage()
    pdf.save()
    return path


def blank_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    pdf.showPage()
    pdf.save()
    return path


def encrypted_pdf(path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = text_pdf(path.with_suffix(".plain.pdf"), [["Secret", "Only for the board."]])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="open sesame", owner_password="owner", algorithm="AES-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def docx_with_heading_and_table(path: Path) -> Path:
    from docx import Document

    document = Document()
    document.core_properties.title = "Travel Policy"
    document.add_heading("Travel policy", level=1)
    document.add_paragraph("Employees book economy class for flights under six hours.")
    document.add_heading("Allowances", level=2)
    table = document.add_table(rows=3, cols=2)
    values = [("City", "Daily allowance"), ("Paris", "120"), ("Oslo", "150")]
    for row, cells in zip(table.rows, values, strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.save(str(path))
    return path


def xlsx_with_two_sheets(path: Path, rows: int) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = "Orders"
    first.append(["Order", "Customer", "Amount"])
    for index in range(1, rows + 1):
        first.append([index, f"customer {index}", index * 10])
    second = workbook.create_sheet("Regions")
    second.append(["Region", "Manager"])
    second.append(["North", "Ann"])
    workbook.save(str(path))
    return path


def pptx_with_notes(path: Path) -> Path:
    from pptx import Presentation

    presentation = Presentation()
    for title, bullet, notes in [
        ("Quarterly review", "Revenue up 12 percent", "Mention the new contracts."),
        ("Next steps", "Hire two engineers", "Budget is approved."),
    ]:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = bullet
        slide.notes_slide.notes_text_frame.text = notes
    presentation.save(str(path))
    return path


def pptx_with_notes_and_table(
    path: Path, *, title: str | None = None, closing_slide: bool = False
) -> Path:
    """The deck the PPT and ODP tests save with LibreOffice and read against the PPTX:
    bullets with speaker notes, then a table. ``title`` goes in the file's properties;
    ``closing_slide`` adds a third slide of bullets."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    if title is not None:
        deck.core_properties.title = title
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly review"
    slide.placeholders[1].text = "Revenue grew 12 percent in North Harbour"
    slide.notes_slide.notes_text_frame.text = "Mention the weather delay"
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Regional table"
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, values in enumerate([("Region", "Sales"), ("North Harbour", "120"), ("South", "95")]):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    if closing_slide:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Next steps"
        slide.placeholders[1].text = "Open the Bergen office in March"
    deck.save(str(path))
    return path


def saved_by_libreoffice(source: Path, export: str, folder: Path) -> Path:
    """``source`` saved by LibreOffice as ``export`` (``"doc:MS Word 97"``,
    ``"ppt:MS PowerPoint 97"``, ``"odp"``), with a profile of its own in ``folder``:
    the DOC, PPT and ODP tests have no other writer of these formats."""
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            export,
            "--outdir",
            str(folder / "saved"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder / "saved" / f"{source.stem}.{export.split(':')[0]}"


def eml_with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann@example.com>"
    message["To"] = "bob@example.com"
    message["Subject"] = "Signed contract"
    message["Date"] = "Mon, 02 Jun 2025 09:30:00 +0200"
    message.set_content("Hello Bob,\n\nThe signed contract is attached.\n\nAnn\n")
    message.add_attachment(
        b"Contract between ACME and Example Corp.\n",
        maintype="text",
        subtype="plain",
        filename="contract.txt",
    )
    return message.as_bytes()


def zip_bomb_docx() -> bytes:
    """A DOCX-shaped zip whose one member inflates 1000-fold to 64 MiB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (64 * 1024 * 1024))
    return buffer.getvalue()


def encrypted_xlsx(path: Path) -> Path:
    """An XLSX saved with a password: an OLE container, not a zip."""
    import msoffcrypto

    plain = xlsx_with_two_sheets(path.with_suffix(".plain.xlsx"), rows=3)
    encrypted = io.BytesIO()
    with plain.open("rb") as handle:
        msoffcrypto.OfficeFile(handle).encrypt("pw", encrypted)
    path.write_bytes(encrypted.getvalue())
    return path
