"""What a clause number is: one grammar for line markers, inline clauses and detection."""

from __future__ import annotations

import pytest

from text.clauses import (
    CLAUSE_LINE,
    INLINE_NUMBER,
    line_markers,
    number_parts,
    read_clause_marker,
    roman_value,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("line", "kind", "word", "number", "parts"),
    [
        ("Article IV Definitions", "article", "Article", "IV", ("IV",)),
        ("ARTICLE 2 - PAYMENT", "article", "ARTICLE", "2", ("2",)),
        ("Part 3", "article", "Part", "3", ("3",)),
        ("BOOK ONE: 1805", "article", "BOOK", "ONE", ("ONE",)),
        ("Book the First\u2014Recalled to Life", "article", "Book", "the First", ("the First",)),
        ("VOLUME II", "article", "VOLUME", "II", ("II",)),
        ("PART FOURTEEN", "article", "PART", "FOURTEEN", ("FOURTEEN",)),
        ("CHAPTER TWELVE", "article", "CHAPTER", "TWELVE", ("TWELVE",)),
        ("Chapter 1: Scope", "article", "Chapter", "1", ("1",)),
        ("Section 4.2 Fees", "section", "Section", "4.2", ("4", "2")),
        ("Sec. 5 Term", "section", "Sec.", "5", ("5",)),
        ("SEC. 12. Notices", "section", "SEC.", "12", ("12",)),
        ("Clause 7 Liability", "section", "Clause", "7", ("7",)),
        ("§ 7 Scope", "section", "§", "7", ("7",)),
        ("§§ 12", "section", "§§", "12", ("12",)),
        ("1. Definitions", "number", "", "1", ("1",)),
        ("4) Payment", "number", "", "4", ("4",)),
        ("3.1 The Buyer pays.", "number", "", "3.1", ("3", "1")),
        ("3.1.2. Late fees", "number", "", "3.1.2", ("3", "1", "2")),
        ("(a) the buyer", "item", "", "a", ()),
        ("(iv) the seller", "item", "", "iv", ()),
        ("(A) Scope", "item", "", "A", ()),
        ("(1) first", "item", "", "1", ()),
        ("b) second", "item", "", "b", ()),
        ("ii) third", "item", "", "ii", ()),
        ("  (c) indented", "item", "", "c", ()),
    ],
)
def test_each_marker_kind_is_read(
    line: str, kind: str, word: str, number: str, parts: tuple[str, ...]
) -> None:
    marker = read_clause_marker(line)
    assert marker is not None
    assert (marker.kind, marker.word, marker.number, marker.parts) == (kind, word, number, parts)


def test_the_marker_end_is_where_the_text_goes_on() -> None:
    line = "  Sec. 5 Term of the agreement"
    marker = read_clause_marker(line)
    assert marker is not None and line[marker.end :] == " Term of the agreement"


@pytest.mark.parametrize(
    "line",
    [
        "2.5 hours of support",  # a quantity a hard wrap put at a line start
        "12 months later",
        "12 Months",  # a plain number needs its "." or ")"
        "Section 5 shall survive termination",  # a reference, not a heading
        "Article 3 of the treaty",
        "Book of Common Prayer",  # a division needs its number
        "Part one of the plan",  # a number word is upper or title case, before a heading
        "Book Two tickets today",
        "etc) and the rest",  # a bare item is one letter or a Roman numeral
        "(see below) for details",
        "The parties agree.",
        "3.14 is pi",
    ],
)
def test_ordinary_sentences_are_no_markers(line: str) -> None:
    assert read_clause_marker(line) is None


def test_clause_lines_are_found_where_markers_open_lines() -> None:
    text = (
        "Preamble text.\n"
        "1. Definitions\n"
        "1.1 The Buyer pays.\n"
        "  (a) within 30 days;\n"
        "Sec. 2 Term\n"
        "12 months later the term ends.\n"
        "Section 5 shall survive."
    )
    starts = [text[m.start() :].split("\n", 1)[0].strip() for m in CLAUSE_LINE.finditer(text)]
    assert starts == ["1. Definitions", "1.1 The Buyer pays.", "(a) within 30 days;", "Sec. 2 Term"]
    assert [m.number for m in line_markers(text)] == ["1", "1.1", "a", "2"]


def test_inline_numbers_are_dotted_or_end_in_a_full_stop() -> None:
    text = "2. Fees 2.1 Customer pays. 2.2 Invoices are due. 3. Term see 4 Other and 2.5 hours"
    found = [m["dotted"] or m["plain"] for m in INLINE_NUMBER.finditer(text)]
    assert found == ["2.1", "2.2", "3"]


@pytest.mark.parametrize(
    ("number", "parts"),
    [
        ("2.1", (2, 1)),
        ("3", (3,)),
        ("Section 4.2", (4, 2)),
        ("Article IV", (4,)),
        ("Article 7", (7,)),
        ("(a)", None),
        ("(iv)", None),
    ],
)
def test_number_parts(number: str, parts: tuple[int, ...] | None) -> None:
    assert number_parts(number) == parts


def test_roman_values() -> None:
    assert [roman_value(n) for n in ("i", "iv", "ix", "xiv", "mcm")] == [1, 4, 9, 14, 1900]


@pytest.mark.parametrize(
    ("line", "division"),
    [
        ("BOOK ONE: 1805", True),
        ("Part II", True),
        ("Volume 3", True),
        ("CHAPTER I", False),
        ("Article IV", False),
        ("Section 4", False),
        ("1. Definitions", False),
    ],
)
def test_books_parts_and_volumes_are_divisions_above_chapters(line: str, division: bool) -> None:
    marker = read_clause_marker(line)
    assert marker is not None and marker.is_division is division
