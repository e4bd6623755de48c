"""A PDF paragraph typeset with words broken at line ends is indexed with the words whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.parsing.isolated import IsolatedParser
from ingest.parsing.line_hyphens import system_words

pytestmark = pytest.mark.service

LINES = [
    "Winter storms made the old harbour wall dan-",
    "gerous for the crews, and the town council",
    "voted to repair the pre- and post-war sections",
    "with a boolean-",
    "geometry survey of every joint.",
]


def paragraph_pdf(path: Path, lines: list[str]) -> Path:
    """One paragraph at body spacing, so the reader joins its lines with spaces."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(612, 792))
    pdf.setFont("Helvetica", 11)
    y = 700.0
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 13.5
    pdf.showPage()
    pdf.save()
    return path


def test_words_broken_at_line_ends_are_whole_and_compounds_and_suspensions_kept(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    assert "dangerous" in system_words(), "bootstrap installs wamerican (/usr/share/dict/words)"
    parsed = parser.parse(paragraph_pdf(tmp_path / "harbour.pdf", LINES))
    text = " ".join(e.text for e in parsed.elements)
    assert "dangerous for the crews" in text
    assert "dan- gerous" not in text and "dan-gerous" not in text
    assert "pre- and post-war" in text
    assert "boolean- geometry" in text  # no evidence either way: left as read
