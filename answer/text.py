"""Sentence splitting and content words, shared by answer selection and grounding.

Deliberately light (regular expressions, no spaCy): it runs on every request.
"""

from __future__ import annotations

import re

from chunkers.sentences import split_sentences as chunk_sentences

_WORD = re.compile(r"[^\W_]+(?:[-'.][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves shall may might must also per via within without upon
    """.split()  # noqa: SIM905 - a word list reads best as text
)


def split_sentences(text: str) -> list[str]:
    """Sentences of a chunk, whitespace-normalised, empty ones dropped.

    The boundaries are the chunkers' (one rule set for the whole service), so an
    answer quotes the same sentences that chunk windows were cut at.
    """
    return [" ".join(piece.split()) for piece in chunk_sentences(text) if piece.strip()]


def _stem(word: str) -> str:
    """A tiny suffix stripper: enough for 'policies'/'policy', 'days'/'day' to meet."""
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("es", "e"), ("s", "")):
        if len(word) > 4 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def content_words(text: str) -> list[str]:
    """Lower-cased, lightly stemmed words that carry meaning (stopwords removed)."""
    return [_stem(w) for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS]


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
