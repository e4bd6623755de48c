"""Short lines broken by ``<br>`` in one HTML paragraph are list entries (issue 19)."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from ingest.parsing.html_breaks import split_list_breaks
from ingest.parsing.short_line_lists import list_short_line_runs, listed_lines
from kernel.documents import Element

pytestmark = pytest.mark.unit


def paragraphs(markup: str) -> list[str]:
    root = lxml_html.document_fromstring(markup)
    return [" ".join(" ".join(p.itertext()).split()) for p in root.iter("p", "div")]


def test_runs_of_three_short_lines_are_listed() -> None:
    lines = ["Accepted currencies:", "Euro", "Pound sterling", "Swiss franc", "A sentence ends."]
    assert listed_lines(lines) == [False, True, True, True, False]
    assert listed_lines(["Euro", "Pound sterling"]) == [False, False]


def test_a_br_list_in_a_paragraph_becomes_one_paragraph_per_entry() -> None:
    markup = (
        "<html><body><p>Accepted currencies:<br>Afghan afghani<br/>Albanian lek<br>"
        "Algerian dinar</p><p>Payment is due within thirty days.<br>Late fees apply.</p>"
        "</body></html>"
    )
    assert paragraphs(split_list_breaks(markup)) == [
        "Accepted currencies:",
        "Afghan afghani",
        "Albanian lek",
        "Algerian dinar",
        "Payment is due within thirty days. Late fees apply.",
    ]


def test_divs_are_cut_and_tables_are_left_alone() -> None:
    markup = (
        "<div>Euro<br>Pound sterling<br>Swiss franc</div>"
        "<table><tr><td><p>Euro<br>Pound sterling<br>Swiss franc</p></td></tr></table>"
    )
    out = split_list_breaks(markup)
    assert paragraphs(out)[:3] == ["Euro", "Pound sterling", "Swiss franc"]
    assert "<p>Euro<br>Pound sterling<br>Swiss franc</p>" in out


def test_markup_without_a_list_is_returned_as_it_was() -> None:
    markup = "<p>Two short lines<br>are no list</p>"
    assert split_list_breaks(markup) is markup


def test_a_declared_heading_stays_a_heading_and_ends_the_run() -> None:
    elements = [
        Element("title", "Accepted currencies", level=2),
        *(Element("title", name) for name in ("Euro", "Pound sterling", "Swiss franc")),
    ]
    out = list_short_line_runs(elements)
    assert [(e.kind, e.level) for e in out] == [("title", 2), *[("list_item", None)] * 3]
    two = list_short_line_runs([elements[0], *elements[1:3]])
    assert [e.kind for e in two] == ["title", "title", "title"]  # a run of two: left as it was


def test_a_chinese_or_japanese_sentence_end_breaks_a_run_as_a_full_stop_does() -> None:
    """``。`` ends a sentence with no space after it; the line holding it is body text."""
    lines = ["自己資本利益率", "株価収益率", "当期の配当は前期と同じです。", "配当性向", "従業員数"]
    assert listed_lines(lines) == [False] * 5
    lines[2] = "配当方針"
    assert listed_lines(lines) == [True] * 5
