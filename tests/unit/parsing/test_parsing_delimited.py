"""CSV and TSV as one table holding every row."""

from __future__ import annotations

import csv

import pytest

from ingest.parsing.delimited import choose_delimiter, delimited_elements

pytestmark = pytest.mark.unit

SEMICOLONS = (
    "Lorem, ipsum; dolor sit; amet\n"
    "consectetur; adipiscing; elit\n"
    "sed, do; eiusmod; tempor incididunt\n"
)


def test_semicolons_win_over_commas_inside_cells() -> None:
    assert choose_delimiter(SEMICOLONS) == ";"
    (table,) = delimited_elements(SEMICOLONS, "csv")
    assert table.kind == "table"
    assert table.rows == (
        ("Lorem, ipsum", "dolor sit", "amet"),
        ("consectetur", "adipiscing", "elit"),
        ("sed, do", "eiusmod", "tempor incididunt"),
    )


def test_quoted_commas_and_newlines_stay_in_their_cell() -> None:
    text = 'name,comment\nann,"likes a, b\nand c"\nbob,plain\n'
    (table,) = delimited_elements(text, "csv")
    assert table.rows == (("name", "comment"), ("ann", "likes a, b\nand c"), ("bob", "plain"))
    assert table.has_header is True


def test_tsv_splits_on_tabs_only() -> None:
    (table,) = delimited_elements("a,b\tc\n1,2\t3\n", "tsv")
    assert table.rows == (("a,b", "c"), ("1,2", "3"))


def test_ragged_rows_are_padded_and_blank_lines_dropped() -> None:
    (table,) = delimited_elements("a,b,c\n\n1,2\n", "csv")
    assert table.rows == (("a", "b", "c"), ("1", "2", ""))


def test_large_files_are_not_truncated() -> None:
    text = "id,value\n" + "".join(f"{i},v{i}\n" for i in range(20_000))
    (table,) = delimited_elements(text, "csv")
    assert table.rows is not None
    assert len(table.rows) == 20_001
    assert table.rows[-1] == ("19999", "v19999")


def test_an_all_numeric_first_row_is_not_a_header() -> None:
    (table,) = delimited_elements("1,2\n3,4\n", "csv")
    assert table.has_header is False


def test_a_cell_past_the_csv_modules_default_field_limit_is_read() -> None:
    csv.field_size_limit(131_072)  # the csv module's default, as a fresh process has it
    long_cell = "word " * 40_000  # 200,000 characters
    (table,) = delimited_elements(f"name,notes\nalpha,{long_cell}\nbeta,short\n", "csv")
    assert table.rows == (("name", "notes"), ("alpha", long_cell.strip()), ("beta", "short"))
