"""The generic strategy: sentence windows with overlap that keep pages and headings."""

from __future__ import annotations

import itertools

import pytest
from chunk_checks import assert_within_limit, words
from chunker_doubles import WhitespaceTokenCounterDouble
from chunker_samples import inspection_report, runaway_sentence

from chunkers.base import TokenCounter
from chunkers.budget import Budget
from chunkers.generic import GenericChunker
from kernel.documents import ChunkDraft, Element, ParsedDocument
from text.sentences import split_sentences

pytestmark = pytest.mark.unit


def generic_chunks(doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
    return GenericChunker().chunk(doc, tokens)


def sentences_of(text: str) -> list[str]:
    return [" ".join(s.split()) for s in split_sentences(text) if s.strip()]


def test_windows_overlap_by_whole_sentences_within_the_budget() -> None:
    sentences = [f"Sentence number {i} of the log has ten words here." for i in range(12)]
    doc = ParsedDocument("txt", (Element("text", " ".join(sentences)),))
    # limit 100: target 70, overlap 10 words, i.e. one sentence
    drafts = generic_chunks(doc, WhitespaceTokenCounterDouble(100))
    assert [sentences_of(d.text) for d in drafts] == [sentences[0:7], sentences[6:12]]


def test_real_windows_overlap_and_cut_between_sentences(minilm_tokens: TokenCounter) -> None:
    doc = inspection_report(40)
    drafts = generic_chunks(doc, minilm_tokens)
    budget = Budget.of(minilm_tokens)
    assert_within_limit(drafts, minilm_tokens)
    every_sentence = {s for e in doc.elements for s in sentences_of(e.text)}
    overlaps = 0
    for before, after in itertools.pairwise(drafts):
        assert set(sentences_of(after.text)) <= every_sentence  # whole sentences only
        first, second = sentences_of(before.text), sentences_of(after.text)
        shared = next(
            k for k in range(len(second), -1, -1) if first[len(first) - k :] == second[:k]
        )
        overlap_text = " ".join(second[:shared])
        assert minilm_tokens.count(overlap_text) <= budget.overlap
        overlaps += shared > 0
    assert overlaps >= len(drafts) // 2
    assert all(budget.floor <= minilm_tokens.count(d.text) for d in drafts)


def test_a_chunk_cites_the_page_of_its_first_sentence(minilm_tokens: TokenCounter) -> None:
    doc = inspection_report(40)
    page_of = {s: e.page for e in doc.elements for s in sentences_of(e.text)}
    drafts = generic_chunks(doc, minilm_tokens)
    assert [d.page for d in drafts] == [page_of[sentences_of(d.text)[0]] for d in drafts]
    assert len({d.page for d in drafts}) == 7


def test_a_5000_word_sentence_is_cut_into_even_pieces_without_loss(
    minilm_tokens: TokenCounter,
) -> None:
    doc = runaway_sentence(5000)
    drafts = generic_chunks(doc, minilm_tokens)
    assert_within_limit(drafts, minilm_tokens)
    assert words(" ".join(d.text for d in drafts)) == words(doc.elements[0].text)
    sizes = [minilm_tokens.count(d.text) for d in drafts]
    assert max(sizes) - min(sizes) <= 10, sizes


def test_windows_never_cross_a_heading() -> None:
    doc = ParsedDocument(
        "pdf",
        (
            Element("title", "Findings", page=1),
            Element("text", "Pump 3 leaked. The seal was worn.", page=1),
            Element("title", "Actions", page=2),
            Element("text", "Replace the seal. Test the pump.", page=2),
        ),
    )
    drafts = generic_chunks(doc, WhitespaceTokenCounterDouble(254))
    assert [(d.section, d.page, d.text) for d in drafts] == [
        ("Findings", 1, "Pump 3 leaked. The seal was worn."),
        ("Actions", 2, "Replace the seal. Test the pump."),
    ]


def test_paragraphs_keep_their_breaks_inside_a_window() -> None:
    doc = ParsedDocument(
        "txt", (Element("text", "First point. Second point."), Element("text", "Third point."))
    )
    (draft,) = generic_chunks(doc, WhitespaceTokenCounterDouble(40))
    assert draft.text == "First point. Second point.\n\nThird point."
