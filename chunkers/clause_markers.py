"""Clause numbers as contracts write them, and how deep each kind sits.

Recognised at the start of a heading or a line: "Article IV", "ARTICLE 2",
"Part 3", "Section 5", "§ 7", "12.", "3.1", "3.1.2", "4)", "(a)", "b)", "(iv)",
"(A)", "(1)". Ranks only need to compare (lower is outer): Article 1; Section
N.M 1 + depth; numbered 2 + depth; (a) 10; (i) 11; (A) 12; (1) 13.

Guards against ordinary sentences: a numbered or "Section N" start must be
followed by a capital letter, an opening quote or bracket, or the end of the
line ("Section 5 shall survive" and "2.5 hours" are not clause starts), and a
plain "12" needs its "." or ")".

"(i)" is a letter after "(h)" and a Roman numeral otherwise; "(v)", "(x)", "(c)"...
are Roman numerals only right after their predecessor ("(iv)" before "(v)").

A line holding only a marker and a caption ("2. Fees and Payment") is a heading
(``is_heading_line``); ``number_parts`` turns a number into integers so that
``chunkers.inline_clauses`` can tell which number comes next.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

LETTER_RANK = 10.0
ROMAN_RANK = 11.0
UPPER_RANK = 12.0
DIGIT_RANK = 13.0

_HEAD_END = r"(?=\s*$|\s*[.:\-\u2013\u2014]|\s+[A-Z(\"'\u201c])"
_BODY_START = r"(?=\s+[A-Z(\"'\u201c\u2018]|\s*$)"
_ARTICLE = re.compile(
    r"(ARTICLE|Article|PART|Part|CHAPTER|Chapter)\s+(\d+|[IVXLCDM]+)\b" + _HEAD_END
)
_SECTION = re.compile(
    r"(SECTION|Section|Sec\.|CLAUSE|Clause|\u00a7{1,2})\s*(\d+(?:\.\d+)*)" + _HEAD_END
)
_NUMBERED = re.compile(
    r"(\d{1,3}(?:\.\d{1,3})+)\.?" + _BODY_START + r"|(\d{1,3})[.)]" + _BODY_START
)
_PAREN = re.compile(r"\(?([a-z]{1,4}|[A-Z]|\d{1,2})\)(?=\s|$)")
_ROMAN = re.compile(r"m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")
_CAPTION = re.compile(r"\s*([A-Z][^.:;\n]{0,60}?)[.:](?=\s|$)")
_LINE_REST = re.compile(r"[ \t]*[.:\-\u2013\u2014]?[ \t]*([^\n]{1,80}?)[ \t]*(?:\n|$)")
_MINOR_WORDS = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"]
)

# Where an element's text may hold several clauses, one per line.
CLAUSE_LINE = re.compile(
    r"(?m)^[ \t]*(?=(?:ARTICLE|Article|PART|Part|CHAPTER|Chapter|SECTION|Section|\u00a7)"
    r"\s*[\dIVXLCDM]"
    r"|\d{1,3}(?:\.\d{1,3})*[.)]?\s+[A-Z(\"'\u201c\u2018]"
    r"|\(?(?:[a-z]{1,4}|[A-Z]|\d{1,2})\)\s)"
)


@dataclass(frozen=True, slots=True)
class ClauseMarker:
    rank: float
    number: str  # as a reference reads it: "Article IV", "Section 5", "3.1", "(a)"
    end: int  # where the marker ends in the text it was read from


def read_marker(
    text: str, sibling: Callable[[float], str | None] = lambda rank: None
) -> ClauseMarker | None:
    """The clause marker ``text`` starts with, if any.

    ``sibling(rank)`` gives the label of the innermost open clause of that rank,
    to tell the letter "(i)" from the Roman one.
    """
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    if found := _ARTICLE.match(stripped):
        return ClauseMarker(1.0, f"{found.group(1).title()} {found.group(2)}", offset + found.end())
    if found := _SECTION.match(stripped):
        depth = found.group(2).count(".") + 1
        return ClauseMarker(1.0 + depth, f"Section {found.group(2)}", offset + found.end())
    if found := _NUMBERED.match(stripped):
        number = found.group(1) or found.group(2)
        return ClauseMarker(2.0 + number.count(".") + 1, number, offset + found.end())
    if found := _PAREN.match(stripped):
        label = found.group(1)
        return ClauseMarker(_paren_rank(label, sibling), f"({label})", offset + found.end())
    return None


def clause_label(text: str, marker: ClauseMarker) -> str:
    """The marker with its caption when the clause opens with one.

    A caption is a short title-case phrase closed by a full stop or colon
    ("2.1 Fees. The Buyer...") or filling the rest of the line ("ARTICLE II -
    DEFINITIONS"); "1.1 The Buyer shall pay." has none.
    """
    number = text[: marker.end].strip()
    for pattern in (_CAPTION, _LINE_REST):
        caption = pattern.match(text, marker.end)
        if caption and _is_caption(caption.group(1)):
            return f"{number} {caption.group(1).strip()}"
    return number


def is_heading_line(text: str, marker: ClauseMarker) -> bool:
    """Whether ``text`` is only a clause heading: "2. Fees and Payment", "ARTICLE IV".

    Such a line names the clauses under it rather than being one: it belongs in
    the section path, like a title. Nothing may follow the caption (no body, no
    second line), it may not end a sentence or lead into a list (". ; : ,"), and
    "(a)" items never head anything.
    """
    if marker.rank >= LETTER_RANK:
        return False
    rest = text[marker.end :].strip()
    if not rest:
        return True
    caption = _LINE_REST.match(text, marker.end)
    return (
        caption is not None
        and not text[caption.end() :].strip()
        and rest[-1] not in ".;:,"
        and _is_caption(caption.group(1))
    )


def number_parts(number: str) -> tuple[int, ...] | None:
    """A clause number as integers, to tell which number comes next.

    "2.1" gives (2, 1), "Section 4.2" (4, 2), "Article IV" (4,); "(a)" gives None.
    """
    value = number.split()[-1] if number.strip() else ""
    if re.fullmatch(r"\d+(?:\.\d+)*", value):
        return tuple(int(part) for part in value.split("."))
    if value.isupper() and _ROMAN.fullmatch(value.lower()):
        return (_roman_value(value.lower()),)
    return None


def _is_caption(candidate: str) -> bool:
    words = candidate.split()
    return 0 < len(words) <= 8 and all(
        w[0].isupper() or w.lower() in _MINOR_WORDS or not w[0].isalpha() for w in words
    )


def _paren_rank(label: str, sibling: Callable[[float], str | None]) -> float:
    if label.isdigit():
        return DIGIT_RANK
    if label.isupper():
        return UPPER_RANK
    letter = _inner(sibling(LETTER_RANK))
    if letter and len(label) == len(letter) == 1 and ord(label) == ord(letter) + 1:
        return LETTER_RANK
    if _ROMAN.fullmatch(label):
        roman = _inner(sibling(ROMAN_RANK))
        if len(label) > 1 or label == "i":
            return ROMAN_RANK
        if roman and _ROMAN.fullmatch(roman) and _roman_value(label) == _roman_value(roman) + 1:
            return ROMAN_RANK
    return LETTER_RANK


def _inner(label: str | None) -> str | None:
    """ "(iv)" -> "iv"; None when the label is not a parenthesised one."""
    if label is None:
        return None
    found = _PAREN.match(label)
    return found.group(1) if found else None


def _roman_value(numeral: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total = 0
    for here, after in zip(numeral, [*numeral[1:], ""], strict=True):
        value = values[here]
        total += -value if after and values[after] > value else value
    return total
