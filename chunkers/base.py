"""The chunking port: one strategy per document type behind one small protocol."""

from __future__ import annotations

from typing import Protocol

from kernel.documents import ChunkDraft, ParsedDocument


class TokenCounter(Protocol):
    """Counts tokens the way the embedding model will see them.

    ``max_tokens`` is the most a chunk's text may hold (special tokens excluded) so
    that nothing past the model's window is silently truncated at embedding time.
    """

    @property
    def max_tokens(self) -> int: ...

    def count(self, text: str) -> int: ...


class Chunker(Protocol):
    """Turns a parsed document into chunk drafts, in reading order.

    Contract: every draft's text is non-empty and ``tokens.count(text) <=
    tokens.max_tokens``; ``page`` and ``section`` are carried from the elements the
    text came from; the function is pure (same input, same output).
    """

    def chunk(self, doc: ParsedDocument, tokens: TokenCounter) -> list[ChunkDraft]: ...
