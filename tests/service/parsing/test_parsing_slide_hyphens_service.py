"""A picture slide's words broken at line ends are mended on the deck's evidence (issue 19).

OCR leaves "capac- ity" and "right- hand" for ``line_hyphens`` to decide; the parser
mends PDFs and pictures, and ``slide_pictures`` the OCR'd text of a deck.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest.parsing.isolated import IsolatedParser

pytestmark = pytest.mark.service

_LINES = (
    "Turn the small valve on the right-\n"
    "hand side, then raise the lifting capac-\n"
    "ity of the crane to forty tonnes."
)


def picture_of(text: str) -> io.BytesIO:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1500, 420), "white")
    ImageDraw.Draw(image).multiline_text(
        (40, 60), text, fill="black", font=ImageFont.load_default(size=56), spacing=24
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def deck(path: Path) -> Path:
    """Slide 1 says "right-hand" in text; slide 2 is one picture of wrapped lines."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    first = prs.slides.add_slide(prs.slide_layouts[1])
    first.shapes.title.text = "Crane checks"
    first.placeholders[1].text = "Check the right-hand valve every morning"
    picture = prs.slides.add_slide(prs.slide_layouts[6])
    picture.shapes.add_picture(picture_of(_LINES), Inches(0.5), Inches(1), width=Inches(9))
    prs.save(str(path))
    return path


def test_a_picture_slides_line_breaks_are_mended_and_its_compounds_kept(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    parsed = parser.parse(deck(tmp_path / "crane.pptx"))
    ocr = " ".join(e.text for e in parsed.elements if e.metadata.get("source") == "ocr")
    assert "on the right-hand side" in ocr
    assert "lifting capacity of the crane" in ocr
