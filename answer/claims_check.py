"""Claim checks: does an answer sentence agree with the evidence it aligns to?

Word coverage says a sentence's words are in the sources; it cannot see a sentence
built from the sources' own words that says something else. Each check compares the
sentence with the source sentences it aligns to (:mod:`answer.alignment`) and gives
a factor in 0..1 that the coverage is multiplied by:

- **polarity**: a word the evidence denies ("does not support") that the sentence
  asserts ("supports"), or the other way round, in either of the two sentences it
  aligns to best. A flipped claim is as wrong as a claim can be, so the factor is
  small;
- **numbers**: a figure the evidence does not state. Stated elsewhere in the sources
  it keeps a quarter (a real number attached to the wrong fact); stated nowhere,
  nothing. A date ("28 May") must be stated as a date: its day alone is no support;
- **names**: a name the sentence states that its evidence does not (the right name
  on the wrong fact: "Peter Holm will lead the project" when the sentence naming
  the leader names Ana Ruiz). A name missing from the sources altogether is left
  to coverage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from answer.alignment import Evidence, SourceSentence
from answer.text import numbers
from text.entities import names
from text.polarity import negated_terms
from text.terms import terms

_MONTH: Final = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b"
)
_DAY_MONTH: Final = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}")
_MONTH_DAY: Final = re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}})\b(?!\d)")
POLARITY_CONFLICT: Final = 0.2  # support kept by a sentence that flips its evidence
#: Fewest terms a sentence needs to state something polarity can flip: "Hey Monday" names a
#: thing, and a "not" near that name in the sources denies nothing the answer says.
MIN_CLAIM_TERMS: Final = 3
NUMBER_ELSEWHERE: Final = 0.25  # kept per number the evidence lacks but the sources state
NAME_ELSEWHERE: Final = 0.5  # kept when none of a sentence's names is in its evidence


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    polarity: float
    numbers: float
    names: float

    @property
    def factor(self) -> float:
        return self.polarity * self.numbers * self.names


def check_claim(sentence: str, evidence: Evidence) -> ClaimCheck:
    """How far ``sentence`` agrees with the source sentences it aligns to."""
    claim_terms = set(terms(sentence))
    # Aligned on words, not figures: a swapped number must not pick its own sentence.
    aligned = evidence.align(claim_terms - numbers(sentence))
    if not aligned:
        # Nothing but figures ("In 1887."): coverage checks they are stated at all, and
        # the question's focus where; there is no aligned evidence to compare with.
        return ClaimCheck(1.0, 1.0, 1.0)
    polarity = (
        _polarity(sentence, claim_terms, aligned) if len(claim_terms) >= MIN_CLAIM_TERMS else 1.0
    )
    return ClaimCheck(
        polarity,
        _numbers(sentence, _window(aligned, evidence), evidence),
        _names(sentence, _window(aligned[:1], evidence), evidence),
    )


def _window(aligned: list[SourceSentence], evidence: Evidence) -> list[SourceSentence]:
    """The aligned sentences and the one before the best: a pronoun's name stands there.

    Numbers are looked up in the two best sentences (a claim may join two facts);
    names in the best one only, where the claim's relation is stated.
    """
    before = evidence.neighbour(aligned[0], -1)
    return [*aligned, before] if before is not None else aligned


def _polarity(sentence: str, claim_terms: set[str], aligned: list[SourceSentence]) -> float:
    """A conflict when the best aligned sentence holding a claim word states it the other way.

    Aligned sentences come best first, so each word is judged by the sentence that
    shares most with the claim among those holding it: "covers the motor" by
    "a warranty covering the motor", "covers burr wear" by "does not cover burr wear".
    """
    denied_here = negated_terms(sentence)
    for term in claim_terms:
        holder = next((s for s in aligned if term in s.terms), None)
        if holder is not None and (term in holder.denied) != (term in denied_here):
            return POLARITY_CONFLICT
    return 1.0


def _numbers(sentence: str, window: list[SourceSentence], evidence: Evidence) -> float:
    factor = 1.0
    near = {n for s in window for n in s.numbers}
    for number in numbers(sentence):
        if number in near:
            continue
        factor *= NUMBER_ELSEWHERE if number in evidence.numbers else 0.0
    claimed = dates(sentence)
    stated = {d for s in evidence.sentences for d in dates(s.text)} if claimed else set()
    for date in claimed:
        if date not in stated:
            factor *= NUMBER_ELSEWHERE  # "28 May" where the sources say "28 April"
    return factor


def dates(text: str) -> set[str]:
    """Day-and-month dates as "28 apr", either order: the day alone is a number any date has."""
    found = {f"{int(d)} {m[:3].lower()}" for d, m in _DAY_MONTH.findall(text)}
    found |= {f"{int(d)} {m[:3].lower()}" for m, d in _MONTH_DAY.findall(text)}
    return found


def _names(sentence: str, window: list[SourceSentence], evidence: Evidence) -> float:
    held = {t for s in window for t in s.terms}
    stated = [set(terms(n)) for n in names(sentence)]
    known = [n for n in stated if n and n <= evidence.vocabulary]
    if not known:
        return 1.0
    missing = [n for n in known if not n <= held]
    return 1.0 - (1.0 - NAME_ELSEWHERE) * len(missing) / len(known)
