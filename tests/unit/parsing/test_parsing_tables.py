"""unstructured's ``text_as_html`` read back into rows of cells."""

from __future__ import annotations

import pytest

from ingest.parsing.tables import html_table_rows, looks_like_header, rows_as_text

pytestmark = pytest.mark.unit


def test_th_cells_make_a_header_row() -> None:
    html = (
        "<table><thead><tr><th>Item</th><th>Price</th></tr></thead>"
        "<tbody><tr><td>Apples</td><td>1.99</td></tr><tr><td>Pears</td><td>2.50</td></tr></tbody>"
        "</table>"
    )
    rows, has_header = html_table_rows(html)
    assert rows == (("Item", "Price"), ("Apples", "1.99"), ("Pears", "2.50"))
    assert has_header is True


def test_a_first_row_of_numbers_is_not_a_header() -> None:
    html = "<table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table>"
    rows, has_header = html_table_rows(html)
    assert rows == (("1", "2"), ("3", "4"))
    assert has_header is False


def test_merged_cells_fill_every_position_they_cover() -> None:
    html = (
        "<table>"
        "<tr><td rowspan='2'>Region</td><td colspan='2'>2024</td></tr>"
        "<tr><td>H1</td><td>H2</td></tr>"
        "<tr><td>North</td><td>10</td><td>12</td></tr>"
        "</table>"
    )
    rows, _ = html_table_rows(html)
    assert rows == (
        ("Region", "2024", "2024"),
        ("Region", "H1", "H2"),
        ("North", "10", "12"),
    )


def test_a_nested_table_becomes_text_of_its_cell() -> None:
    html = (
        "<table><tr><td>a</td><td><table><tr><td>x</td><td>y</td></tr></table></td></tr>"
        "<tr><td>b</td><td>c</td></tr></table>"
    )
    rows, _ = html_table_rows(html)
    assert rows == (("a", "x y"), ("b", "c"))


def test_short_rows_are_padded_and_empty_rows_dropped() -> None:
    html = (
        "<table><tr><td>a</td><td>b</td><td>c</td></tr><tr><td></td></tr>"
        "<tr><td>d</td></tr></table>"
    )
    rows, _ = html_table_rows(html)
    assert rows == (("a", "b", "c"), ("d", "", ""))


def test_entities_and_whitespace_are_normalised() -> None:
    rows, _ = html_table_rows("<table><tr><td> R&amp;D\n  costs </td><td>&lt;5%</td></tr></table>")
    assert rows == (("R&D costs", "<5%"),)


def test_header_heuristic() -> None:
    assert looks_like_header((("Name", "Qty"), ("apple", "3")))
    assert not looks_like_header((("Name", "Qty"),))  # nothing under it
    assert not looks_like_header((("Name", ""), ("apple", "3")))  # a blank cell
    assert not looks_like_header((("x", "x"), ("1", "2")))  # repeated names
    assert not looks_like_header((("2023", "€1,200"), ("2024", "€1,300")))  # data


def test_rows_render_as_pipe_separated_lines() -> None:
    assert rows_as_text((("a", "b"), ("1", "2"))) == "a | b\n1 | 2"
