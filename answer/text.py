"""What an answer quotes from a chunk: sentences, a lead-in with its list, a table row.

What a sentence, a clause item and a term are is ``text``'s (one rule set for the
whole service): an answer quotes the sentences chunk windows were cut at, reads list
items with the clause grammar the legal chunker uses, and grounding checks the terms
that BM25 indexed. Deliberately light (regular expressions and a memoised stemmer,
no spaCy): it runs on every request.
"""

from __future__ import annotations

import re
from typing import Final

from text.clauses import BULLET_LINE, read_clause_marker
from text.sentences import split_sentences as sentence_pieces
from text.terms import terms

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A bulleted line of plain text. Parsed lists lose their bullets (the parser reads them
# as list items, one per line); a .txt file keeps them. Not a clause marker, so not in
# ``text.clauses``.
_BLANK_LINE: Final = re.compile(r"\n[ \t]*\n")
# "Wi-Fi password: guest123", "Floor: 3": a label of a few words, a colon, a value.
_LABELLED_VALUE: Final = re.compile(r"(?P<label>[^:]{1,60}):\s+\S.*")
_MAX_LABEL_WORDS: Final = 5


def split_sentences(text: str) -> list[str]:
    """Sentences of a chunk, whitespace-normalised, empty ones dropped."""
    return [" ".join(piece.split()) for piece in sentence_pieces(text) if piece.strip()]


def content_words(text: str) -> list[str]:
    """The terms of ``text`` (``text.terms``): stemmed, stopwords dropped, in order."""
    return terms(text)


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def table_rows(text: str) -> list[str] | None:
    """Rows of a table chunk, each read with its header ("Contact: IT desk; Email: it@x").

    Table chunks hold a ``" | "``-separated header line then one row per line; read as
    prose their rows would run together. Returns None for text that is not a table.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or " | " not in lines[0]:
        return None
    if sum(" | " in line for line in lines) < 0.6 * len(lines):
        return None
    header = [cell.strip() for cell in lines[0].split(" | ")]
    rows = []
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.split(" | ")]
        if len(cells) != len(header):
            rows.append(line)
            continue
        rows.append("; ".join(f"{h}: {c}" if h else c for h, c in zip(header, cells, strict=True)))
    return rows


Unit = tuple[str, ...]
"""What an answer quotes as one piece: one sentence, or a lead-in then its list items."""


def answer_units(text: str) -> list[Unit]:
    """The units of a chunk in order: table rows, or sentences with lists kept whole.

    A lead-in keeps its list. A sentence with a line that ends in a colon takes the
    list items after it ("(a) ...", "a) ...", "1. ...", "- ...", read by
    ``text.clauses``'s grammar, while they keep one marker family) or, when the next
    sentence has no marker, the rest of its block (a parsed list, whose bullets the
    parser removed, one item per line). A clause without a colon ("3.2 Either party
    may terminate") keeps the "(a)" "(b)" items that follow it; a numbered clause is
    no lead-in of the clauses numbered like it (so "(a) ...:" keeps no "(i)" items,
    which read as its siblings). A lead-in with nothing after it in the chunk (its
    list went to the next chunk) is left out: alone it answers nothing.
    """
    rows = table_rows(text)
    if rows is not None:
        return [(row,) for row in rows]
    pieces = [piece for piece in sentence_pieces(text) if piece.strip()]
    sentences = [" ".join(piece.split()) for piece in pieces]
    block_ends = [bool(_BLANK_LINE.search(piece[len(piece.rstrip()) :])) for piece in pieces]
    lead_ins = [any(line.rstrip().endswith(":") for line in p.splitlines()) for p in pieces]
    units: list[Unit] = []
    start = 0
    while start < len(sentences):
        end = _list_end(sentences, block_ends, lead_ins[start], start)
        if end == len(sentences) == start + 1 and sentences[start].endswith(":"):
            break  # a dangling lead-in
        units.append(tuple(sentences[start:end]))
        start = end
    return units


def _list_end(sentences: list[str], block_ends: list[bool], lead_in: bool, lead: int) -> int:
    """Where the unit opened by ``sentences[lead]`` ends (exclusive)."""
    first = lead + 1
    if first == len(sentences):
        return first
    family = list_family(sentences[first])
    if family is None:
        # An unmarked list: the block after a lead-in that ends its own, else the rest of
        # the lead-in's block (its colon ended a line inside the sentence).
        if not (sentences[lead].endswith(":") or (lead_in and not block_ends[lead])):
            return first
        end = first + 1
        while end < len(sentences) and not block_ends[end - 1]:
            end += 1
        return end
    if list_family(sentences[lead]) == family or (not lead_in and family != "item"):
        return first  # siblings ("1. Scope:" then "2. Fees"), or a clause after a sentence
    end = first
    while end < len(sentences) and list_family(sentences[end]) == family:
        end += 1
    return end


def list_family(sentence: str) -> str | None:
    """What a list item's marker is, so items of one list tell the next list apart.

    "(a) ..." and "b) ..." are ``item``; "1. ..." ``number:1`` and "2.1 ..." ``number:2``
    (a depth, so clause 4.1 after a list "1." "2." is no item of it); "- ..." a bullet
    of its character. None for a sentence with no marker (or an article or a section).
    """
    marker = read_clause_marker(sentence)
    if marker is not None:
        if marker.kind == "item":
            return "item"
        if marker.kind == "number":
            return f"number:{len(marker.parts)}"
        return None
    bullet = BULLET_LINE.match(sentence)
    return f"bullet:{bullet[1]}" if bullet else None


def unit_text(unit: Unit) -> str:
    return " ".join(unit)


def is_labelled_value(text: str) -> bool:
    """Whether ``text`` is a short fact read as label and value ("Wi-Fi password: guest123")."""
    found = _LABELLED_VALUE.fullmatch(text)
    return found is not None and len(found["label"].split()) <= _MAX_LABEL_WORDS
