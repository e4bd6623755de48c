"""The heading path: which headings the text being read sits under.

A heading closes every open heading of the same or a deeper rank. A heading that
closes before any text was read under it (a cover title, an empty section) would
otherwise vanish from every chunk, so it is handed back as an orphan for the
strategy to emit as text of its own (its outer headings then travel in that
chunk's section, so they are not orphans).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Orphan:
    """A heading with no text under it: its own path (ending with it) and page."""

    path: tuple[str, ...]
    page: int | None


@dataclass(slots=True)
class _Open:
    rank: float
    label: str
    page: int | None
    claimed: bool = False


class HeadingTrail:
    """The open headings, outermost first. Ranks only need to compare: lower is outer."""

    def __init__(self) -> None:
        self._open: list[_Open] = []

    def enter(self, rank: float, label: str, page: int | None = None) -> list[Orphan]:
        """Open a heading; returns the headings it closed that never had text."""
        orphans: list[Orphan] = []
        while self._open and self._open[-1].rank >= rank:
            orphans.extend(self._close())
        self._open.append(_Open(rank, label, page))
        return orphans[::-1]

    def claim(self) -> tuple[str, ...]:
        """The path for text being emitted now; its headings are no longer orphans."""
        for heading in self._open:
            heading.claimed = True
        return self.path

    def finish(self) -> list[Orphan]:
        """Close every heading; returns those that never had text, in reading order."""
        orphans: list[Orphan] = []
        while self._open:
            orphans.extend(self._close())
        return orphans[::-1]

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(h.label for h in self._open)

    def path_through_rank(self, rank: float) -> tuple[str, ...]:
        """The path down to the first open heading ranked ``rank`` or deeper (all if none)."""
        for depth, heading in enumerate(self._open):
            if heading.rank >= rank:
                return self.path[: depth + 1]
        return self.path

    def deepest(self, rank: float) -> str | None:
        """Label of the innermost open heading of exactly ``rank``, if any."""
        for heading in reversed(self._open):
            if heading.rank == rank:
                return heading.label
        return None

    def _close(self) -> list[Orphan]:
        path = self.path
        heading = self._open.pop()
        if heading.claimed:
            return []
        # The orphan's chunk carries the outer headings in its section.
        for outer in self._open:
            outer.claimed = True
        return [Orphan(path, heading.page)]
