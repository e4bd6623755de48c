"""Alignment: the source sentences that best support a claim, and where its words stand in them.

A claim is checked against the evidence it rests on, not against the bag of every
word its sources hold: "did not" in one sentence and the claim's verb in another
support nothing. The sources are split into sentences (``answer.text``), each read
as a row of word positions holding that word's terms (``text.terms``, the BM25
terms), so a check can ask both *which* sentence states a claim and *how close*
two words stand in it.

Terms weigh by their inverse sentence frequency within the sources: a word every
sentence repeats (the document's subject) says less about where a claim comes from
than a word only one sentence holds.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from answer.text import numbers, split_sentences
from text.polarity import negated_terms
from text.terms import iter_terms, words

_WORD_CACHE_SIZE: Final = 100_000
_GLUED_PARAGRAPH: Final = re.compile(r"(?<=[a-z0-9)\"'])\.(?=[A-Z][a-z])")


@dataclass(frozen=True, slots=True)
class SourceSentence:
    text: str
    positions: tuple[frozenset[str], ...]  # the terms of each word, in word order
    terms: frozenset[str]
    numbers: frozenset[str]
    denied: frozenset[str]  # the terms a negation cue denies (``text.polarity``)
    source: int  # which source text it came from
    tokens: tuple[str, ...] = ()  # the normalised words themselves, stopwords kept (``text.terms``)

    def where(self, wanted: Collection[str]) -> list[int]:
        """Word positions holding one of the ``wanted`` terms."""
        return [i for i, held in enumerate(self.positions) if not held.isdisjoint(wanted)]


@dataclass(frozen=True, slots=True)
class Evidence:
    sentences: tuple[SourceSentence, ...]
    idf: dict[str, float]
    vocabulary: frozenset[str]
    numbers: frozenset[str]

    def weight(self, term: str) -> float:
        """How much a term says: rare in the sources weighs more; unknown weighs most."""
        return self.idf.get(term, self._unknown)

    @property
    def _unknown(self) -> float:
        return math.log(1 + len(self.sentences) + 1)

    def weighted_share(self, wanted: Iterable[str], found: Collection[str]) -> float:
        """The share of ``wanted`` terms, by weight, that are in ``found``; 1.0 if none wanted."""
        total = hit = 0.0
        for term in set(wanted):
            w = self.weight(term)
            total += w
            if term in found:
                hit += w
        return hit / total if total else 1.0

    def align(self, claim_terms: Collection[str], *, top: int = 2) -> list[SourceSentence]:
        """The ``top`` sentences sharing the most claim terms by weight, best first.

        Sentences sharing none are left out, so the list may be empty.
        """
        scored = []
        for i, sentence in enumerate(self.sentences):
            overlap = sum(self.weight(t) for t in set(claim_terms) if t in sentence.terms)
            if overlap > 0:
                scored.append((-overlap, i, sentence))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [sentence for _, _, sentence in scored[:top]]

    def neighbour(self, sentence: SourceSentence, step: int) -> SourceSentence | None:
        """The sentence ``step`` places before or after ``sentence`` in the same source."""
        index = self.sentences.index(sentence) + step
        if 0 <= index < len(self.sentences) and self.sentences[index].source == sentence.source:
            return self.sentences[index]
        return None


@lru_cache(maxsize=_WORD_CACHE_SIZE)
def _word_terms(word: str) -> frozenset[str]:
    """The terms of one normalised word, memoised: sources repeat their words."""
    return frozenset(iter_terms(word))


def read_evidence(sources: Sequence[str]) -> Evidence:
    """The sources as aligned sentences with term weights."""
    sentences: list[SourceSentence] = []
    for n, source in enumerate(sources):
        # Scraped text glues paragraphs ("...century.First for Women"): split them too.
        for text in split_sentences(_GLUED_PARAGRAPH.sub(". ", source)):
            tokens = tuple(words(text))
            positions = tuple(_word_terms(word) for word in tokens)
            held = frozenset(t for p in positions for t in p)
            sentences.append(
                SourceSentence(
                    text, positions, held, frozenset(numbers(text)), negated_terms(text), n, tokens
                )
            )
    frequency = Counter(t for s in sentences for t in s.terms)
    count = len(sentences)
    idf = {t: math.log(1 + count / df) for t, df in frequency.items()}
    return Evidence(
        tuple(sentences),
        idf,
        frozenset(frequency),
        frozenset(n for s in sentences for n in s.numbers),
    )
