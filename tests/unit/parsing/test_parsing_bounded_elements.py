"""Every element and table cell bounded, in reading order, with every word kept."""

from __future__ import annotations

import pytest

from ingest.parsing.bounded_elements import MAX_ELEMENT_CHARS, bound_elements, bound_rows
from ingest.parsing.tables import rows_as_text
from kernel.documents import Element

pytestmark = pytest.mark.unit


def words(elements: list[Element]) -> list[str]:
    return " ".join(element.text for element in elements).split()


def cell_words(text: str) -> list[str]:
    return [word for word in text.split() if word != "|"]


def test_short_elements_pass_through_unchanged() -> None:
    elements = [Element(kind="title", text="Intro", level=1), Element(kind="text", text="Hello.")]
    bounded = bound_elements(elements)
    assert bounded == elements
    assert all(a is b for a, b in zip(bounded, elements, strict=True))


def test_a_long_paragraph_becomes_consecutive_pieces_of_the_same_kind_in_place() -> None:
    sentence = "The warehouse ships every order within three days. "
    long_text = (sentence * 300).strip()
    elements = [
        Element(kind="title", text="Shipping", level=1),
        Element(kind="list_item", text=long_text, page=4, metadata={"sheet": "a"}),
        Element(kind="text", text="After."),
    ]
    bounded = bound_elements(elements, max_chars=1_000)
    assert bounded[0] == elements[0]
    assert bounded[-1] == elements[-1]
    middle = bounded[1:-1]
    assert len(middle) >= len(long_text) // 1_000 + 1
    assert all((e.kind, e.page, e.metadata) == ("list_item", 4, {"sheet": "a"}) for e in middle)
    assert all(len(e.text) <= 1_000 for e in middle)
    assert all(e.text.endswith("three days.") for e in middle)  # cut after sentences
    assert words(bounded) == words(elements)


def test_an_over_long_title_becomes_text() -> None:
    title = Element(kind="title", text="heading " * 1_000, level=2, metadata={"numbering": "2"})
    bounded = bound_elements([title], max_chars=500)
    assert {(e.kind, e.level) for e in bounded} == {("text", None)}
    assert words(bounded) == words([title])


def test_code_and_page_breaks_are_never_cut() -> None:
    code = Element(kind="code", text="x = 1\n" * 2_000)
    page_break = Element(kind="page_break", text="", page=1)
    assert bound_elements([code, page_break], max_chars=100) == [code, page_break]


def test_the_default_bound_leaves_ordinary_paragraphs_whole() -> None:
    paragraph = Element(kind="text", text="A sentence of ordinary length. " * 100)
    assert len(paragraph.text) < MAX_ELEMENT_CHARS
    assert bound_elements([paragraph]) == [paragraph]


def test_a_long_cell_continues_on_the_rows_below_it() -> None:
    rows = (("name", "notes"), ("alpha", "word " * 100), ("beta", "short"))
    bounded = bound_rows(rows, max_chars=120)
    assert bounded[0] == ("name", "notes")
    assert bounded[-1] == ("beta", "short")
    continued = bounded[1:-1]
    assert [row[0] for row in continued] == ["alpha"] + [""] * (len(continued) - 1)
    assert all(len(cell) <= 120 for row in continued for cell in row)
    assert " ".join(row[1] for row in continued).split() == ["word"] * 100


def test_two_long_cells_in_a_row_continue_side_by_side() -> None:
    rows = (("a " * 30, "b " * 60),)
    bounded = bound_rows(rows, max_chars=40)
    assert " ".join(row[0] for row in bounded).split() == ["a"] * 30
    assert " ".join(row[1] for row in bounded).split() == ["b"] * 60
    assert all(len(row) == 2 for row in bounded)


def test_a_table_element_gets_bounded_rows_and_matching_text() -> None:
    rows = (("id", "body"), ("1", "lorem ipsum " * 500))
    table = Element(kind="table", text=rows_as_text(rows), rows=rows, has_header=True)
    (bounded,) = bound_elements([table], max_chars=1_000)
    assert bounded.rows is not None
    assert all(len(cell) <= 1_000 for row in bounded.rows for cell in row)
    assert bounded.text == rows_as_text(bounded.rows)
    assert cell_words(bounded.text) == cell_words(table.text)
    assert bounded.has_header


def test_a_table_within_the_bound_is_the_same_object() -> None:
    rows = (("a", "b"), ("1", "2"))
    table = Element(kind="table", text=rows_as_text(rows), rows=rows)
    (bounded,) = bound_elements([table])
    assert bounded is table
