"""The unit every strategy produces and the packer merges into chunks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Block:
    """A run of text that should not be cut, with what a citation needs.

    ``tokens`` is ``text``'s count, taken once; the packer sums these instead of
    recounting growing strings. ``path`` is the heading path the text sits under;
    ``group`` says which neighbours it may share a chunk with (the packer never
    merges across a change of group; by default the group is the path).
    ``standalone`` blocks (table row groups) always make a chunk of their own.
    ``sep`` joins the block to the one before it inside a chunk. ``metadata`` of
    a chunk's first block becomes the chunk's metadata.
    """

    text: str
    tokens: int
    page: int | None
    path: tuple[str, ...] = ()
    group: tuple[str, ...] | None = None
    sep: str = "\n\n"
    standalone: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def group_key(self) -> tuple[str, ...]:
        return self.path if self.group is None else self.group
