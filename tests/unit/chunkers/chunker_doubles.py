"""Token counter doubles: tiny, deterministic stand-ins for the real tokenizer."""

from __future__ import annotations


class WhitespaceTokenCounterDouble:
    """One token per whitespace-separated word: exact sizes can be asserted by eye."""

    def __init__(self, max_tokens: int = 40) -> None:
        self._max = max_tokens
        self.calls = 0
        self.chars_counted = 0

    @property
    def max_tokens(self) -> int:
        return self._max

    def count(self, text: str) -> int:
        self.calls += 1
        self.chars_counted += len(text)
        return len(text.split())


class CharacterTokenCounterDouble:
    """One token per non-space character: a space-free string must be cut by characters."""

    def __init__(self, max_tokens: int = 40) -> None:
        self._max = max_tokens

    @property
    def max_tokens(self) -> int:
        return self._max

    def count(self, text: str) -> int:
        return sum(1 for c in text if not c.isspace())


class JoinCostingTokenCounterDouble:
    """One token per word plus one per line break: sums of parts undercount joins.

    Chunkers sum per-piece counts; with this counter the sums are optimistic, so
    only the final verification keeps chunks within the limit.
    """

    def __init__(self, max_tokens: int = 40) -> None:
        self._max = max_tokens

    @property
    def max_tokens(self) -> int:
        return self._max

    def count(self, text: str) -> int:
        return len(text.split()) + text.count("\n")
