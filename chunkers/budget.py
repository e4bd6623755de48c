"""How big a chunk should be, derived once from the embedding model's window.

Chunks aim at ``target`` (70% of the window) rather than the limit: a chunk that
fills the whole window dilutes its embedding and leaves no slack for the small
error of summing per-piece token counts. ``floor`` is the size under which a chunk
is a fragment worth merging with a neighbour of the same section; ``overlap`` is how
much of a window the generic strategy repeats at the start of the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

from chunkers.base import TokenCounter
from kernel.errors import ConfigurationError

TARGET_SHARE = 0.7
FLOOR_SHARE = 0.25
OVERLAP_SHARE = 0.15
# Below this a window cannot hold a table header plus a row, or a word piece of a
# byte-level tokenizer; the settings refuse it too (chunk_max_tokens >= 16).
MIN_WINDOW = 8


@dataclass(frozen=True, slots=True)
class Budget:
    limit: int
    target: int
    floor: int
    overlap: int

    @classmethod
    def of(cls, tokens: TokenCounter) -> Budget:
        """Raises ConfigurationError when the window is too small to chunk into."""
        limit = tokens.max_tokens
        if limit < MIN_WINDOW:
            raise ConfigurationError(
                f"chunk token limit {limit} is too small; it must be at least {MIN_WINDOW}"
            )
        target = max(1, int(limit * TARGET_SHARE))
        return cls(
            limit=limit,
            target=target,
            floor=max(1, int(limit * FLOOR_SHARE)),
            overlap=int(target * OVERLAP_SHARE),
        )
