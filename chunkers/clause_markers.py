"""Clause markers as the legal chunker reads them: ranks, labels and heading lines.

What a marker is (the grammar: "Article IV", "Section 5", "Sec. 5", "§ 7", "12.",
"3.1", "4)", "(a)", "(iv)", "(A)", "(1)") is ``text.clauses``'s; this module
adds what the chunker needs on top. Ranks only need to compare (lower is outer):
Part/Book/Volume 0.5; Article 1; Section N.M 1 + depth; numbered 2 + depth;
(a) 10; (i) 11; (A) 12; (1) 13.

"(i)" is a letter after "(h)" and a Roman numeral otherwise; "(v)", "(x)", "(c)"...
are Roman numerals only right after their predecessor ("(iv)" before "(v)").

A line holding only a marker and a caption ("2. Fees and Payment") is a heading
(``is_heading_line``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from text.clauses import is_roman, is_title_case, read_clause_marker, roman_value

#: A Part, Book or Volume contains the Articles after it, as parsing nests them.
DIVISION_RANK = 0.5
LETTER_RANK = 10.0
ROMAN_RANK = 11.0
UPPER_RANK = 12.0
DIGIT_RANK = 13.0

_CAPTION = re.compile(r"\s*([A-Z][^.:;\n]{0,60}?)[.:](?=\s|$)")
_LINE_REST = re.compile(r"[ \t]*[.:\-\u2013\u2014]?[ \t]*([^\n]{1,80}?)[ \t]*(?:\n|$)")


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
    found = read_clause_marker(text)
    if found is None:
        return None
    if found.kind == "article":
        rank = DIVISION_RANK if found.is_division else 1.0
        return ClauseMarker(rank, f"{found.word.title()} {found.number}", found.end)
    if found.kind == "section":
        return ClauseMarker(1.0 + len(found.parts), f"Section {found.number}", found.end)
    if found.kind == "number":
        return ClauseMarker(2.0 + len(found.parts), found.number, found.end)
    return ClauseMarker(_paren_rank(found.number, sibling), f"({found.number})", found.end)


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


def _is_caption(candidate: str) -> bool:
    words = candidate.split()
    return 0 < len(words) <= 8 and is_title_case(words)


def _paren_rank(label: str, sibling: Callable[[float], str | None]) -> float:
    if label.isdigit():
        return DIGIT_RANK
    if label.isupper():
        return UPPER_RANK
    letter = _inner(sibling(LETTER_RANK))
    if letter and len(label) == len(letter) == 1 and ord(label) == ord(letter) + 1:
        return LETTER_RANK
    if is_roman(label):
        roman = _inner(sibling(ROMAN_RANK))
        if len(label) > 1 or label == "i":
            return ROMAN_RANK
        if roman and is_roman(roman) and roman_value(label) == roman_value(roman) + 1:
            return ROMAN_RANK
    return LETTER_RANK


def _inner(label: str | None) -> str | None:
    """ "(iv)" -> "iv"; None when the label is not a parenthesised one."""
    if label is None:
        return None
    found = read_clause_marker(label)
    return found.number if found is not None and found.kind == "item" else None
