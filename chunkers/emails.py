"""``email``: headers as metadata, the new text findable, the quoted history apart.

Every chunk carries the message's ``from``, ``to``, ``cc``, ``subject`` and
``date`` (from the parser's metadata, or from ``email_header`` elements when the
metadata lacks them) and its ``section`` is the subject. The text a sender
wrote in this message fills the main chunks (``quoted``: "false"). The quoted
history (see ``chunkers.mail_quotes``) is not dropped, since the earlier
messages may not be in the corpus, but it is chunked apart, never mixed into a
main chunk, and marked ``quoted``: "true" so retrieval can demote or filter it
instead of finding the same history once per reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from chunkers.base import TokenCounter
from chunkers.blocks import Block
from chunkers.budget import Budget
from chunkers.element_blocks import DROPPED_KINDS, code_blocks, prose_blocks
from chunkers.mail_quotes import QuoteTracker
from chunkers.packing import pack_blocks
from chunkers.table_rows import table_blocks
from kernel.documents import ChunkDraft, Element, ParsedDocument

HEADER_KEYS = ("from", "to", "cc", "subject", "date")
_HEADER_LINE = re.compile(r"^\s*(From|To|Cc|Subject|Date)\s*:\s*(.+?)\s*$", re.IGNORECASE)


class EmailChunker:
    def chunk(self, doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
        budget = Budget.of(tokens)
        headers = message_headers(doc)
        subject = headers.get("subject") or (doc.title or "").strip()
        path = (subject,) if subject else ()
        tracker = QuoteTracker()
        blocks: list[Block] = []
        for element in doc.elements:
            if element.kind in DROPPED_KINDS or element.kind == "email_header":
                continue
            blocks.extend(_element_blocks(element, path, headers, tracker, tokens, budget))
        return pack_blocks(blocks, tokens, budget)


def message_headers(doc: ParsedDocument) -> dict[str, str]:
    """The known headers; the parser's metadata wins over ``email_header`` lines."""
    headers: dict[str, str] = {}
    for element in doc.elements:
        if element.kind != "email_header":
            continue
        for line in element.text.splitlines():
            if found := _HEADER_LINE.match(line):
                headers.setdefault(found.group(1).lower(), found.group(2))
    for key in HEADER_KEYS:
        value = str(doc.metadata.get(key) or "").strip()
        if value:
            headers[key] = value
    return headers


def _element_blocks(
    element: Element,
    path: tuple[str, ...],
    headers: Mapping[str, str],
    tracker: QuoteTracker,
    tokens: TokenCounter,
    budget: Budget,
) -> list[Block]:
    if element.kind == "table" and element.rows:
        quoted = _metadata(headers, quoted=tracker.in_history)
        return table_blocks(element, path, tokens, budget, quoted)
    if element.kind == "code" and not tracker.in_history:
        return [
            _marked(b, headers, quoted=False)
            for b in code_blocks(element.text, element.page, path, tokens, budget)
        ]
    found: list[Block] = []
    for segment in tracker.feed(element.text):
        found.extend(
            prose_blocks(
                segment.text,
                element.page,
                path,
                tokens,
                budget,
                group=("quoted",) if segment.quoted else ("new",),
                metadata=_metadata(headers, quoted=segment.quoted),
            )
        )
    return found


def _marked(block: Block, headers: Mapping[str, str], *, quoted: bool) -> Block:
    return replace(
        block,
        group=("quoted",) if quoted else ("new",),
        metadata={**block.metadata, **_metadata(headers, quoted=quoted)},
    )


def _metadata(headers: Mapping[str, str], *, quoted: bool) -> dict[str, str]:
    return {**headers, "quoted": "true" if quoted else "false"}
