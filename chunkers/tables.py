"""``tables`` (XLSX, XLS, CSV, TSV): every table by the table rules.

Each chunk is a group of rows under a repeat of the header line, so any chunk
can be read alone (see ``chunkers.table_rows`` for the text format). Sheet
titles and any prose around the tables are read as headed sections, so a
chunk's section names the sheet when the parser gives one.
"""

from __future__ import annotations

from chunkers.base import TokenCounter
from chunkers.budget import Budget
from chunkers.element_blocks import heading_aware_blocks
from chunkers.packing import pack_blocks
from kernel.documents import ChunkDraft, ParsedDocument


class TablesChunker:
    def chunk(self, doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]:
        budget = Budget.of(tokens)
        blocks = heading_aware_blocks(doc.elements, tokens, budget, by_sentence=False)
        return pack_blocks(blocks, tokens, budget)
