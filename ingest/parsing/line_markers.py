"""Clause and list numbers at the start of a line of plain text.

A plain-text file says where a clause starts only with its line break: "2.1"
at the start of a line opens clause 2.1, the same "2.1" inside a line is most
likely a reference to it. This module reads such a marker; ``text_layout``
uses it to keep those line starts, ``text_headings`` to spot headings.

The grammar (what a marker is, with its guards against "2.5 hours" or "12
months" that a hard wrap put at the start of a line) is ``text.clauses``'s, the
same the legal chunker reads; parsing only needs the family and the depth:

- ``article``: "Article 3", "ARTICLE IV", "Chapter 1", and the divisions above
  chapters (``division``): "Part 2", "BOOK ONE: 1805", "Volume II".
- ``section``: "Section 4.2", "Sec. 4", "Clause 7", "§ 5".
- ``number``: "2.", "2)", "2.1", "2.1.3".
- ``item``: "(a)", "(iv)", "(A)", "(1)", "a)", "1)"; with text after it on the line.

A heading line is a marker and a caption only (:func:`is_heading_line`): a
title-case caption of at most 12 words ("Fees and Payment", "LATE PAYMENT") or
a short one ("Governing law"), not ending like a sentence, a lead-in (". ; :
,") or a wrapped line (a title does not end on "of" or "the").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from text.clauses import TITLE_MINOR_WORDS, ClauseKind, is_title_case, read_clause_marker

MarkerFamily = ClauseKind

_MAX_CAPTION_WORDS: Final = 12
_MAX_PLAIN_CAPTION_WORDS: Final = 4
_CAPTION_LEAD: Final = " \t.:)-\u2013\u2014"


@dataclass(frozen=True, slots=True)
class LineMarker:
    """A marker at the start of a line: its family, its number, where it ends.

    ``parts`` are the number's components for ``number`` and ``section`` ("4.2"
    gives ``("4", "2")``), one for ``article``, none for ``item``. ``word`` names an
    article or a section ("BOOK", "Chapter", "Sec."); ``division`` says it is a
    Book, Part or Volume, above chapters.
    """

    family: MarkerFamily
    number: str
    parts: tuple[str, ...]
    end: int
    word: str = ""
    division: bool = False


def read_line_marker(line: str) -> LineMarker | None:
    """The marker ``line`` starts with (after indentation), or ``None``."""
    found = read_clause_marker(line)
    if found is None or (found.kind == "item" and not line[found.end :].strip()):
        return None
    return LineMarker(
        found.kind, found.number, found.parts, found.end, found.word, found.is_division
    )


def is_heading_line(line: str, marker: LineMarker) -> bool:
    """Whether ``line`` is only ``marker`` and a caption: "2. Fees and Payment", "Article 3"."""
    if marker.family == "item":
        return False
    caption = line[marker.end :].lstrip(_CAPTION_LEAD).strip()
    if not caption:
        return True
    words = caption.split()
    if (
        len(words) > _MAX_CAPTION_WORDS
        or "\n" in caption
        or caption[-1] in ".;:,"
        or not (caption[0].isupper() or (marker.division and caption[0].isdigit()))
        or (len(words) > 1 and words[-1].lower() in TITLE_MINOR_WORDS)
    ):
        return False
    return is_title_case(words) or len(words) <= _MAX_PLAIN_CAPTION_WORDS
