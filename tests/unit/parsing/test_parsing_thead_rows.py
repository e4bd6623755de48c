"""A table's markup declares its header rows: every ``<thead>`` row is counted (issue 19)."""

from __future__ import annotations

import pytest

from ingest.parsing.tables import html_table_rows, read_html_table

pytestmark = pytest.mark.unit

BODY = "<tbody><tr><td>Retail</td><td>1,204</td><td>1,117</td><td>12.1</td><td>11.4</td></tr>"


def test_a_two_row_thead_with_colspans_is_two_header_rows() -> None:
    html = (
        "<table><thead>"
        "<tr><th rowspan='2'>Segment</th><th colspan='2'>Revenue</th>"
        "<th colspan='2'>Margin</th></tr>"
        "<tr><th>2023</th><th>2022</th><th>2023</th><th>2022</th></tr>"
        f"</thead>{BODY}</tbody></table>"
    )
    table = read_html_table(html)
    assert table.rows[:2] == (
        ("Segment", "Revenue", "Revenue", "Margin", "Margin"),
        ("Segment", "2023", "2022", "2023", "2022"),
    )
    assert table.header_rows == 2
    assert table.has_header is True


def test_a_three_row_thead_counts_its_blank_and_grouping_rows() -> None:
    html = (
        "<table><thead>"
        "<tr><th colspan='5'>Segment results</th></tr>"
        "<tr><th></th><th colspan='2'>Operating income</th><th colspan='2'>Headcount</th></tr>"
        "<tr><th>Segment</th><th>Europe</th><th>Americas</th><th>Europe</th><th>Americas</th></tr>"
        f"</thead>{BODY}</tbody></table>"
    )
    table = read_html_table(html)
    assert table.header_rows == 3
    assert table.rows[2] == ("Segment", "Europe", "Americas", "Europe", "Americas")


def test_empty_thead_rows_are_not_counted() -> None:
    html = (
        "<table><thead><tr><th>Name</th><th>Qty</th></tr><tr><th> </th><th></th></tr></thead>"
        "<tr><td>apple</td><td>3</td></tr></table>"
    )
    table = read_html_table(html)
    assert table.rows == (("Name", "Qty"), ("apple", "3"))
    assert table.header_rows == 1


def test_leading_rows_of_th_cells_count_without_a_thead() -> None:
    html = (
        "<table><tr><th colspan='2'>Fees</th></tr><tr><th>Plan</th><th>Price</th></tr>"
        "<tr><td>Basic</td><td>10 USD</td></tr><tr><th>Team</th><th>Total</th></tr></table>"
    )
    assert read_html_table(html).header_rows == 2  # the later all-th row is not leading


def test_a_table_without_header_markup_declares_none() -> None:
    html = (
        "<table><tr><td>Retail</td><td>1,204</td></tr>"
        "<tr><td>Corporate</td><td>88</td></tr></table>"
    )
    table = read_html_table(html)
    assert table.header_rows == 0
    assert html_table_rows(html) == (table.rows, False)
