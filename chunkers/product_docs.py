"""``product_docs`` (and Markdown, RST, HTML): chunks follow the heading tree.

A chunk holds whole paragraphs, list items and code blocks of one section only,
so its heading path (the ``section``) describes all of it; short neighbours in a
section are merged, a section is never merged with the next. No overlap: the
heading path already gives each chunk its context. Code blocks stay whole
unless one alone exceeds the limit (then it is cut between blank lines, then
lines, and each part says ``code_part``: "2/5"); tables follow the table rules.
"""

from __future__ import annotations

from chunkers.base import TokenCounter
from chunkers.budget import Budget
from chunkers.element_blocks import heading_aware_blocks
from chunkers.packing import pack_blocks
from kernel.documents import ChunkDraft, ParsedDocument


class ProductDocsChunker:
    def chunk(self, doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
        budget = Budget.of(tokens)
        blocks = heading_aware_blocks(doc.elements, tokens, budget, by_sentence=False)
        return pack_blocks(blocks, tokens, budget)
