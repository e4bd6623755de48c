"""Assertions over chunk drafts that every strategy must satisfy."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from chunkers.base import TokenCounter
from kernel.documents import ChunkDraft, Element, ParsedDocument

# Kinds whose words are expected in chunk text (titles go to sections, headers
# are page furniture, email headers go to metadata).
TEXT_KINDS = frozenset({"text", "list_item", "code", "table", "notes"})
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def element_words(element: Element) -> list[str]:
    if element.kind == "table" and element.rows:
        return [w for row in element.rows for cell in row for w in words(cell)]
    return words(element.text)


def assert_within_limit(drafts: Sequence[ChunkDraft], tokens: TokenCounter) -> None:
    assert drafts, "no chunks"
    for draft in drafts:
        assert draft.text.strip(), "empty chunk"
        count = tokens.count(draft.text)
        assert count <= tokens.max_tokens, (
            f"{count} tokens > {tokens.max_tokens}: {draft.text[:80]}"
        )


def assert_nothing_lost(doc: ParsedDocument, drafts: Sequence[ChunkDraft]) -> None:
    """Every word occurrence of the body is in chunk text; every heading is in a section."""
    expected = Counter(w for e in doc.elements if e.kind in TEXT_KINDS for w in element_words(e))
    found = Counter(w for d in drafts for w in words(d.text))
    missing = expected - found
    assert not missing, f"words lost: {dict(list(missing.items())[:10])}"
    headings = {part for d in drafts if d.section for part in d.section.split(" > ")}
    for element in doc.elements:
        if element.kind == "title":
            title = element.text.strip()
            in_section = any(title in heading for heading in headings)
            assert in_section or any(title in d.text for d in drafts), f"heading lost: {title}"


def assert_reading_order(doc: ParsedDocument, drafts: Sequence[ChunkDraft]) -> None:
    """The body's words appear, in document order, in the chunks read one after another.

    Repeated text (overlap, repeated table headers) only adds words to the chunk
    stream, so each element must still be found as a subsequence after the
    previous one.
    """
    stream = [w for d in drafts for w in words(d.text)]
    position = 0
    for element in doc.elements:
        if element.kind not in TEXT_KINDS:
            continue
        for word in element_words(element):
            try:
                position = stream.index(word, position) + 1
            except ValueError:
                raise AssertionError(f"{word!r} of {element.text[:60]!r} out of order") from None
