"""Huge paragraphs through the real child process: indexed whole, fast, within the limits.

A megabyte on one line used to take a minute and over 3 GB in unstructured's
spaCy-based text-type checks, and fail on the memory limit. The time bounds
here are regression guards far above what a healthy run takes (well under a
second per file), not benchmarks.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from ingest.parsing import IsolatedParser
from ingest.parsing.bounded_elements import MAX_ELEMENT_CHARS
from kernel.documents import ParsedDocument

pytestmark = pytest.mark.service

ONE_LINE = "word " * 200_000  # 1 MB, no line break, no sentence end
GUARD_S = 60.0


def timed_parse(parser: IsolatedParser, path: Path) -> tuple[ParsedDocument, float]:
    started = time.monotonic()
    document = parser.parse(path)
    return document, time.monotonic() - started


def words(document: ParsedDocument) -> list[str]:
    return " ".join(element.text for element in document.elements).split()


def write_docx(path: Path, paragraph: str) -> None:
    from docx import Document

    document = Document()
    document.add_paragraph(paragraph)
    document.save(str(path))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("long-line.txt", ONE_LINE),
        ("long-line.md", ONE_LINE),
        ("long-line.html", f"<html><body><p>{ONE_LINE}</p></body></html>"),
        ("long-body.eml", f"From: a@example.com\nTo: b@example.com\nSubject: Log\n\n{ONE_LINE}"),
    ],
)
def test_a_megabyte_on_one_line_is_parsed_whole_in_bounded_pieces(
    parser: IsolatedParser, tmp_path: Path, name: str, content: str
) -> None:
    source = tmp_path / name
    source.write_text(content)
    document, elapsed = timed_parse(parser, source)
    body = [e for e in document.elements if e.kind != "email_header"]
    assert " ".join(e.text for e in body).split() == ONE_LINE.split()
    assert all(len(e.text) <= MAX_ELEMENT_CHARS for e in body)
    assert {e.kind for e in body} == {"text"}
    assert elapsed < GUARD_S


def test_a_megabyte_docx_paragraph_is_parsed_whole(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "long.docx"
    write_docx(source, ONE_LINE.strip())
    document, elapsed = timed_parse(parser, source)
    assert words(document) == ONE_LINE.split()
    assert all(len(e.text) <= MAX_ELEMENT_CHARS for e in document.elements)
    assert elapsed < GUARD_S


def test_a_megabyte_csv_cell_is_continued_on_bounded_rows(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = tmp_path / "notes.csv"
    source.write_text(f"name,notes\nalpha,{ONE_LINE}\nbeta,short\n")
    document, elapsed = timed_parse(parser, source)
    (table,) = document.elements
    assert table.rows is not None
    assert table.rows[0] == ("name", "notes") and table.rows[-1] == ("beta", "short")
    assert all(len(cell) <= MAX_ELEMENT_CHARS for row in table.rows for cell in row)
    assert " ".join(row[1] for row in table.rows[1:-1]).split() == ONE_LINE.split()
    assert elapsed < GUARD_S


def test_five_megabytes_of_prose_parse_well_within_the_limits(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    rng = random.Random(7)
    subjects = ["The customer", "Our team", "Each invoice", "The warehouse", "This policy"]
    verbs = ["ships", "reviews", "covers", "updates", "requires"]
    objects = ["the monthly report", "every open ticket", "the late fee", "all returns"]
    paragraphs: list[str] = []
    size = 0
    while size < 5_000_000:
        paragraphs.append(
            " ".join(
                f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} on time."
                for _ in range(rng.randint(3, 8))
            )
        )
        size += len(paragraphs[-1]) + 2
    text = "\n\n".join(paragraphs)
    source = tmp_path / "prose.txt"
    source.write_text(text)
    document, elapsed = timed_parse(parser, source)
    assert len(document.elements) == len(paragraphs)
    assert words(document) == text.split()
    assert elapsed < GUARD_S
