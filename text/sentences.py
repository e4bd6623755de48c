"""What a sentence is: the one boundary rule for chunking, parsing and answers.

A rule set rather than a trained model: the sentence tokenizer LlamaIndex wires
into ``SentenceSplitter`` is an untrained Punkt model (it cuts "Dr. Smith" after
"Dr."), NLTK's trained English model can only be loaded by adding a directory to
NLTK's global search path, and a rule set is deterministic and needs no data.

A boundary is:

- end punctuation (plus closing quotes or brackets) followed by whitespace and an
  upper-case letter, a digit or an opening quote or bracket;
- a CJK full stop, question or exclamation mark, which needs no space after it;
- a blank line.

A full stop is no boundary after a known abbreviation ("Dr.", "e.g.", "Inc.",
"U.S."), a single initial ("J. Smith"), or a list number that opens its line
("1. First item"). A decimal ("1.5") never is one: no whitespace follows the dot.

Pieces are contiguous: joined, they give the input back unchanged, so nothing can
be lost by splitting. The work is linear: each candidate looks back a few dozen
characters at most.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

#: The Chinese and Japanese full stop, exclamation and question marks: each ends a
#: sentence with no space after it. Every rule that asks "does this end a sentence?" uses these.
CJK_SENTENCE_ENDS: Final = "\u3002\uff01\uff1f"
_BOUNDARY: Final = re.compile(
    r"""[.!?\u2026]+["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])"""
    rf"|[{CJK_SENTENCE_ENDS}]+\s*"
    r"|\n[ \t]*\n\s*"
)
_WORD_BEFORE_DOT: Final = re.compile(r"([\w.]+)\.+$")
_LIST_NUMBER: Final = re.compile(r"\n[ \t]*\d{1,3}(?:\.\d{1,3})*\.$")
_LOOK_BACK: Final = 40
ABBREVIATIONS: Final = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "rev", "hon"),
        *("gen", "col", "capt", "lt", "sgt"),
        *("inc", "ltd", "co", "corp", "llc", "plc", "bros", "dept", "univ", "assn"),
        *("vs", "etc", "e.g", "i.e", "cf", "al", "approx", "est", "misc", "viz"),
        *("no", "nos", "art", "arts", "sec", "secs", "para", "paras", "cl", "ch", "vol"),
        *("fig", "figs", "eq", "p", "pp", "op", "ed", "eds"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("u.s", "u.k", "u.n", "e.u", "a.m", "p.m"),
    }
)


def split_sentences(text: str) -> list[str]:
    """Contiguous sentence pieces of ``text`` (each keeps its trailing whitespace)."""
    pieces: list[str] = []
    start = 0
    for end in sentence_ends(text):
        pieces.append(text[start:end])
        start = end
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def sentence_ends(text: str, start: int = 0, stop: int | None = None) -> Iterator[int]:
    """Where sentences end inside ``text[start:stop]``, after their trailing whitespace.

    Nothing past ``stop`` is looked at, so a boundary whose next sentence starts
    beyond it is not reported: a caller cutting at a bound gets only ends it can see.
    """
    for match in _BOUNDARY.finditer(text, start, len(text) if stop is None else stop):
        if match.group().startswith(".") and _dot_is_no_end(text, match.start()):
            continue
        yield match.end()


def _dot_is_no_end(text: str, dot: int) -> bool:
    """Whether the full stop at ``dot`` closes an abbreviation, an initial or a list number."""
    window_start = max(0, dot - _LOOK_BACK)
    before = text[window_start : dot + 1]
    found = _WORD_BEFORE_DOT.search(before)
    if found is not None:
        word = found.group(1).lower()
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return True
    line = ("\n" if window_start == 0 else "") + before
    return _LIST_NUMBER.search(line) is not None
