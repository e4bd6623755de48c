"""The header band rule: title, column, year and unit rows, and where the data starts."""

from __future__ import annotations

import pytest
from chunker_doubles import WhitespaceTokenCounterDouble

from chunkers.table_header import header_band, is_title_row
from chunkers.tables import TablesChunker
from kernel.documents import Element, ParsedDocument

pytestmark = pytest.mark.unit

SEGMENTS = (
    ("Segment analysis", "", ""),
    ("", "2023", "2022"),
    ("", "$m", "$m"),
    ("Retail", "1,204", "1,117"),
    ("Corporate", "(88)", "912"),
)


def test_titles_a_blank_corner_years_and_units_make_one_band() -> None:
    assert header_band(SEGMENTS) == 3


@pytest.mark.parametrize(
    ("rows", "band"),
    [
        ((("Plan", "Price", "Seats"), ("Basic", "10 USD", "5")), 1),
        ((("Name", "Role"), ("Alice", "Engineer"), ("Bob", "Analyst")), 1),
        ((("", "FY2023", "FY2022 (restated)"), ("Revenue", "12.5", "11.0")), 1),
        ((("Group", "", ""), ("", "£000", "£000"), ("Fees", "12", "10")), 2),
        ((("Region", "2024", "2024"), ("Region", "H1", "H2"), ("North", "10", "12")), 2),
        (
            (
                ("", "Revenue", "", "Profit", ""),
                ("", "2023", "2022", "2023", "2022"),
                ("A", "1", "2", "3", "4"),
            ),
            2,
        ),
        ((("Name", "Qty"),), 0),  # nothing under it
        ((("Name", ""), ("apple", "3")), 0),  # a title-like row with data under it
        ((("x", "x"), ("1", "2")), 0),  # repeated names
        ((("2023", "€1,200"), ("2024", "€1,300")), 0),  # data
        ((("Totals", "", ""), ("North", "10", "12")), 0),  # a title alone is no header
    ],
)
def test_band_sizes(rows: tuple[tuple[str, ...], ...], band: int) -> None:
    assert header_band(rows) == band


def test_a_marked_title_row_lets_the_column_rows_follow() -> None:
    rows = (("Acme Group plc", "", ""), *SEGMENTS)
    assert header_band(rows, marked=1) == 4
    assert header_band((("1", "2"), ("3", "4")), marked=1) == 1  # markup is believed


def test_the_band_always_leaves_a_data_row() -> None:
    assert header_band((("", "2023", "2022"), ("", "$m", "$m"))) == 1


def test_a_title_row_has_its_value_in_the_corner() -> None:
    assert is_title_row(("Segment analysis", "", ""))
    assert is_title_row(("Income statement",) * 3)
    assert not is_title_row(("", "$m", "$m"))
    assert not is_title_row(("Only",))


def test_every_chunk_repeats_the_band_and_counts_rows_below_it() -> None:
    rows = (*SEGMENTS[:3], *((f"line{i}", str(100 + i), str(90 + i)) for i in range(20)))
    # The parser says the table opens with a header (``looks_like_header``: the same rule).
    doc = ParsedDocument("xlsx", (Element("table", "", rows=rows, has_header=True),))
    drafts = TablesChunker().chunk(doc, WhitespaceTokenCounterDouble(60))
    assert len(drafts) >= 2
    for draft in drafts:
        assert draft.text.splitlines()[:3] == ["Segment analysis", " | 2023 | 2022", " | $m | $m"]
    assert drafts[0].metadata["rows"].startswith("1-")
    assert drafts[-1].metadata["rows"].endswith("-20")
    assert drafts[-1].text.splitlines()[-1] == "line19 | 119 | 109"


# readxl's deaths.xlsx: free-text notes above the column row, scattered over the columns.
NOTES_ABOVE = (
    ("Lots of people", "", "", "", "", ""),
    ("simply cannot resist writing", "", "", "", "", "some notes"),
    ("at", "the", "top", "", "of", "their spreadsheets"),
    ("Name", "Profession", "Age", "Has kids", "Date of birth", "Date of death"),
    ("David Bowie", "musician", "69", "True", "1947-01-08", "2016-01-10"),
    ("Carrie Fisher", "actor", "60", "True", "1956-10-21", "2016-12-27"),
)


def test_notes_above_a_full_column_row_belong_to_the_band() -> None:
    assert header_band(NOTES_ABOVE) == 4
    assert header_band(NOTES_ABOVE, marked=1) == 4
    # A note row that would pass for a blank-corner column row does not open the band.
    scattered = (("For the sake", "", "", ""), ("", "of consistency", "in the", "layout"))
    assert header_band((*scattered, *NOTES_ABOVE[3:])) == 3


@pytest.mark.parametrize(
    "rows",
    [
        # records of text only: the first full one is a record, not a column row
        (("Alice", "Engineer", ""), ("Bob", "Analyst", "Ops"), ("Carol", "Lead", "Ops")),
        # a full label row under a full row is the column row only by the band rule
        (("Name", "Role", "Age"), ("Alice", "Engineer", "Ops"), ("Bob", "Analyst", "31")),
    ],
)
def test_no_notes_band_without_sparse_notes_and_a_data_row(
    rows: tuple[tuple[str, ...], ...],
) -> None:
    assert header_band(rows) != 2


def test_every_chunk_of_a_table_under_notes_repeats_the_column_row() -> None:
    rows = (
        *NOTES_ABOVE,
        *[(f"Person {i}", "actor", str(i), "True", "1950-01-01", "2016-01-01") for i in range(60)],
    )
    doc = ParsedDocument("xlsx", (Element("table", "", rows=rows, has_header=True),))
    chunks = TablesChunker().chunk(doc, WhitespaceTokenCounterDouble(80))
    assert len(chunks) > 3
    assert all("Name | Profession | Age" in chunk.text for chunk in chunks)
    assert all(chunk.text.startswith("Lots of people") for chunk in chunks)
    assert sum(chunk.text.count("Person ") for chunk in chunks) == 60
