"""Clause numbers inside a line, for text whose line breaks a converter dropped.

Clause starts are read at line starts (``text.clauses.CLAUSE_LINE``), where a
number opens a clause; inside a line the same number is usually a reference
("as set out in 2.2"). But some converters join a contract's lines, giving
"2. Fees and Payment 2.1 Customer shall pay ... 2.2 Invoices are due ...",
and then every clause of section 2 would land in one unit, its chunks starting
mid-clause.

Inside a line, a number is a clause start only when it continues the numbering
in force: the first sub-clause of the current clause (2.1 after 2), the next
sibling of the current clause or of one it sits in (2.2 after 2.1, 3 after
2.3). It must also look like a clause start (``text.clauses.INLINE_NUMBER``:
followed by a capital letter, an opening quote or bracket); not right after a
word that makes it a reference ("clause 2.2", "and 2.2", "under 2.2"); a plain
"3." only after the end of a sentence. A reference that happens to name the
next clause and pass all of that is cut too: rare, and it costs a cut between
sentences, not lost text.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Final

from text.clauses import INLINE_NUMBER

_SENTENCE_END = re.compile(r"[.;:][\"')\]\u201d\u2019]*\s+$")
_CITING_NOUNS: Final = frozenset({"clause", "section", "article", "paragraph", "schedule"})
_CITING_WORDS: Final = frozenset(
    {"and", "or", "to", "in", "under", "of", "see", "per", "with", "by", "from", "than", "at"}
)


def split_inline_clauses(text: str, current: tuple[int, ...] | None) -> list[str]:
    """``text`` cut before each inline number that continues ``current``'s numbering.

    ``current`` is the number in force where ``text`` starts ((2,) for clause
    2); ``None`` when no numbered clause is open, and then nothing is cut.
    The pieces are contiguous: joined, they give ``text`` back.
    """
    if current is None:
        return [text]
    cuts: list[int] = []
    for found in INLINE_NUMBER.finditer(text):
        number = tuple(int(part) for part in (found["dotted"] or found["plain"]).split("."))
        before = text[: found.start()]
        if not follows(current, number) or _is_reference(before):
            continue
        if found["plain"] and not _SENTENCE_END.search(before):
            continue
        cuts.append(found.start())
        current = number
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in pairwise(bounds) if end > start]


def follows(current: tuple[int, ...], number: tuple[int, ...]) -> bool:
    """Whether ``number`` can come right after clause ``current``: 2.1 or 2.2 or 3 after 2.1."""
    if number == (*current, 1):
        return True
    return any(number == (*current[:depth], current[depth] + 1) for depth in range(len(current)))


def _is_reference(before: str) -> bool:
    words = before.split()
    if not words:
        return False
    word = words[-1].lower()
    return word in _CITING_WORDS or word.removesuffix("s") in _CITING_NOUNS
