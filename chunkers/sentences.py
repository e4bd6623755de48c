"""Sentence boundaries, found by a small rule set rather than a trained model.

The sentence tokenizer LlamaIndex wires into ``SentenceSplitter`` is an untrained
Punkt model (it cuts "Dr. Smith" after "Dr."), and NLTK's trained English model
can only be loaded by adding a directory to NLTK's global search path. A rule
set is deterministic, needs no data files, and is good enough here: a boundary
only matters where a window or a last-resort split has to cut.

A boundary is end punctuation (plus closing quotes or brackets) followed by
whitespace and an upper-case letter, a digit or an opening bracket, unless the
word before the full stop is a known abbreviation or a single initial; a blank
line is always a boundary. Pieces are contiguous: joined, they give the input
back unchanged, so nothing can be lost by splitting.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(
    r"""[.!?\u2026]+["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])"""
    r"|\n[ \t]*\n\s*"
)
_WORD_BEFORE_DOT = re.compile(r"([\w.]+)\.+$")
_ABBREVIATIONS = frozenset(
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
    for match in _BOUNDARY.finditer(text):
        if match.group().startswith(".") and _is_abbreviation(text[start : match.start() + 1]):
            continue
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _is_abbreviation(sentence_so_far: str) -> bool:
    found = _WORD_BEFORE_DOT.search(sentence_so_far[-40:])
    if found is None:
        return False
    word = found.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())
