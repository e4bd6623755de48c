"""Properties every strategy keeps, on every realistic sample, with the real tokenizer."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest
from chunk_checks import assert_nothing_lost, assert_reading_order, assert_within_limit
from chunker_doubles import (
    CharacterTokenCounterDouble,
    JoinCostingTokenCounterDouble,
    WhitespaceTokenCounterDouble,
)
from chunker_samples import every_sample

from chunkers.base import TokenCounter
from chunkers.registry import DOC_TYPES, chunk_document
from kernel.documents import ChunkDraft, Element, ParsedDocument

pytestmark = pytest.mark.unit

SAMPLES = every_sample()


@pytest.fixture(scope="module")
def minilm_chunks(minilm_tokens: TokenCounter) -> Callable[[str, str], list[ChunkDraft]]:
    @cache
    def chunks(sample: str, doc_type: str) -> list[ChunkDraft]:
        return chunk_document(SAMPLES[sample], doc_type, minilm_tokens)

    return chunks


@pytest.mark.parametrize("doc_type", DOC_TYPES)
@pytest.mark.parametrize("sample", SAMPLES)
def test_no_chunk_exceeds_the_model_window(
    sample: str,
    doc_type: str,
    minilm_chunks: Callable[[str, str], list[ChunkDraft]],
    minilm_tokens: TokenCounter,
) -> None:
    assert_within_limit(minilm_chunks(sample, doc_type), minilm_tokens)


@pytest.mark.parametrize("doc_type", DOC_TYPES)
@pytest.mark.parametrize("sample", SAMPLES)
def test_no_word_is_lost_and_reading_order_holds(
    sample: str, doc_type: str, minilm_chunks: Callable[[str, str], list[ChunkDraft]]
) -> None:
    drafts = minilm_chunks(sample, doc_type)
    assert_nothing_lost(SAMPLES[sample], drafts)
    assert_reading_order(SAMPLES[sample], drafts)


@pytest.mark.parametrize("doc_type", DOC_TYPES)
@pytest.mark.parametrize("sample", SAMPLES)
def test_pages_come_from_the_document(
    sample: str, doc_type: str, minilm_chunks: Callable[[str, str], list[ChunkDraft]]
) -> None:
    pages = {e.page for e in SAMPLES[sample].elements if e.kind not in ("header", "page_break")}
    drafts = minilm_chunks(sample, doc_type)
    assert {d.page for d in drafts} <= pages
    if None not in pages:
        assert [d.page for d in drafts] == sorted(d.page for d in drafts if d.page is not None)


@pytest.mark.parametrize(
    "tokens",
    [
        WhitespaceTokenCounterDouble(40),
        WhitespaceTokenCounterDouble(16),
        CharacterTokenCounterDouble(120),
        JoinCostingTokenCounterDouble(30),
    ],
    ids=["words-40", "words-16", "characters-120", "join-costing-30"],
)
@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_limit_holds_for_other_tokenizers_and_small_windows(
    doc_type: str, tokens: TokenCounter
) -> None:
    for name, doc in SAMPLES.items():
        if name == "code_10k_lines":
            doc = ParsedDocument(doc.format, (doc.elements[0], _first_lines(doc.elements[1], 400)))
        drafts = chunk_document(doc, doc_type, tokens)
        assert_within_limit(drafts, tokens)
        assert_nothing_lost(doc, drafts)
        assert_reading_order(doc, drafts)


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_chunking_is_pure(doc_type: str) -> None:
    tokens = WhitespaceTokenCounterDouble(40)
    for doc in SAMPLES.values():
        assert chunk_document(doc, doc_type, tokens) == chunk_document(doc, doc_type, tokens)


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_page_furniture_alone_gives_no_chunks(doc_type: str) -> None:
    doc = ParsedDocument(
        "pdf",
        (Element("header", "ACME CONFIDENTIAL", page=1), Element("page_break", "", page=1)),
    )
    assert chunk_document(doc, doc_type, WhitespaceTokenCounterDouble(40)) == []


def _first_lines(element: Element, lines: int) -> Element:
    return Element("code", "\n".join(element.text.splitlines()[:lines]))
