"""``generic``: sentence windows with overlap, for text with no stronger structure.

Each sentence is counted once; windows of whole sentences grow to the target
and the next window repeats the last sentences of the previous one (up to 15% of
the target), so a statement cut at a window edge is still whole in one of the
two. Windows never cross a heading, a table or a code block is never cut unless
it alone exceeds the limit, and headings found in the document (PDF/DOCX titles)
still give every chunk its section.

LlamaIndex's ``SentenceSplitter`` does this windowing over one flat string, so
it would lose the page and heading of every window, and its default sentence
tokenizer cuts after abbreviations; the packer here does the same job over blocks
that keep them.
"""

from __future__ import annotations

from chunkers.base import TokenCounter
from chunkers.budget import Budget
from chunkers.element_blocks import heading_aware_blocks
from chunkers.packing import pack_blocks
from kernel.documents import ChunkDraft, ParsedDocument


class GenericChunker:
    def chunk(self, doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
        budget = Budget.of(tokens)
        blocks = heading_aware_blocks(doc.elements, tokens, budget, by_sentence=True)
        return pack_blocks(blocks, tokens, budget, overlap=True)
