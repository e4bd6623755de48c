"""Choosing a strategy: the registry, detection, and what chunk_document promises."""

from __future__ import annotations

import pytest
from chunker_doubles import WhitespaceTokenCounterDouble
from chunker_samples import (
    every_sample,
    gateway_manual,
    inspection_report,
    orders_table,
    runaway_sentence,
    services_agreement,
)

from chunkers import DOC_TYPES, chunk_document, resolve_doc_type
from chunkers.detection import legal_score
from chunkers.memo import MemoTokenCounter
from chunkers.registry import STRATEGIES
from kernel.documents import Element, ParsedDocument
from kernel.errors import ConfigurationError, InvalidInputError

pytestmark = pytest.mark.unit


def with_format(doc: ParsedDocument, fmt: str) -> ParsedDocument:
    return ParsedDocument(fmt, doc.elements, doc.title, doc.metadata)


def test_every_doc_type_has_a_strategy_and_nothing_else_does() -> None:
    assert DOC_TYPES == ("legal", "product_docs", "tables", "email", "slides", "generic")
    assert tuple(STRATEGIES) == DOC_TYPES


def test_a_requested_type_wins_over_detection() -> None:
    assert resolve_doc_type("legal", gateway_manual()) == "legal"
    assert resolve_doc_type(" Product_Docs ", services_agreement()) == "product_docs"


def test_an_unknown_type_is_refused_naming_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError) as refused:
        resolve_doc_type("contracts", services_agreement())
    for name in DOC_TYPES:
        assert name in refused.value.message
    with pytest.raises(InvalidInputError):
        chunk_document(services_agreement(), "contracts", WhitespaceTokenCounterDouble(40))


@pytest.mark.parametrize(
    ("fmt", "doc_type"),
    [
        ("xlsx", "tables"),
        ("xls", "tables"),
        ("csv", "tables"),
        ("tsv", "tables"),
        ("eml", "email"),
        ("pptx", "slides"),
        ("ppt", "slides"),
        ("md", "product_docs"),
        ("rst", "product_docs"),
        ("html", "product_docs"),
    ],
)
def test_the_format_decides_for_structured_files(fmt: str, doc_type: str) -> None:
    # even a contract, once exported as a spreadsheet or a web page
    assert resolve_doc_type(None, with_format(services_agreement(), fmt)) == doc_type
    assert resolve_doc_type("", with_format(inspection_report(), fmt)) == doc_type


@pytest.mark.parametrize("fmt", ["pdf", "docx", "doc", "odt", "rtf", "txt"])
def test_contracts_are_detected_from_their_content(fmt: str) -> None:
    assert resolve_doc_type(None, with_format(services_agreement(), fmt)) == "legal"
    assert resolve_doc_type(None, with_format(inspection_report(), fmt)) == "generic"
    assert resolve_doc_type(None, with_format(gateway_manual(), fmt)) == "generic"


def test_one_legal_cue_alone_is_not_enough() -> None:
    numbered_manual = "\n".join(
        f"{i}.{j} Open the valve and check the gauge." for i in range(1, 4) for j in range(1, 4)
    )
    assert legal_score(numbered_manual) < 4
    spec = "The device shall log errors. The log shall rotate daily. " * 20
    assert legal_score(spec) < 4
    nda = (
        "This agreement is made between the parties. The Recipient shall keep the "
        "Confidential Information secret and shall not disclose it, notwithstanding any "
        "request, and hereby agrees that the obligations herein survive."
    )
    assert legal_score(nda) >= 4


@pytest.mark.parametrize("word", ["Section", "Sec.", "Article", "\u00a7"])
def test_every_way_of_naming_a_section_counts_as_a_legal_heading(word: str) -> None:
    headings = f"{word} 1 Scope\nText.\n{word} 2 Term\nText.\n"
    assert legal_score(headings) == 2
    assert legal_score(headings.replace(word, "Chapter")) == 0  # manuals have chapters


def test_the_window_must_be_big_enough_to_chunk_into() -> None:
    with pytest.raises(ConfigurationError):
        chunk_document(services_agreement(), "legal", WhitespaceTokenCounterDouble(4))


@pytest.mark.parametrize(
    ("sample", "doc_type"),
    [
        (runaway_sentence(5000), "generic"),
        (orders_table(300), "tables"),
        (inspection_report(40), "generic"),
        (services_agreement(), "legal"),
    ],
    ids=["runaway", "orders", "report", "contract"],
)
def test_counting_stays_linear_in_the_document_size(sample: ParsedDocument, doc_type: str) -> None:
    size = sum(
        len(e.text) + sum(len(c) + 3 for row in e.rows or () for c in row) for e in sample.elements
    )
    tokens = WhitespaceTokenCounterDouble(40)
    chunk_document(sample, doc_type, tokens)
    assert tokens.chars_counted <= 6 * size


def test_the_10000_line_code_block_is_counted_a_few_times_over_at_most() -> None:
    doc = every_sample()["code_10k_lines"]
    tokens = WhitespaceTokenCounterDouble(254)
    chunk_document(doc, "product_docs", tokens)
    assert tokens.chars_counted <= 6 * len(doc.elements[1].text)


def test_the_memo_counts_each_short_string_once() -> None:
    inner = WhitespaceTokenCounterDouble(40)
    memo = MemoTokenCounter(inner)
    assert [memo.count("a b"), memo.count("a b"), memo.count("c")] == [2, 2, 1]
    assert inner.calls == 2
    assert memo.max_tokens == 40
    long_text = "word " * 1000
    memo.count(long_text)
    memo.count(long_text)
    assert inner.calls == 4  # long strings are not kept


def test_empty_and_whitespace_elements_are_ignored() -> None:
    doc = ParsedDocument(
        "txt",
        (Element("text", "   "), Element("text", "Only line."), Element("table", "", rows=())),
    )
    drafts = chunk_document(doc, "generic", WhitespaceTokenCounterDouble(40))
    assert [d.text for d in drafts] == ["Only line."]
