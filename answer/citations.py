"""Citation markers in answer text: the one grammar for ``[n]``, and their repair.

A generated answer cites its numbered sources as ``[n]``; models also write
``[1, 3]`` and ``[1][3]``. :func:`renumber` keeps the markers that point at a
source the model was given, drops (and counts) the rest, and renumbers the kept
ones 1..m in order of first use, so that in every answer, generated or
extractive, citation ``n`` is the ``n``-th cited chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One marker: [3] or [1, 3]. A run of markers (with spaces between) is one citation.
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
MARKER_RUN = re.compile(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")


@dataclass(frozen=True, slots=True)
class Renumbered:
    text: str
    # Source numbers (1-based, as given to the model) in order of first citation.
    cited: tuple[int, ...]
    removed: int


def renumber(text: str, sources: int) -> Renumbered:
    """Rewrite the markers of ``text`` for ``sources`` numbered sources (1..sources)."""
    order: list[int] = []
    removed = 0

    def rewrite(match: re.Match[str]) -> str:
        nonlocal removed
        kept: list[int] = []
        for raw in MARKER.findall(match.group(0)):
            for number in (int(n) for n in raw.split(",")):
                if not 1 <= number <= sources:
                    removed += 1
                    continue
                if number not in order:
                    order.append(number)
                position = order.index(number) + 1
                if position not in kept:
                    kept.append(position)
        return "".join(f" [{n}]" for n in kept)

    rewritten = MARKER_RUN.sub(rewrite, text)
    # A sentence whose only markers were removed keeps its text; tidy the spacing.
    rewritten = re.sub(r"[ \t]+([.,;:])", r"\1", rewritten)
    rewritten = re.sub(r"[ \t]{2,}", " ", rewritten).strip()
    return Renumbered(text=rewritten, cited=tuple(order), removed=removed)
