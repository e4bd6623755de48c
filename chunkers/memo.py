"""A per-document memo in front of the tokenizer.

Documents repeat themselves (table cells, code lines, boilerplate sentences, the
words of a pathological sentence), and the tokenizer is the hot path, so each
distinct short string is counted once per document. Long strings are not kept:
they are rarely repeated and would hold the whole document in memory twice.
"""

from __future__ import annotations

from chunkers.base import TokenCounter

MEMO_MAX_CHARS = 2000


class MemoTokenCounter:
    """A TokenCounter that remembers the counts of short strings it has seen."""

    def __init__(self, inner: TokenCounter) -> None:
        self._inner = inner
        self._counts: dict[str, int] = {}

    @property
    def max_tokens(self) -> int:
        return self._inner.max_tokens

    def count(self, text: str) -> int:
        if len(text) > MEMO_MAX_CHARS:
            return self._inner.count(text)
        known = self._counts.get(text)
        if known is None:
            known = self._counts[text] = self._inner.count(text)
        return known
