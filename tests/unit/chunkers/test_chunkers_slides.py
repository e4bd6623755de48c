"""The slides strategy: a chunk per slide with its notes, split only when too long."""

from __future__ import annotations

import pytest
from chunk_checks import assert_nothing_lost, assert_within_limit
from chunker_doubles import WhitespaceTokenCounterDouble
from chunker_samples import quarterly_deck

from chunkers.base import TokenCounter
from chunkers.slides import SlidesChunker
from kernel.documents import ChunkDraft, Element, ParsedDocument

pytestmark = pytest.mark.unit


def slide_chunks(doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
    return SlidesChunker().chunk(doc, tokens)


def test_one_chunk_per_slide_with_title_as_section_and_notes_included(
    minilm_tokens: TokenCounter,
) -> None:
    drafts = slide_chunks(quarterly_deck(), minilm_tokens)
    single = [d for d in drafts if d.page != 4]
    assert [(d.page, d.section, d.text) for d in single] == [
        (1, "Q1 Operations Review", "Q1 Operations Review"),
        (
            2,
            "Highlights",
            "On-time delivery rose to 96%\nTwo new distribution centres opened\n\n"
            "Notes: Mention that Leeds opened two weeks early.",
        ),
        (
            3,
            "Incidents by site",
            "Site | Incidents | Downtime h\nLeeds | 3 | 4\nRotterdam | 7 | 31\n\n"
            "Notes: Rotterdam downtime was the gasket failure.",
        ),
        (5, None, "Questions?"),
    ]
    assert not [d for d in drafts if "Northwind |" in d.text]


def test_a_slide_over_the_limit_is_split_within_the_slide(minilm_tokens: TokenCounter) -> None:
    doc = quarterly_deck()
    drafts = slide_chunks(doc, minilm_tokens)
    assert_within_limit(drafts, minilm_tokens)
    assert_nothing_lost(doc, drafts)
    long_slide = [d for d in drafts if d.page == 4]
    assert len(long_slide) > 1
    assert {d.section for d in long_slide} == {"Rotterdam recovery"}
    assert long_slide[0].text.startswith(
        "Line restarted 8 March after the gasket replacement.\n\nNotes: Point 1:"
    )
    assert long_slide[-1].text.endswith(
        "Point 40: the Rotterdam line recovered 40 hours of downtime after the gasket change."
    )
    assert [d.page for d in drafts] == sorted(d.page for d in drafts if d.page is not None)


def test_a_slide_stays_whole_up_to_the_limit_not_the_target() -> None:
    body = " ".join(f"w{i}" for i in range(35))  # target is 28, limit 40
    doc = ParsedDocument(
        "pptx", (Element("title", "Roadmap", page=1), Element("text", body, page=1))
    )
    drafts = slide_chunks(doc, WhitespaceTokenCounterDouble(40))
    assert [(d.text, d.section, d.page) for d in drafts] == [(body, "Roadmap", 1)]


def test_without_page_numbers_page_breaks_separate_slides() -> None:
    doc = ParsedDocument(
        "ppt",
        (
            Element("title", "Agenda"),
            Element("list_item", "Results"),
            Element("page_break", ""),
            Element("title", "Results"),
            Element("text", "Revenue grew 12%."),
        ),
    )
    drafts = slide_chunks(doc, WhitespaceTokenCounterDouble(40))
    assert [(d.section, d.text) for d in drafts] == [
        ("Agenda", "Results"),
        ("Results", "Revenue grew 12%."),
    ]


def test_a_big_table_on_a_slide_follows_the_table_rules() -> None:
    rows = (("Site", "Score"), *((f"Site {i}", str(i)) for i in range(30)))
    doc = ParsedDocument(
        "pptx",
        (
            Element("title", "Scores", page=6),
            Element("table", "", page=6, rows=rows),
            Element("notes", "Read the top three only.", page=6),
        ),
    )
    tokens = WhitespaceTokenCounterDouble(40)
    drafts = slide_chunks(doc, tokens)
    assert_within_limit(drafts, tokens)
    tables = [d for d in drafts if d.metadata.get("content") == "table"]
    assert len(tables) > 1
    assert all(d.text.startswith("Site | Score\n") for d in tables)
    assert drafts[-1].text == "Notes: Read the top three only."
    assert {(d.page, d.section) for d in drafts} == {(6, "Scores")}
