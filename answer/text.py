"""Sentences and content words as answers read them, and table chunks read as rows.

What a sentence and a term are is ``text``'s (one rule set for the whole service):
an answer quotes the sentences chunk windows were cut at, and grounding checks the
terms that BM25 indexed. Deliberately light (regular expressions and a memoised
stemmer, no spaCy): it runs on every request.
"""

from __future__ import annotations

import re

from text.sentences import split_sentences as sentence_pieces
from text.terms import terms

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


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
