"""Clause and list numbers at the start of a line of plain text.

A plain-text file says where a clause starts only with its line break: "2.1"
at the start of a line opens clause 2.1, the same "2.1" inside a line is most
likely a reference to it. This module reads such a marker; ``text_layout``
uses it to keep those line starts, ``text_headings`` to spot headings.

The families and guards follow the legal chunker's (``chunkers.clause_markers``)
but are kept apart on purpose: parsing must not depend on a chunking strategy,
and it only needs the family and the depth, not the chunker's ranks.

- ``article``: "Article 3", "ARTICLE IV", "Part 2", "Chapter 1".
- ``section``: "Section 4.2", "Clause 7", "§ 5".
- ``number``: "2.", "2)", "2.1", "2.1.3".
- ``item``: "(a)", "(iv)", "(A)", "(1)", "a)", "1)".

A number or a Section/Article must be followed by a capital letter, an opening
quote or bracket, a separator, or the end of the line, so "2.5 hours" or
"12 months" that a hard wrap put at the start of a line are not clause starts.

A heading line is a marker and a caption only (:func:`is_heading_line`): a
title-case caption of at most 12 words ("Fees and Payment", "LATE PAYMENT") or
a short one ("Governing law"), not ending like a sentence, a lead-in (". ; :
,") or a wrapped line (a title does not end on "of" or "the").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

MarkerFamily = Literal["article", "section", "number", "item"]

_MAX_CAPTION_WORDS: Final = 12
_MAX_PLAIN_CAPTION_WORDS: Final = 4
_CAPTION_LEAD: Final = " \t.:)-\u2013\u2014"
# Words a title leaves in lower case; it does not end on one.
_MINOR_WORDS: Final = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"]
)

_HEAD_END = r"(?=\s*$|\s*[.:\-\u2013\u2014]|\s+[A-Z(\"'\u201c\u2018])"
_BODY_START = r"(?=\s+[A-Z(\"'\u201c\u2018]|\s*$)"
_ARTICLE = re.compile(
    r"(?:ARTICLE|Article|PART|Part|CHAPTER|Chapter)\s+(\d{1,3}|[IVXLC]{1,7})\b" + _HEAD_END
)
_SECTION = re.compile(
    r"(?:SECTION|Section|CLAUSE|Clause|\u00a7{1,2})\s*(\d{1,3}(?:\.\d{1,3})*)\b" + _HEAD_END
)
_NUMBER = re.compile(r"(\d{1,3}(?:\.\d{1,3})+)\.?" + _BODY_START + r"|(\d{1,3})[.)]" + _BODY_START)
# A bare "a)" is only one letter: "etc) and" at the start of a wrapped line is no item.
_ITEM = re.compile(r"(?:\(([a-z]{1,4}|[A-Z]|\d{1,2})\)|([a-z]|\d{1,2})\))(?=\s+\S)")


@dataclass(frozen=True, slots=True)
class LineMarker:
    """A marker at the start of a line: its family, its number, where it ends.

    ``parts`` are the number's components for ``number`` and ``section`` ("4.2"
    gives ``("4", "2")``), one for ``article``, none for ``item``.
    """

    family: MarkerFamily
    number: str
    parts: tuple[str, ...]
    end: int


def read_line_marker(line: str) -> LineMarker | None:
    """The marker ``line`` starts with (after indentation), or ``None``."""
    text = line.lstrip()
    offset = len(line) - len(text)
    if found := _ARTICLE.match(text):
        return LineMarker("article", found.group(1), (found.group(1),), offset + found.end())
    if found := _SECTION.match(text):
        number = found.group(1)
        return LineMarker("section", number, tuple(number.split(".")), offset + found.end())
    if found := _NUMBER.match(text):
        number = found.group(1) or found.group(2)
        return LineMarker("number", number, tuple(number.split(".")), offset + found.end())
    if found := _ITEM.match(text):
        return LineMarker("item", found.group(1) or found.group(2), (), offset + found.end())
    return None


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
        or not caption[0].isupper()
        or (len(words) > 1 and words[-1].lower() in _MINOR_WORDS)
    ):
        return False
    title_case = all(
        w[0].isupper() or w.lower() in _MINOR_WORDS or not w[0].isalpha() for w in words
    )
    return title_case or len(words) <= _MAX_PLAIN_CAPTION_WORDS
