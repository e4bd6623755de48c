"""The last resort: cut one piece of text that is too big into pieces that fit.

Cuts are tried from the coarsest boundary to the finest (``levels``: paragraphs,
sentences, lines, words...), and only the segments that are still too big go
down a level, so each segment is counted once per level it reaches instead of
recounting a growing string. Adjacent segments are then packed back together
into as few pieces of even size as ``target`` allows, their summed counts
standing in for the count of their concatenation (exact for WordPiece, which
pre-tokenizes on whitespace); every packed piece is then counted once, and
halved if the sum was optimistic.

Below the last level, text is cut by characters, shrinking a cut in proportion
to its overshoot, so even one giant "word" (base64, a minified line) fits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from chunkers.base import TokenCounter
from text.sentences import split_sentences

Splitter = Callable[[str], list[str]]
# A first guess at how many characters a token spans, for the character cut only.
_CHARS_PER_TOKEN = 4


@dataclass(frozen=True, slots=True)
class Piece:
    """A piece of text and its count; ``joint`` is how it joined the piece before it."""

    text: str
    tokens: int
    joint: str = ""


def split_after(pattern: str) -> Splitter:
    """A splitter cutting right after each match of ``pattern``; pieces are contiguous."""
    compiled = re.compile(pattern)

    def split(text: str) -> list[str]:
        pieces: list[str] = []
        start = 0
        for match in compiled.finditer(text):
            if match.end() > start:
                pieces.append(text[start : match.end()])
                start = match.end()
        if start < len(text):
            pieces.append(text[start:])
        return pieces

    return split


def split_before(pattern: str) -> Splitter:
    """A splitter cutting right before each match of ``pattern``; pieces are contiguous."""
    compiled = re.compile(pattern)

    def split(text: str) -> list[str]:
        cuts = [m.start() for m in compiled.finditer(text) if m.start() > 0]
        bounds = [0, *cuts, len(text)]
        return [text[a:b] for a, b in pairwise(bounds) if b > a]

    return split


paragraphs = split_after(r"\n[ \t]*\n\s*")
clauses = split_after(r"[;:]\s+")
lines = split_after(r"\n")
words = split_after(r"\s+")

PROSE_LEVELS: tuple[Splitter, ...] = (paragraphs, split_sentences, clauses, lines, words)
SUBSENTENCE_LEVELS: tuple[Splitter, ...] = (clauses, lines, words)
CODE_LEVELS: tuple[Splitter, ...] = (paragraphs, lines, words)


def fit(
    text: str,
    tokens: TokenCounter,
    *,
    limit: int,
    target: int | None = None,
    levels: Sequence[Splitter] = PROSE_LEVELS,
    known_count: int | None = None,
    keep_indent: bool = False,
) -> list[Piece]:
    """Pieces of ``text`` in order, each counting at most ``limit`` tokens.

    Pieces are stripped of surrounding whitespace (with ``keep_indent``, as for
    code, only blank lines and trailing spaces go) and none is empty. ``target``
    is the size pieces are packed up to (default: ``limit``); ``known_count``
    saves counting ``text`` again when the caller already did.
    """
    count = tokens.count(text) if known_count is None else known_count
    if count <= limit:
        stripped = _strip(text, keep_indent)
        return [Piece(stripped, count)] if stripped else []
    target = min(target or limit, limit)
    segments = _segments(text, tokens, limit, target, levels)
    pieces: list[Piece] = []
    for group in _balanced_groups(segments, target):
        pieces.extend(_verified(group, tokens, limit, keep_indent))
    return _with_joints(text, pieces)


def _with_joints(text: str, pieces: list[Piece]) -> list[Piece]:
    """Record the whitespace between pieces, as a paragraph, line or word joint."""
    found: list[Piece] = []
    position = 0
    for piece in pieces:
        start = text.find(piece.text, position)
        gap = text[position:start] if start >= 0 and found else ""
        joint = "\n\n" if gap.count("\n") > 1 else "\n" if "\n" in gap else " " if gap else ""
        found.append(Piece(piece.text, piece.tokens, joint))
        position = start + len(piece.text) if start >= 0 else position
    return found


def _segments(
    text: str, tokens: TokenCounter, limit: int, target: int, levels: Sequence[Splitter]
) -> list[Piece]:
    """Contiguous, unstripped segments of ``text``, each within ``limit``.

    A part too big for its level is cut at the next level and its bits are
    packed into even pieces of their own, so the start of a cut sentence is not
    glued onto the sentence before it.
    """
    for depth, splitter in enumerate(levels):
        parts = splitter(text)
        if len(parts) < 2:
            continue
        found: list[Piece] = []
        for part in parts:
            count = tokens.count(part)
            if count <= limit:
                found.append(Piece(part, count))
                continue
            bits = _segments(part, tokens, limit, target, levels[depth + 1 :])
            found.extend(_joined(group) for group in _balanced_groups(bits, target))
        return found
    return _cut_characters(text, tokens, target)


def _balanced_groups(segments: list[Piece], target: int) -> list[list[Piece]]:
    """Adjacent segments in as few groups as ``target`` allows, as even as those allow.

    The fewest groups come from filling each up to the target; the smallest
    bound that still gives that many groups (a binary search) evens them out, so
    a 300-token sentence becomes two pieces of 150, not 177 and 123.
    """
    fewest = len(_greedy_groups(segments, target))
    low, high = 1, target
    while low < high:
        middle = (low + high) // 2
        if len(_greedy_groups(segments, middle)) <= fewest:
            high = middle
        else:
            low = middle + 1
    return _greedy_groups(segments, low)


def _greedy_groups(segments: list[Piece], bound: int) -> list[list[Piece]]:
    groups: list[list[Piece]] = []
    size = 0
    for segment in segments:
        if groups and size + segment.tokens <= bound:
            groups[-1].append(segment)
            size += segment.tokens
        else:
            groups.append([segment])
            size = segment.tokens
    return groups


def _joined(group: list[Piece]) -> Piece:
    return Piece("".join(p.text for p in group), sum(p.tokens for p in group))


def _cut_characters(text: str, tokens: TokenCounter, limit: int) -> list[Piece]:
    """Cuts of at most ``limit`` tokens, each shrunk in proportion to its overshoot."""
    found: list[Piece] = []
    start = 0
    while start < len(text):
        length = min(len(text) - start, limit * _CHARS_PER_TOKEN)
        count = tokens.count(text[start : start + length])
        while count > limit:
            if length == 1:
                raise ValueError(f"one character counts more than {limit} tokens")
            length = max(1, min(length - 1, length * limit // count))
            count = tokens.count(text[start : start + length])
        found.append(Piece(text[start : start + length], count))
        start += length
    return found


def _verified(
    group: list[Piece], tokens: TokenCounter, limit: int, keep_indent: bool
) -> list[Piece]:
    """The group as one piece if its real count fits; halves of it otherwise."""
    text = _strip("".join(p.text for p in group), keep_indent)
    if not text:
        return []
    count = tokens.count(text)
    if count <= limit:
        return [Piece(text, count)]
    if len(group) > 1:
        half = len(group) // 2
        return _verified(group[:half], tokens, limit, keep_indent) + _verified(
            group[half:], tokens, limit, keep_indent
        )
    # One segment whose parts' counts summed too low: only an odd tokenizer gets
    # here. Its character cuts are counted as they are, so they cannot recurse.
    return [p for p in _cut_characters(text, tokens, limit) if p.text.strip()]


def _strip(text: str, keep_indent: bool) -> str:
    stripped = text.strip("\n").rstrip() if keep_indent else text.strip()
    return stripped if stripped.strip() else ""
