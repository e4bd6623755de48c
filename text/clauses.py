"""What a clause number is: the one grammar for parsing, the legal chunker and detection.

A marker opens a line, a heading or a clause:

- ``article``: "Article IV", "ARTICLE 2", "Chapter 1", and the divisions of a whole
  work above its chapters (:attr:`ClauseMarker.is_division`): "Part 3", "BOOK ONE:
  1805", "Volume II", "Book the First";
- ``section``: "Section 4.2", "Sec. 5", "Clause 7", "§ 7", "§§ 12";
- ``number``: "12.", "4)", "3.1", "3.1.2";
- ``item``: "(a)", "(iv)", "(A)", "(1)", and bare "a)", "iv)", "A)", "1)".

Guards against ordinary sentences: a number or a Section/Article must be followed
by a capital letter, an opening quote or bracket, a separator (Article/Section
only), or the end of the line, so "Section 5 shall survive", "2.5 hours" and "12
months" that a hard wrap put at a line start are no clause starts; a plain "12"
needs its "." or ")". A named heading (Article, Chapter, Book, Part, Volume) is
numbered by digits, a Roman numeral or a number word up to twenty ("ONE",
"Twelve", "FIRST", "the Second"), so "Part One" and "CHAPTER TWELVE" are read
and "Book of Common Prayer" is not. A bare item is one letter, a Roman numeral or a number, so
"etc) and" at the start of a wrapped line is no item.

Inside a line (:data:`INLINE_NUMBER`) only dotted numbers and "3." count, and
only before a capital or an opening quote or bracket; whether such a number
continues the numbering or cites it is the reader's business.

What a marker means (how deep it sits, whether its line is a heading) differs by
reader: parsing needs a family and a depth, the legal chunker ranks. Both read
markers through :func:`read_clause_marker`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

ClauseKind = Literal["article", "section", "number", "item"]

#: A bulleted list item: a dash, star or bullet sign, then a space and the item's text.
BULLET_LINE: Final = re.compile(r"([-*\u2022\u2023\u25e6\u2013\u2014])\s+\S")
_HEAD_END = r"(?=\s*$|\s*[.:\-\u2013\u2014]|\s+[A-Z(\"'\u201c\u2018])"
_OPENS_BODY = r"\s+[A-Z(\"'\u201c\u2018]"
_BODY_START = rf"(?={_OPENS_BODY}|\s*$)"
_CARDINALS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
# Upper or title case, as a heading writes them; an ordinal may follow "the" ("Book the First").
_NUMBER_WORDS = "|".join(
    [
        *(f"{w.upper()}|{w.title()}" for w in _CARDINALS),
        *(f"(?:(?:THE|The|the)\\s+)?(?:{w.upper()}|{w.title()})" for w in _ORDINALS),
    ]
)
_DOTTED = r"\d{1,3}(?:\.\d{1,3})+"
_DIVISION_WORDS = r"BOOK|Book|VOLUME|Volume|PART|Part"
_ARTICLE_WORDS = rf"ARTICLE|Article|CHAPTER|Chapter|{_DIVISION_WORDS}"
_SECTION_WORDS = r"SECTION|Section|SEC\.|Sec\.|CLAUSE|Clause|\u00a7{1,2}"
_ARTICLE = rf"({_ARTICLE_WORDS})\s+(\d{{1,3}}|[IVXLCDM]{{1,7}}|{_NUMBER_WORDS})\b{_HEAD_END}"
_SECTION = rf"({_SECTION_WORDS})\s*(\d{{1,3}}(?:\.\d{{1,3}})*)\b{_HEAD_END}"
_NUMBER = rf"({_DOTTED})\.?{_BODY_START}|(\d{{1,3}})[.)]{_BODY_START}"
_ITEM = r"(?:\(([a-z]{1,4}|[A-Z]|\d{1,2})\)|([a-z]|[ivx]{2,4}|[A-Z]|\d{1,2})\))(?=\s|$)"

_ARTICLE_RE: Final = re.compile(_ARTICLE)
_SECTION_RE: Final = re.compile(_SECTION)
_NUMBER_RE: Final = re.compile(_NUMBER)
_ITEM_RE: Final = re.compile(_ITEM)
_ROMAN: Final = re.compile(r"m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")

#: A line that opens with a clause marker (the match is empty, at the line start).
CLAUSE_LINE: Final = re.compile(rf"(?m)^[ \t]*(?={_ARTICLE}|{_SECTION}|{_NUMBER}|{_ITEM})")
#: A clause number inside a line: "2.1" or "3." before what could open a clause body.
INLINE_NUMBER: Final = re.compile(
    rf"(?<=\s)(?:(?P<dotted>{_DOTTED})\.?|(?P<plain>\d{{1,3}})\.)(?={_OPENS_BODY})"
)
#: The words naming a division above chapters (lower case), see :attr:`ClauseMarker.is_division`.
DIVISION_WORDS: Final = frozenset(_DIVISION_WORDS.lower().split("|"))
#: Words a title leaves in lower case.
TITLE_MINOR_WORDS: Final = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"]
)


@dataclass(frozen=True, slots=True)
class ClauseMarker:
    """A clause marker at the start of a text.

    ``word`` is how an article or section was named ("ARTICLE", "Sec.", "§"), empty
    for numbers and items; ``number`` is "IV", "4.2", "3.1" or an item's label
    without brackets ("a"); ``end`` is where the marker ends in the text read.
    """

    kind: ClauseKind
    word: str
    number: str
    end: int

    @property
    def is_division(self) -> bool:
        """Whether this names a division of a whole work that holds chapters: a Book, a
        Part, a Volume. Readers rank it above Chapter and Article; in a legal text a
        "Part" holds Articles the same way."""
        return self.kind == "article" and self.word.lower() in DIVISION_WORDS

    @property
    def parts(self) -> tuple[str, ...]:
        """The number's components: "4.2" gives ("4", "2"); an article one; an item none."""
        if self.kind == "item":
            return ()
        if self.kind == "article":
            return (self.number,)
        return tuple(self.number.split("."))


def read_clause_marker(text: str) -> ClauseMarker | None:
    """The marker ``text`` starts with (after leading whitespace), or ``None``."""
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    if found := _ARTICLE_RE.match(stripped):
        return ClauseMarker("article", found[1], found[2], offset + found.end())
    if found := _SECTION_RE.match(stripped):
        return ClauseMarker("section", found[1], found[2], offset + found.end())
    if found := _NUMBER_RE.match(stripped):
        return ClauseMarker("number", "", found[1] or found[2], offset + found.end())
    if found := _ITEM_RE.match(stripped):
        return ClauseMarker("item", "", found[1] or found[2], offset + found.end())
    return None


def line_markers(text: str) -> Iterator[ClauseMarker]:
    """The markers opening lines of ``text``, in order."""
    for found in CLAUSE_LINE.finditer(text):
        line_end = text.find("\n", found.start())
        marker = read_clause_marker(text[found.start() : line_end if line_end >= 0 else None])
        if marker is not None:
            yield marker


def number_parts(number: str) -> tuple[int, ...] | None:
    """A clause number as integers, to tell which number comes next.

    "2.1" gives (2, 1), "Section 4.2" (4, 2), "Article IV" (4,); "(a)" gives None.
    """
    value = number.split()[-1] if number.strip() else ""
    if re.fullmatch(r"\d+(?:\.\d+)*", value):
        return tuple(int(part) for part in value.split("."))
    if value.isupper() and is_roman(value.lower()):
        return (roman_value(value.lower()),)
    return None


def is_roman(numeral: str) -> bool:
    """Whether a lower-case ``numeral`` is a well-formed Roman numeral ("iv", not "iiv")."""
    return bool(numeral) and _ROMAN.fullmatch(numeral) is not None


def roman_value(numeral: str) -> int:
    """The value of a lower-case Roman numeral: "iv" gives 4."""
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total = 0
    for here, after in zip(numeral, [*numeral[1:], ""], strict=True):
        value = values[here]
        total += -value if after and values[after] > value else value
    return total


def is_title_case(words: Sequence[str]) -> bool:
    """Whether ``words`` read as a title: each capitalised, a minor word, or no word."""
    return all(
        w[0].isupper() or w.lower() in TITLE_MINOR_WORDS or not w[0].isalpha() for w in words
    )
