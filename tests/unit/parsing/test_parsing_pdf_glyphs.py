"""Unmapped PDF glyphs given back where pypdf's text layer maps them (issue 19).

The strings are the two readers' real output on pages of the GNU Octave manual
(pdfminer through unstructured, and pypdf), cut down to the lines around the glyphs.
"""

from __future__ import annotations

import pytest

from ingest.parsing.pdf_glyphs import has_unmapped_glyphs, map_glyphs
from kernel.documents import Element

pytestmark = pytest.mark.unit


def texts(elements: list[Element]) -> list[str]:
    return [e.text for e in elements]


def test_a_code_in_place_of_a_word_takes_that_word() -> None:
    ours = [Element("title", "4.1 Matrices"), Element("text", "a = (cid:20) 1 2 ; 3 4 (cid:21)")]
    page = "4.1 Matrices\na = [ 1 2 ; 3 4 ]\n"
    assert texts(map_glyphs(ours, page)) == ["4.1 Matrices", "a = [ 1 2 ; 3 4 ]"]
    assert [e.kind for e in map_glyphs(ours, page)] == ["title", "text"]


def test_markers_the_readers_place_differently_pair_up_by_count() -> None:
    ours = [
        Element("text", "'count_calls' has been called 3 times"),
        Element("text", "'count_calls' has been called 4 times"),
        Element("text", "(cid:97) (cid:97)"),
        Element("text", "clear all"),
    ]
    page = (
        "⊢ 'count_calls' has been called 3 times\n"
        "⊢ 'count_calls' has been called 4 times\nclear all\n"
    )
    assert texts(map_glyphs(ours, page))[2] == "⊢ ⊢"


def test_codes_pypdf_cannot_map_either_stay() -> None:
    ours = [Element("text", "the output is marked (cid:97) here, and (cid:20) there")]
    assert texts(map_glyphs(ours, "")) == [ours[0].text]
    # Two kinds of leftover code against one kind of symbol: no guess is made.
    page = "the output is marked here, and there ⊢ ⊢"
    assert texts(map_glyphs(ours, page)) == [ours[0].text]
    assert has_unmapped_glyphs(map_glyphs(ours, page))


def test_a_code_is_only_given_a_short_symbol_never_a_word() -> None:
    ours = [Element("text", "see (cid:41) below")]
    assert texts(map_glyphs(ours, "see Figure below")) == ["see (cid:41) below"]
    assert not has_unmapped_glyphs([Element("text", "plain text")])
