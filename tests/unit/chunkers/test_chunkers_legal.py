"""The legal strategy: whole clauses, clause numbers and heading paths on every chunk."""

from __future__ import annotations

import re

import pytest
from chunk_checks import assert_nothing_lost, assert_within_limit, words
from chunker_doubles import WhitespaceTokenCounterDouble
from chunker_samples import services_agreement

from chunkers.base import TokenCounter
from chunkers.clause_markers import clause_label, read_marker
from chunkers.legal import LegalChunker, clause_number
from kernel.documents import ChunkDraft, Element, ParsedDocument

pytestmark = pytest.mark.unit

ROOT = "MASTER SERVICES AGREEMENT"


def legal_chunks(doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
    return LegalChunker().chunk(doc, tokens)


def paragraph_starts(doc: ParsedDocument) -> set[str]:
    """Where a chunk may start: the start of an element or of one of its lines."""
    return {line.strip()[:25] for e in doc.elements for line in e.text.splitlines() if line.strip()}


@pytest.mark.parametrize("max_tokens", [24, 40, 80, 254])
def test_no_chunk_starts_mid_clause(max_tokens: int) -> None:
    doc = services_agreement()
    drafts = legal_chunks(doc, WhitespaceTokenCounterDouble(max_tokens))
    assert_within_limit(drafts, WhitespaceTokenCounterDouble(max_tokens))
    starts = paragraph_starts(doc)
    for draft in drafts:
        if draft.metadata.get("continued") == "true" or draft.metadata.get("content") == "table":
            continue
        assert draft.text[:25] in starts, draft.text[:60]
        if "clause" in draft.metadata:
            marker = read_marker(draft.text)
            assert marker is not None, draft.text[:60]
            assert draft.metadata["clause"].endswith(marker.number)


def test_with_the_real_tokenizer_no_clause_of_the_contract_is_cut(
    minilm_tokens: TokenCounter,
) -> None:
    doc = services_agreement()
    drafts = legal_chunks(doc, minilm_tokens)
    assert_within_limit(drafts, minilm_tokens)
    assert_nothing_lost(doc, drafts)
    assert not [d for d in drafts if d.metadata.get("continued")]
    assert [(d.text.split()[0], d.section, d.metadata.get("clause"), d.page) for d in drafts] == [
        ("This", ROOT, None, 1),
        ("1.1", f"{ROOT} > 1. DEFINITIONS", "1.1", 1),
        ("2.1", f"{ROOT} > 2. PAYMENT", "2.1", 2),
        ("2.3", f"{ROOT} > 2. PAYMENT > 2.3 Late Payment", "2.3", 3),
        ("3.1", f"{ROOT} > 3. TERM AND TERMINATION", "3.1", 3),
        ("4.1", f"{ROOT} > 4. LIMITATION OF LIABILITY", "4.1", 4),
        ("Plan", "SCHEDULE 1 - FEES", None, 4),
        ("IN", "SCHEDULE 1 - FEES", None, 4),
    ]


def test_sub_clauses_carry_their_full_number_and_path() -> None:
    drafts = legal_chunks(services_agreement(), WhitespaceTokenCounterDouble(40))
    payment = [d for d in drafts if d.section and "2. PAYMENT > 2.1" in d.section]
    assert [(d.text.split()[0], d.section, d.metadata["clause"]) for d in payment] == [
        ("2.1", f"{ROOT} > 2. PAYMENT > 2.1 Fees", "2.1"),
        ("(b)", f"{ROOT} > 2. PAYMENT > 2.1 Fees > (b)", "2.1(b)"),
        ("(ii)", f"{ROOT} > 2. PAYMENT > 2.1 Fees", "2.1(b)(ii)"),
    ]
    assert payment[0].text == (
        "2.1 Fees. The Customer shall pay the Fees set out in Schedule 1 as follows:\n\n"
        "(a) the subscription fee, annually in advance;"
    )


def test_chunks_never_mix_top_level_clauses() -> None:
    for max_tokens in (40, 120, 254):
        for draft in legal_chunks(services_agreement(), WhitespaceTokenCounterDouble(max_tokens)):
            tops = {m.group(1) for m in re.finditer(r"(?m)^(\d+)\.\d", draft.text)}
            assert len(tops) <= 1, draft.text


def test_a_clause_too_long_for_one_chunk_is_cut_and_marked_continued() -> None:
    sentences = [
        f"The Supplier shall keep record {i} for seven years after delivery." for i in range(12)
    ]
    doc = ParsedDocument(
        "docx",
        (
            Element("title", "5. RECORDS", page=7),
            Element("text", "5.1 Retention. " + " ".join(sentences), page=7),
            Element("text", "5.2 Audit. The Customer may audit the records once a year.", page=8),
        ),
    )
    tokens = WhitespaceTokenCounterDouble(40)
    drafts = legal_chunks(doc, tokens)
    assert_within_limit(drafts, tokens)
    retention = [d for d in drafts if d.metadata["clause"] == "5.1"]
    # 2 + 12 sentences of 11 words, target 28: six pieces of two whole sentences
    assert [len(d.text.split()) for d in retention] == [24, 22, 22, 22, 22, 22]
    assert retention[0].text.startswith("5.1 Retention. The Supplier")
    assert [d.metadata.get("continued") for d in retention] == [None] + ["true"] * 5
    assert {d.section for d in retention} == {"5. RECORDS > 5.1 Retention"}
    assert {d.page for d in retention} == {7}
    # cut between sentences, never inside one
    assert all(d.text.endswith("delivery.") for d in retention)
    assert words(" ".join(d.text for d in retention)) == words(doc.elements[1].text)
    assert drafts[-1].text.startswith("5.2 Audit.")
    assert drafts[-1].page == 8


def test_several_clauses_in_one_element_are_split_on_their_lines() -> None:
    drafts = legal_chunks(services_agreement(), WhitespaceTokenCounterDouble(16))
    starts = {d.text.split()[0]: d for d in drafts if not d.metadata.get("continued")}
    assert starts["1.4"].metadata["clause"] == "1.4"
    assert starts["1.4"].page == 2
    assert (
        starts["1.3"].text
        == '1.3 "Services" means the hosted analytics services described in Schedule 1.'
    )


def test_a_heading_with_no_clause_under_it_is_kept_as_text() -> None:
    doc = ParsedDocument(
        "pdf",
        (
            Element("title", "6. NOTICES", page=9),
            Element("title", "SCHEDULE 2 - SERVICE LEVELS", page=9),
            Element(
                "text",
                "1. Availability. The platform shall be available 99.9% of each month.",
                page=9,
            ),
        ),
    )
    drafts = legal_chunks(doc, WhitespaceTokenCounterDouble(40))
    assert [(d.text, d.section) for d in drafts] == [
        ("6. NOTICES", "6. NOTICES"),
        (
            "1. Availability. The platform shall be available 99.9% of each month.",
            "SCHEDULE 2 - SERVICE LEVELS > 1. Availability",
        ),
    ]


def test_article_and_section_headings_nest_numbered_clauses() -> None:
    doc = ParsedDocument(
        "docx",
        (
            Element("title", "ARTICLE IV - CONFIDENTIALITY", page=3),
            Element(
                "text",
                "Section 4.1 Obligations. Each party shall keep the other's secrets.",
                page=3,
            ),
            Element("list_item", "(a) This survives termination.", page=3),
            Element("title", "ARTICLE V - TERM", page=4),
            Element("text", "Section 5.1 Term. This Agreement runs for two years.", page=4),
        ),
    )
    drafts = legal_chunks(doc, WhitespaceTokenCounterDouble(254))
    assert [(d.section, d.metadata["clause"]) for d in drafts] == [
        ("ARTICLE IV - CONFIDENTIALITY > Section 4.1 Obligations", "Section 4.1"),
        ("ARTICLE V - TERM > Section 5.1 Term", "Section 5.1"),
    ]
    assert "(a) This survives termination." in drafts[0].text


def test_a_part_contains_the_articles_after_it() -> None:
    """A statute's PART holds its Articles in the chunk paths, as parsing nests them."""
    doc = ParsedDocument(
        "txt",
        (
            Element("title", "PART 1 - GENERAL", page=1),
            Element("title", "ARTICLE I - SCOPE", page=1),
            Element("text", "Section 1.1 Scope. This code applies to every member.", page=1),
            Element("title", "ARTICLE II - TERMS", page=1),
            Element("text", "Section 2.1 Terms. Words have their plain meaning.", page=1),
            Element("title", "PART 2 - DUTIES", page=2),
            Element("title", "ARTICLE III - CARE", page=2),
            Element("text", "Section 3.1 Care. Members act with care.", page=2),
        ),
    )
    drafts = legal_chunks(doc, WhitespaceTokenCounterDouble(254))
    assert [d.section for d in drafts] == [
        "PART 1 - GENERAL > ARTICLE I - SCOPE > Section 1.1 Scope",
        "PART 1 - GENERAL > ARTICLE II - TERMS > Section 2.1 Terms",
        "PART 2 - DUTIES > ARTICLE III - CARE > Section 3.1 Care",
    ]


@pytest.mark.parametrize(
    ("text", "number", "rank"),
    [
        ("1. DEFINITIONS", "1", 3.0),
        ("2.1 Fees. The Customer shall pay", "2.1", 4.0),
        ("3.1.2 Limitation of Liability: The", "3.1.2", 5.0),
        ("4) The Supplier", "4", 3.0),
        ("ARTICLE II - PAYMENT", "Article II", 1.0),
        ("PART 2 - OBLIGATIONS", "Part 2", 0.5),
        ("Book the First", "Book the First", 0.5),
        ("Section 7. Term", "Section 7", 2.0),
        ("\u00a7 9 Liability", "Section 9", 2.0),
        ("Sec. 8 Notices", "Section 8", 2.0),
        ("(a) the subscription fee", "(a)", 10.0),
        ("b) the usage fee", "(b)", 10.0),
        ("(iv) the storage", "(iv)", 11.0),
        ("(A) The Buyer", "(A)", 12.0),
        ("(3) the third", "(3)", 13.0),
    ],
)
def test_clause_markers_are_read_with_their_depth(text: str, number: str, rank: float) -> None:
    marker = read_marker(text)
    assert marker is not None
    assert (marker.number, marker.rank) == (number, rank)


@pytest.mark.parametrize(
    "text",
    [
        "Section 5 shall survive termination.",
        "Article 12 applies to all orders.",
        "2.5 hours of support are included.",
        "2024 was a record year.",
        "12 months after delivery",
        "The Buyer shall pay (a) fees.",
    ],
)
def test_sentences_that_only_look_numbered_are_not_clauses(text: str) -> None:
    assert read_marker(text) is None


def test_roman_numerals_are_told_from_letters_by_their_siblings() -> None:
    def after(letter: str | None, roman: str | None):  # type: ignore[no-untyped-def]
        return lambda rank: letter if rank == 10.0 else roman

    def rank(text: str, letter: str | None, roman: str | None) -> float:
        marker = read_marker(text, after(letter, roman))
        assert marker is not None
        return marker.rank

    assert rank("(i) x", "(h)", None) == 10.0  # the ninth letter
    assert rank("(i) x", "(b)", None) == 11.0  # a first Roman item under (b)
    assert rank("(v) x", "(b)", "(iv)") == 11.0
    assert rank("(v) x", "(u)", None) == 10.0
    assert rank("(c) x", "(b)", "(ii)") == 10.0
    assert rank("(ii) x", None, "(i)") == 11.0


def test_captions_join_the_clause_number() -> None:
    for text, label in [
        ("2.1 Fees. The Customer shall pay", "2.1 Fees"),
        ("1.1 The Buyer shall pay the fees.", "1.1"),
        ("3.1.2 Limitation of Liability: The", "3.1.2 Limitation of Liability"),
        ("ARTICLE II - DEFINITIONS", "ARTICLE II DEFINITIONS"),
        ("(a) the subscription fee;", "(a)"),
    ]:
        marker = read_marker(text)
        assert marker is not None
        assert clause_label(text, marker) == label


def test_clause_numbers_compose_along_the_path() -> None:
    assert clause_number(("AGREEMENT", "2. PAYMENT", "2.1 Fees", "(b)", "(ii)")) == "2.1(b)(ii)"
    assert clause_number(("ARTICLE IV - CONFIDENTIALITY",)) == "Article IV"
    assert clause_number(("SCHEDULE 1", "(a)")) == "(a)"
    assert clause_number(("AGREEMENT",)) is None
