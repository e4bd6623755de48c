"""Which paragraphs of a plain-text file are headings, decided by their numbering.

unstructured guesses kinds paragraph by paragraph from the words alone: "2. Fees
and Payment" comes out a list item, "Section 4.2 Late Payment" a title with no
level, "(iv) the storage fee;" and "Licensee shall not:" titles. In plain text
the numbering is the only structure there is, so after ``text_layout`` gave
each numbered line its own paragraph, it decides here:

- A numbered heading line (``line_markers.is_heading_line``) is a ``title``,
  unless it is an entry of a numbered list of short lines (a table of contents,
  steps of a procedure): one followed straight by another at the same or an
  outer depth, or numbered next right after such an entry (the last of the
  list), stays as it was. "1. Definitions" after a contents list ending with
  "3. Term" starts the numbering again: the first heading.
- Its ``level`` follows what contains what: an Article contains every numbered
  heading after it, "2" contains "2.1" and "Section 2.1"; the level is one more
  than the number of open headings containing it. So "2." is 1 and "2.1" is 2;
  under "Article I", "Section 1" is 2 and "Section 1.1" is 3. It carries
  ``numbering`` ("2", "Section 4.2") in its metadata, which also tells the
  parser not to take a clause heading for the document's title.
- A division (Book, Part, Volume) contains the chapters and articles after it,
  so a novel's chunk sits under "BOOK ONE: 1805 > CHAPTER I". Of two kinds of
  division, the one the text names first contains the other ("PART I" > "Book
  I" > "Chapter I", or "VOLUME I" > "BOOK FIRST"); divisions of one kind are
  siblings. A division whose first chapter is a list entry heads a table of
  contents ("BOOK ONE: 1805" / "CHAPTER I" / "CHAPTER II") and stays a list
  entry too.
- A marked paragraph called a title that is no heading ("(iv) the storage
  fee;") becomes a list item, and a title ending with ":" right before a marked
  line ("Licensee shall not:" / "(a) ...") becomes text: both are clause text,
  and a title would go to the chunk's section path (and close the clauses
  around it) instead.

Unnumbered titles ("MASTER SERVICES AGREEMENT") are left as unstructured read
them, unless they sit in a run of short lines: that is a list, and
``short_line_lists`` makes its entries list items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from typing import Final

from kernel.documents import Element

from .line_markers import LineMarker, is_heading_line, read_line_marker
from .short_line_lists import list_short_line_runs

NUMBERING_KEY: Final = "numbering"

_READ_KINDS: Final = frozenset({"text", "list_item", "title"})
_SKIPPED_KINDS: Final = frozenset({"page_break", "header"})


def mark_text_headings(elements: Sequence[Element]) -> list[Element]:
    """``elements`` with their headings settled (see the module docstring)."""
    markers = [_marker(element) for element in elements]
    ranks = _Ranks(markers)
    content = [i for i, e in enumerate(elements) if e.kind not in _SKIPPED_KINDS]
    after = dict(pairwise(content))
    out = list(elements)
    open_headings: list[LineMarker] = []
    # The last content element's marker, and whether it was a heading-shaped list entry.
    previous: tuple[LineMarker, bool] | None = None
    for index in content:
        element, marker = elements[index], markers[index]
        following = markers[after[index]] if index in after else None
        if marker is None:
            if _is_lead_in(element) and following is not None:
                out[index] = replace(element, kind="text", level=None)
            previous = None
            continue
        shaped = is_heading_line(element.text, marker)
        listed = (
            ranks.continues_list(marker, previous)
            or ranks.ends_empty(marker, following)
            or ranks.heads_list(marker, following, _following(markers, after, after.get(index)))
        )
        if shaped and not listed:
            out[index] = _heading(element, marker, open_headings, ranks)
        elif element.kind == "title":
            out[index] = replace(element, kind="list_item", level=None)
        previous = (marker, shaped and listed)
    return list_short_line_runs(out)


def _following(
    markers: Sequence[LineMarker | None], after: dict[int, int], index: int | None
) -> LineMarker | None:
    return markers[after[index]] if index is not None and index in after else None


def _marker(element: Element) -> LineMarker | None:
    return read_line_marker(element.text) if element.kind in _READ_KINDS else None


def _is_lead_in(element: Element) -> bool:
    return element.kind == "title" and element.text.rstrip().endswith(":")


class _Ranks:
    """What contains what among one document's markers (see the module docstring).

    Divisions are ranked by the order their words first appear in the document,
    read once over all its markers, table of contents included.
    """

    def __init__(self, markers: Sequence[LineMarker | None]) -> None:
        self._division_order: dict[str, int] = {}
        for marker in markers:
            if marker is not None and marker.division:
                self._division_order.setdefault(marker.word.lower(), len(self._division_order))

    def contains(self, outer: LineMarker, inner: LineMarker) -> bool:
        if outer.division or inner.division:
            if not (outer.division and inner.division):
                return outer.division
            return self._order(outer) < self._order(inner)
        if outer.family == "article":
            return inner.family != "article"
        if inner.family == "article":
            return False
        depth = _depth(outer)
        return _depth(inner) > depth and inner.parts[:depth] == outer.parts

    def continues_list(self, marker: LineMarker, previous: tuple[LineMarker, bool] | None) -> bool:
        """Right after a heading-shaped list entry and numbered next, this is the list's
        next entry."""
        if previous is None:
            return False
        before, was_entry = previous
        if not (was_entry and self._same_rank(before, marker)):
            return False
        last, here = before.parts[-1:], marker.parts[-1:]
        if last and here and last[0].isdigit() and here[0].isdigit():
            return int(here[0]) == int(last[0]) + 1
        return True

    def ends_empty(self, marker: LineMarker, following: LineMarker | None) -> bool:
        """A heading followed straight by a sibling or an outer entry would have no body."""
        if following is None or following.family != marker.family:
            return False
        if self.contains(marker, following):
            return False
        return _depth(following) <= _depth(marker)

    def heads_list(
        self, marker: LineMarker, following: LineMarker | None, next_one: LineMarker | None
    ) -> bool:
        """A division whose first entry ends empty heads a contents list, not a book."""
        return (
            marker.division
            and following is not None
            and self.contains(marker, following)
            and self.ends_empty(following, next_one)
        )

    def _same_rank(self, one: LineMarker, other: LineMarker) -> bool:
        return (
            one.family == other.family
            and _depth(one) == _depth(other)
            and one.division == other.division
            and (not one.division or self._order(one) == self._order(other))
        )

    def _order(self, marker: LineMarker) -> int:
        return self._division_order.get(marker.word.lower(), len(self._division_order))


def _depth(marker: LineMarker) -> int:
    return len(marker.parts)


def _heading(
    element: Element, marker: LineMarker, open_headings: list[LineMarker], ranks: _Ranks
) -> Element:
    while open_headings and not ranks.contains(open_headings[-1], marker):
        open_headings.pop()
    open_headings.append(marker)
    numbering = element.text[: marker.end].strip().rstrip(".)")
    return replace(
        element,
        kind="title",
        level=len(open_headings),
        metadata={**element.metadata, NUMBERING_KEY: numbering},
    )
