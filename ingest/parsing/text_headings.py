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
        listed = _continues_list(marker, previous) or _ends_empty(marker, following)
        if shaped and not listed:
            out[index] = _heading(element, marker, open_headings)
        elif element.kind == "title":
            out[index] = replace(element, kind="list_item", level=None)
        previous = (marker, shaped and listed)
    return list_short_line_runs(out)


def _marker(element: Element) -> LineMarker | None:
    return read_line_marker(element.text) if element.kind in _READ_KINDS else None


def _is_lead_in(element: Element) -> bool:
    return element.kind == "title" and element.text.rstrip().endswith(":")


def _continues_list(marker: LineMarker, previous: tuple[LineMarker, bool] | None) -> bool:
    """Right after a heading-shaped list entry and numbered next, this is the list's next entry."""
    if previous is None:
        return False
    before, was_entry = previous
    if not (was_entry and before.family == marker.family and _depth(before) == _depth(marker)):
        return False
    last, here = before.parts[-1:], marker.parts[-1:]
    if last and here and last[0].isdigit() and here[0].isdigit():
        return int(here[0]) == int(last[0]) + 1
    return True


def _ends_empty(marker: LineMarker, following: LineMarker | None) -> bool:
    """A heading followed straight by a sibling or an outer entry would have no body."""
    if following is None or following.family != marker.family:
        return False
    return _depth(following) <= _depth(marker)


def _depth(marker: LineMarker) -> int:
    return len(marker.parts)


def _heading(element: Element, marker: LineMarker, open_headings: list[LineMarker]) -> Element:
    while open_headings and not _contains(open_headings[-1], marker):
        open_headings.pop()
    open_headings.append(marker)
    numbering = element.text[: marker.end].strip().rstrip(".)")
    return replace(
        element,
        kind="title",
        level=len(open_headings),
        metadata={**element.metadata, NUMBERING_KEY: numbering},
    )


def _contains(outer: LineMarker, inner: LineMarker) -> bool:
    if outer.family == "article":
        return inner.family != "article"
    if inner.family == "article":
        return False
    depth = _depth(outer)
    return _depth(inner) > depth and inner.parts[:depth] == outer.parts
