"""Table rules: row groups that repeat the header, readable on their own."""

from __future__ import annotations

import itertools

import pytest
from chunk_checks import assert_nothing_lost, assert_within_limit, words
from chunker_doubles import JoinCostingTokenCounterDouble, WhitespaceTokenCounterDouble
from chunker_samples import ORDER_HEADER, orders_table

from chunkers.base import TokenCounter
from chunkers.budget import Budget
from chunkers.table_rows import render_row
from chunkers.tables import TablesChunker
from kernel.documents import ChunkDraft, Element, ParsedDocument

pytestmark = pytest.mark.unit


def table_chunks(doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
    return TablesChunker().chunk(doc, tokens)


def one_table(rows: tuple[tuple[str, ...], ...], *, has_header: bool = True) -> ParsedDocument:
    return ParsedDocument("csv", (Element("table", "", rows=rows, has_header=has_header),))


def test_three_hundred_rows_every_chunk_repeats_the_header(minilm_tokens: TokenCounter) -> None:
    doc = orders_table(300)
    drafts = table_chunks(doc, minilm_tokens)
    budget = Budget.of(minilm_tokens)
    header = render_row(ORDER_HEADER)
    assert all(d.text.splitlines()[0] == header for d in drafts)
    data = [line for d in drafts for line in d.text.splitlines()[1:]]
    assert data == [render_row(row) for row in (doc.elements[0].rows or ())[1:]]
    sizes = [minilm_tokens.count(d.text) for d in drafts]
    assert all(budget.floor <= size <= budget.target for size in sizes), sizes
    spans = [d.metadata["rows"] for d in drafts]
    assert spans[0].startswith("1-") and spans[-1].endswith("-300")
    for before, after in itertools.pairwise(spans):
        assert int(after.split("-")[0]) == int(before.split("-")[1]) + 1


def test_rows_are_grouped_to_the_target_with_the_header_reserved() -> None:
    rows = (("sku", "colour", "size"), *((f"s{i}", "red", "M") for i in range(10)))
    drafts = table_chunks(one_table(rows), WhitespaceTokenCounterDouble(40))
    # header and rows cost 5 words; target 28 leaves 23 for rows: 4 rows a chunk
    assert [d.metadata["rows"] for d in drafts] == ["1-4", "5-8", "9-10"]
    assert drafts[2].text == "sku | colour | size\ns8 | red | M\ns9 | red | M"
    assert all(d.metadata["content"] == "table" for d in drafts)


def test_a_table_without_header_repeats_nothing() -> None:
    rows = tuple((f"s{i}", "red", "M") for i in range(10))
    drafts = table_chunks(one_table(rows, has_header=False), WhitespaceTokenCounterDouble(40))
    assert [d.metadata["rows"] for d in drafts] == ["1-5", "6-10"]
    assert drafts[1].text.splitlines()[0] == "s5 | red | M"


def test_a_row_too_long_for_one_chunk_is_cut_under_the_header() -> None:
    note = " ".join(f"word{i}" for i in range(100))
    rows = (("id", "note"), ("1", "short"), ("2", note), ("3", "short"))
    tokens = WhitespaceTokenCounterDouble(40)
    drafts = table_chunks(one_table(rows), tokens)
    assert_within_limit(drafts, tokens)
    assert all(d.text.startswith("id | note\n") for d in drafts)
    long_parts = [d for d in drafts if d.metadata["rows"] == "2"]
    # 102 words; target 28 less the 3-word header: five even parts
    assert [d.metadata["row_part"] for d in long_parts] == ["1", "2", "3", "4", "5"]
    assert all(len(d.text.split()) <= 28 for d in long_parts)
    body = " ".join(d.text.split("\n", 1)[1] for d in long_parts)
    assert words(body) == words(f"2 | {note}")
    assert [d.metadata["rows"] for d in drafts] == ["1", "2", "2", "2", "2", "2", "3"]


def test_a_header_too_long_to_repeat_becomes_the_first_row() -> None:
    header = tuple(f"column {i}" for i in range(12))  # 35 words with separators
    rows = (header, *(tuple(str(i) for _ in range(12)) for i in range(6)))
    tokens = WhitespaceTokenCounterDouble(60)
    drafts = table_chunks(one_table(rows), tokens)
    assert_within_limit(drafts, tokens)
    assert drafts[0].text.startswith("column 0 | column 1")
    assert all(not d.text.startswith("column") for d in drafts[1:])
    assert_nothing_lost(one_table(rows), drafts)


def test_cells_are_flattened_and_empty_rows_dropped() -> None:
    rows = (("Name", "Address"), ("Acme", "1 Main St\nSpringfield"), ("", ""), ("Beta", "2 Elm"))
    drafts = table_chunks(one_table(rows), WhitespaceTokenCounterDouble(40))
    assert [d.text for d in drafts] == [
        "Name | Address\nAcme | 1 Main St Springfield\nBeta | 2 Elm"
    ]


def test_each_sheet_title_is_the_section_of_its_rows() -> None:
    doc = ParsedDocument(
        "xlsx",
        (
            Element("title", "Q1", page=1),
            Element("table", "", page=1, rows=(("region", "sales"), ("North", "10"))),
            Element("title", "Q2", page=2),
            Element("table", "", page=2, rows=(("region", "sales"), ("North", "12"))),
        ),
    )
    drafts = table_chunks(doc, WhitespaceTokenCounterDouble(40))
    assert [(d.section, d.page, d.text) for d in drafts] == [
        ("Q1", 1, "region | sales\nNorth | 10"),
        ("Q2", 2, "region | sales\nNorth | 12"),
    ]


def test_row_groups_are_verified_when_joins_cost_tokens() -> None:
    tokens = JoinCostingTokenCounterDouble(30)
    drafts = table_chunks(orders_table(60), tokens)
    assert_within_limit(drafts, tokens)
    header = render_row(ORDER_HEADER)
    assert all(d.text.splitlines()[0] == header for d in drafts)
