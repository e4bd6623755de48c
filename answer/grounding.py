"""Grounding: how much of each answer sentence its cited chunks support.

A first, honest version: lexical support. A sentence is supported to the extent
that its terms (``text.terms``, the ones BM25 indexes: stemmed, stopwords dropped,
"yes" and "no" kept since they are what such an answer claims) occur in the chunks
it cites; a number that the chunks do
not contain counts against it, because a wrong figure is the most harmful kind of
unsupported claim. A later version replaces this with a stronger checker behind the
same function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from answer.citations import MARKER_RUN
from answer.text import numbers, split_sentences
from text.terms import terms


@dataclass(frozen=True, slots=True)
class Grounding:
    score: float  # mean support over the answer's sentences, 0..1
    unsupported: tuple[str, ...]  # sentences whose support is below the threshold
    per_sentence: tuple[float, ...]


def sentence_support(sentence: str, sources: Sequence[str]) -> float:
    words = terms(sentence)
    if not words:
        return 1.0
    vocabulary = {w for text in sources for w in terms(text)}
    covered = sum(1 for w in words if w in vocabulary) / len(words)
    claimed = numbers(sentence)
    if claimed:
        available = {n for text in sources for n in numbers(text)}
        covered *= sum(1 for n in claimed if n in available) / len(claimed)
    return covered


def claims(answer: str) -> list[tuple[str, list[int]]]:
    """Split an answer into (claim, markers): each claim is the text up to its markers.

    ``"A is b. [1] C is d. [2][3]"`` gives ``[("A is b.", [1]), ("C is d.", [2, 3])]``;
    trailing text with no marker comes back with an empty list.
    """
    out: list[tuple[str, list[int]]] = []
    position = 0
    for match in MARKER_RUN.finditer(answer):
        text = answer[position : match.start()].strip()
        refs = [int(n) for n in re.findall(r"\d+", match.group(0))]
        if text:
            out.append((text, refs))
        elif out:
            out[-1][1].extend(refs)
        position = match.end()
    tail = answer[position:].strip()
    if tail:
        out.extend((sentence, []) for sentence in split_sentences(tail))
    return out


def ground(answer: str, cited_texts: Mapping[int, str], *, min_support: float) -> Grounding:
    """Score an answer whose claims end with ``[n]`` markers into ``cited_texts``.

    A claim without a marker is checked against all cited texts: it claims support
    from the answer's sources as a whole.
    """
    scores: list[float] = []
    unsupported: list[str] = []
    for claim, refs in claims(answer):
        sources = [cited_texts[r] for r in refs if r in cited_texts] or list(cited_texts.values())
        for sentence in split_sentences(claim):
            support = sentence_support(sentence, sources) if sources else 0.0
            scores.append(support)
            if support < min_support:
                unsupported.append(sentence)
    if not scores:
        return Grounding(1.0, (), ())
    return Grounding(round(sum(scores) / len(scores), 4), tuple(unsupported), tuple(scores))
