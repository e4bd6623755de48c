"""unstructured elements to ragline elements, with stand-ins for unstructured's objects."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ingest.parsing.convert import convert_elements, tidy_page_breaks
from kernel.documents import Element

pytestmark = pytest.mark.unit


def raw(
    category: str,
    text: str = "",
    *,
    depth: int | None = None,
    page: int | None = None,
    html: str | None = None,
) -> SimpleNamespace:
    """A stand-in with the attributes unstructured's elements carry."""
    metadata = SimpleNamespace(category_depth=depth, page_number=page, text_as_html=html)
    return SimpleNamespace(category=category, text=text, metadata=metadata)


def test_categories_map_to_kinds_in_reading_order() -> None:
    elements = convert_elements(
        [
            raw("Header", "ACME confidential", page=1),
            raw("Title", "Report", depth=0, page=1),
            raw("NarrativeText", "Revenue grew.", page=1),
            raw("UncategorizedText", "Note 1", page=1),
            raw("ListItem", "first point", page=1),
            raw("CodeSnippet", "\n    x = 1\n\n    y = 2\n", page=1),
            raw("Footer", "page 1", page=1),
            raw("Address", "1 Main St", page=1),
        ]
    )
    assert [(e.kind, e.text) for e in elements] == [
        ("header", "ACME confidential"),
        ("title", "Report"),
        ("text", "Revenue grew."),
        ("text", "Note 1"),
        ("list_item", "first point"),
        ("code", "    x = 1\n\n    y = 2"),
        ("header", "page 1"),
        ("text", "1 Main St"),
    ]
    assert all(e.page == 1 for e in elements)


def test_title_level_is_depth_plus_one_or_unknown() -> None:
    elements = convert_elements(
        [raw("Title", "Top", depth=0), raw("Title", "Sub", depth=2), raw("Title", "PDF title")]
    )
    assert [e.level for e in elements] == [1, 3, None]


def test_tables_get_rows_from_their_html() -> None:
    html = "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
    (table,) = convert_elements([raw("Table", "a b 1 2", html=html, page=3)])
    assert table.kind == "table"
    assert table.rows == (("a", "b"), ("1", "2"))
    assert table.has_header is True
    assert table.text == "a | b\n1 | 2"
    assert table.page == 3


def test_a_table_without_html_stays_as_text() -> None:
    (element,) = convert_elements([raw("Table", "a b 1 2")])
    assert element.kind == "text" and element.rows is None


def test_empty_elements_are_dropped() -> None:
    elements = convert_elements(
        [raw("Image", ""), raw("NarrativeText", "  \n "), raw("Title", "x")]
    )
    assert [e.text for e in elements] == ["x"]


def test_page_breaks_sit_between_content_and_name_the_page_they_end() -> None:
    elements = convert_elements(
        [
            raw("PageBreak"),
            raw("NarrativeText", "one", page=1),
            raw("PageBreak"),
            raw("PageBreak"),
            raw("NarrativeText", "two", page=2),
            raw("PageBreak"),
        ]
    )
    assert [(e.kind, e.page) for e in elements] == [
        ("text", 1),
        ("page_break", 1),
        ("text", 2),
    ]


def test_tidy_keeps_a_document_without_breaks_unchanged() -> None:
    elements = [Element(kind="text", text="a"), Element(kind="text", text="b")]
    assert tidy_page_breaks(elements) == elements
