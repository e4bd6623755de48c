"""A slide that is only a picture is read by OCR, in its place among the slides."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.parsing.isolated import IsolatedParser
from ingest.parsing.unstructured_parser import UnstructuredParser

pytestmark = pytest.mark.service


def picture_of(text: str, size: tuple[int, int] = (1400, 300)) -> io.BytesIO:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).text(
        (40, size[1] // 3), text, fill="black", font=ImageFont.load_default(size=56)
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def deck(path: Path) -> Path:
    """Slide 1 text; slide 2 one screenshot; slide 3 text beside a picture; slide 4 a
    grouped picture; slide 5 an icon too small to read."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    first = prs.slides.add_slide(prs.slide_layouts[1])
    first.shapes.title.text = "Quarterly review"
    first.placeholders[1].text = "Revenue grew in every region"
    screenshot = prs.slides.add_slide(prs.slide_layouts[6])
    screenshot.shapes.add_picture(
        picture_of("Crane capacity 40 tonnes"), Inches(1), Inches(1), width=Inches(8)
    )
    mixed = prs.slides.add_slide(prs.slide_layouts[1])
    mixed.shapes.title.text = "Next steps"
    mixed.placeholders[1].text = "Hire two crane operators"
    mixed.shapes.add_picture(picture_of("Decorative banner words"), Inches(1), Inches(5))
    grouped = prs.slides.add_slide(prs.slide_layouts[6])
    group = grouped.shapes.add_group_shape()
    group.shapes.add_picture(picture_of("Berth twelve closes in March"), Inches(1), Inches(1))
    icon = prs.slides.add_slide(prs.slide_layouts[6])
    icon.shapes.add_picture(picture_of("x", size=(40, 40)), Inches(1), Inches(1))
    prs.save(str(path))
    return path


def test_picture_only_slides_are_read_in_place_and_slides_with_text_keep_theirs(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    parsed = parser.parse(deck(tmp_path / "review.pptx"))
    body = [(e.kind, e.page, e.text) for e in parsed.elements if e.kind != "notes"]
    assert [(kind, page) for kind, page, _ in body] == [
        ("title", 1),
        ("text", 1),
        ("page_break", 1),
        ("text", 2),
        ("page_break", 2),
        ("title", 3),
        ("text", 3),
        ("page_break", 3),
        ("text", 4),
    ]
    assert body[3][2] == "Crane capacity 40 tonnes"
    assert body[8][2] == "Berth twelve closes in March"
    assert all("Decorative" not in text for _, _, text in body)
    ocr = [e for e in parsed.elements if e.metadata.get("source") == "ocr"]
    assert [e.page for e in ocr] == [2, 4]


def test_with_ocr_off_a_picture_only_slide_stays_unread(tmp_path: Path) -> None:
    parsed = UnstructuredParser(max_bytes=20_000_000, ocr=False).parse(deck(tmp_path / "r.pptx"))
    assert {e.page for e in parsed.elements if e.kind != "page_break"} == {1, 3}
    assert all(e.metadata.get("source") != "ocr" for e in parsed.elements)
