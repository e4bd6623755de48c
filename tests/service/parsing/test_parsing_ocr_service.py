"""OCR through the real parser child and the real tesseract: fax TIFFs, transparency, paragraphs.

Pictures are drawn here with Pillow in a real font, so tesseract has real text to read.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from chunking import chunks
from PIL import Image, ImageDraw, ImageFont

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser

pytestmark = pytest.mark.service

FONTS = Path("/usr/share/fonts/truetype/dejavu")
FONT = str(FONTS / "DejaVuSans.ttf")
NOTICE = (
    "Ragline reads every document a team uploads and answers questions about them "
    "with citations. Uploads are checked for type and size, parsed in a separate "
    "process with time and memory limits, and split into chunks that keep headings "
    "and tables whole."
)
STEPS = [
    "1. Submit the form to the registry office.",
    "2. Attach a copy of your identity card.",
    "3. Pay the fee of forty euros at the counter.",
]


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(FONT, size) if Path(FONT).exists() else ImageFont.load_default(size)


def draw_lines(image: Image.Image, lines: list[str], *, size: int, pitch: int, ink: object) -> None:
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((30, 30 + pitch * index), line, fill=ink, font=font(size))  # type: ignore[arg-type]


def words(text: str) -> str:
    return " ".join(text.split())


def test_a_one_bit_fax_tiff_is_read(parser: IsolatedParser, tmp_path: Path) -> None:
    # CCITT group 4, as fax machines and document scanners store black-and-white pages;
    # letters this tall made the old OCR stack rescale the page, which it could not in 1 bit.
    fax = Image.new("1", (1700, 600), 1)
    draw_lines(fax, ["SAMPLE FAX", "Invoice 4471"], size=160, pitch=250, ink=0)
    source = tmp_path / "fax.tif"
    fax.save(source, "TIFF", compression="group4", dpi=(200, 200))
    document = parser.parse(source)
    assert document.format == "tiff"
    assert words(document.text) == "SAMPLE FAX Invoice 4471"


def test_dark_text_on_a_transparent_background_is_read(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    # Transparent pixels that hold black: dropping the alpha leaves black on black.
    logo = Image.new("RGBA", (1000, 200), (0, 0, 0, 0))
    draw_lines(logo, ["Quarterly report 2024"], size=48, pitch=60, ink=(0, 0, 0, 255))
    source = tmp_path / "logo.png"
    logo.save(source, "PNG")
    assert "Quarterly report 2024" in words(parser.parse(source).text)


def test_a_screenshot_paragraph_is_one_element_and_the_page_one_chunk(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    # Ragged-right lines: tesseract alone cuts this paragraph into four.
    lines = ["Service overview", *textwrap.wrap(NOTICE, 56)]
    shot = Image.new("RGB", (760, 60 + 34 * len(lines)), "white")
    draw_lines(shot, lines, size=20, pitch=34, ink=(30, 30, 30))
    source = tmp_path / "screenshot.png"
    shot.save(source, "PNG")
    document = parser.parse(source)
    texts = [words(e.text) for e in document.elements]
    assert texts == ["Service overview", NOTICE]
    assert {e.kind for e in document.elements} == {"text"}
    drafts = chunks(document, tokens)
    assert len(drafts) == 1
    assert NOTICE in words(drafts[0].text)


def test_a_scanned_page_keeps_paragraphs_whole_and_list_items_apart(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    body = textwrap.wrap(NOTICE, 60)
    page = Image.new("L", (1700, 2200), 255)
    draw_lines(page, [*body, "", *STEPS], size=34, pitch=50, ink=0)
    source = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(source), pagesize=(612, 792))
    pdf.drawImage(ImageReader(page), 0, 0, width=612, height=792)
    pdf.showPage()
    pdf.save()
    document = parser.parse(source)
    assert [words(e.text) for e in document.elements] == [NOTICE, *STEPS]
    assert all(e.metadata.get("source") == "ocr" and e.page == 1 for e in document.elements)


@pytest.mark.skipif(not (FONTS / "DejaVuSerif-Italic.ttf").exists(), reason="needs DejaVu fonts")
def test_small_print_is_read_as_the_tesseract_command_line_reads_it(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    # A screenshot of a document at screen size, bold and italic: the old OCR stack
    # rescaled it and dropped letters tesseract was unsure of ("italic" went missing).
    rows = [
        ("Document Title:", "DejaVuSans-Bold.ttf", 22),
        ("A plain paragraph having some bold and some italic.", "DejaVuSerif-Italic.ttf", 12),
        ("Heading, level 1", "DejaVuSans-Bold.ttf", 15),
        ("Intense quote", "DejaVuSerif-BoldItalic.ttf", 12),
        ("first item in unordered list", "DejaVuSans.ttf", 12),
    ]
    shot = Image.new("RGB", (380, 200), "white")
    draw = ImageDraw.Draw(shot)
    top = 10
    for text, face, size in rows:
        draw.text((12, top), text, fill=(40, 40, 40), font=ImageFont.truetype(FONTS / face, size))
        top += size + 16
    source = tmp_path / "screenshot.png"
    shot.save(source, "PNG")
    command_line = subprocess.run(
        ["tesseract", str(source), "stdout"], capture_output=True, text=True, check=True
    ).stdout
    read = words(parser.parse(source).text)
    assert read == words(command_line)
    assert "some bold and some italic" in read
