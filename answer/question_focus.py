"""Question focus: does a short answer stand where the question points in its evidence?

A bare answer ("Delhi", "1887") repeats no claim of its own: every word of a wrong
name taken from the same document is "in the sources". What makes it right is where
it stands: next to the words of the question ("head office in Delhi"), not
elsewhere in the text.

The answer's words are found in the source sentences and scored by how close the
question's terms stand to them, weighted by rarity (a question term in the same
sentence, a few words away, counts most; in the sentence before or after, a
little), by how near the question word they stand in the question (the asked
relation, not the description of its subject), and less inside a name the question
gives. A span of the kind asked for ("what album": standing by "album") stands
stronger. Every other name and number in the sources (only numbers, when a number
or date is asked) is scored the same way; the answer's focus is its score over the
best of them, so 1.0 when no rival stands closer, and never below
:data:`FOCUS_FLOOR` (a question can reach its answer through a sentence about
something else). A short answer that only repeats the question, or whose parts no
sentence holds together, is not an answer the sources give.

Yes/no answers are read by :mod:`answer.yes_no`, either-or answers by
:mod:`answer.either_or`. Deliberately lexical (no model): it runs on every answer,
in about a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Final

from answer.alignment import Evidence, SourceSentence
from answer.answer_kind import asked_kind as answer_kind
from answer.answer_kind import fits
from text.entities import names
from text.terms import terms

#: Most terms an answer may add to its question and still read as a short answer.
MAX_SHORT_TERMS: Final = 4
#: Focus of an answer no question term stands near while a rival's does: a floor, not zero,
#: since a question may point at its answer through a sentence about something else.
FOCUS_FLOOR: Final = 0.5
RESTATED: Final = 0.3  # focus of a short answer that only repeats the question
KIND_BOOST: Final = 1.5  # standing of a span of the kind asked for
YEAR: Final = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_NEAR: Final = 4.0  # words at which a question term's pull halves
_NEIGHBOUR_PULL: Final = 0.3  # a question term found only in a sentence next to it
#: Questions whose answer is a number or a date: only numbers are its rivals.
_NUMERIC: Final = re.compile(
    r"^\s*when\b|\b(?:what|which) year\b|\bhow (?:many|much|long|old|far|tall)\b",
    re.IGNORECASE,
)
_ALTERNATIVES: Final = re.compile(r"\b(?:or|between)\b", re.IGNORECASE)
_WH: Final = re.compile(r"\b(?:what|which|who|whom|whose|where|when|how)\b", re.IGNORECASE)
_QUESTION_WORD: Final = re.compile(r"[^\W_]+(?:[-.'][^\W_]+)*")
_ASKED_NEAR: Final = 3.0  # words from the question word at which a term's extra weight halves
_FAR: Final = 1000
_KIND: Final = re.compile(r"\b(?:[Ww]hat|[Ww]hich)\s+([a-z]+(?:\s+[a-z]+)?)")  # lower case: a kind
_KIND_NEAR: Final = 4  # words between a span and the kind it is of ("Dirt, their album")
_NAMED_PULL: Final = 0.5  # share of its weight a question term keeps inside a name
#: Question terms that name the kind of answer wanted, not something the sources state.
_ASKING: Final = frozenset(terms("name named called known year many much kind type"))


def question_terms(question: str) -> set[str]:
    """The question's terms, less those that name the kind of answer ("name", "year")."""
    return set(terms(question)) - _ASKING


def answer_focus(question: str, answer: str, evidence: Evidence) -> float | None:
    """How much closer the question's terms stand to the answer than to any rival, 0..1.

    None when the answer is no short answer (it adds more than :data:`MAX_SHORT_TERMS`
    terms to the question) or its words are in no source: then the claim checks and
    word coverage judge it. A short answer that only repeats the question's words
    ("1976" to "The 1976 Grand Prix was won by a driver who retired in what year?")
    answers nothing, and one whose parts no single sentence holds together ("May 30,
    2007" where the sources say "May 30, 1943" and "2007" apart) is stated nowhere.
    """
    wanted = question_terms(question)
    said = set(terms(answer))
    new = said - wanted
    if not new:
        restated = (
            said
            and len(said) <= MAX_SHORT_TERMS
            and _WH.search(question) is not None
            and _ALTERNATIVES.search(question) is None  # "A or B?" is answered by repeating
        )
        return RESTATED if restated else None
    if len(new) > MAX_SHORT_TERMS:
        return None
    pull = {t: w for t, w in asked_weights(question).items() if t in evidence.vocabulary}
    if not pull:
        return None
    # A name is located whole, and the question's words inside it pull nothing: in
    # "The Oberoi Group is ...", "Oberoi" is part of the name, not a pointer to it.
    kind = asked_kind(question)
    own = _standing(said, pull, evidence, kind)
    if own is None:
        return FOCUS_FLOOR if said <= evidence.vocabulary else None
    rivals = 0.0
    asked = answer_kind(question)
    numeric = _NUMERIC.search(question) is not None
    judged: dict[str, bool] = {}  # a name recurs across sentences: judge its kind once
    for rival, label in _candidates(evidence, numeric=numeric):
        if asked is not None and not numeric and not label.isdigit():
            if label not in judged:
                judged[label] = fits(asked, label, evidence)
            if not judged[label]:
                continue  # a rival of another kind than asked ("Rutgers University": "what state")
        if rival - wanted and rival.isdisjoint(new):
            rivals = max(rivals, _standing(rival, pull, evidence, kind) or 0.0)
    if rivals <= own:
        return 1.0
    return FOCUS_FLOOR + (1.0 - FOCUS_FLOOR) * own / rivals


def asked_weights(question: str) -> dict[str, float]:
    """The question's terms, weighted by how close they stand to its question word.

    "... wrote a song about Milhouse, who Matt Groening named after who?": the words
    by the question word ("named after") say what is asked; the far ones describe
    the subject the asked relation is about, and they point at its sentence, not at
    the answer within it. A term's weight is 1 at the question word and falls to
    one half far from it. Words of a name the question gives ("How far does the
    Caldera Trail climb?") weigh half again: the name finds the sentence, the
    relation ("climb") finds the answer in it.
    """
    found = list(_WH.finditer(question))
    named = {t for n in names(question) for t in terms(n)}
    weights: dict[str, float] = {}
    for match in _QUESTION_WORD.finditer(question):
        here = match.start()
        distance = min(
            (
                abs(len(question[min(here, w.start()) : max(here, w.start())].split()))
                for w in found
            ),
            default=_FAR,
        )
        weight = 0.5 + 0.5 / (1.0 + distance / _ASKED_NEAR)
        for term in terms(match.group()):
            if term not in _ASKING:
                weighed = weight * (_NAMED_PULL if term in named else 1.0)
                weights[term] = max(weights.get(term, 0.0), weighed)
    return weights


def _candidates(evidence: Evidence, *, numeric: bool) -> list[tuple[set[str], str]]:
    """What else could answer, as (terms, text): the sources' numbers, and their names unless
    a number is asked."""
    found = (
        [] if numeric else [(set(terms(n)), n) for s in evidence.sentences for n in names(s.text)]
    )
    found += [({n}, n) for n in evidence.numbers]
    return [(c, label) for c, label in found if c]


def _standing(
    span: set[str], pull: dict[str, float], evidence: Evidence, kind: set[str]
) -> float | None:
    """The best pull the question's terms exert on ``span`` in any sentence that holds it.

    A span that is of the ``kind`` asked for ("what album": "album") stands stronger:
    it holds the word or stands a few words from it ("the album Dirt", "Dirt, their
    second album").
    """
    total = sum(evidence.weight(t) * w for t, w in pull.items() if t not in span)
    best: float | None = None
    figures = {t for t in span if t.isdigit()}
    for sentence in evidence.sentences:
        if evidence.weighted_share(span, sentence.terms) < 0.5 or not figures <= sentence.terms:
            continue
        # A figure locates its answer: in "14 metres", "metres" also follows another figure.
        at = sentence.where(figures or span)
        nearby = [evidence.neighbour(sentence, -1), evidence.neighbour(sentence, 1)]
        beside = [s for s in nearby if s is not None]
        pulled = 0.0
        for term, asked in pull.items():
            if term in span:
                continue
            pulled += evidence.weight(term) * asked * _pull(term, at, sentence, beside)
        score = pulled / total if total > 0 else 1.0  # it holds every question term
        if kind and (kind & span or _within(sentence.where(kind), at, _KIND_NEAR)):
            score *= KIND_BOOST
        best = score if best is None else max(best, score)
    return best


def _within(here: list[int], at: Collection[int], distance: int) -> bool:
    return any(abs(p - q) <= distance for p in here for q in at)


def asked_kind(question: str) -> set[str]:
    """The kind of thing asked for: the words after "what" or "which" ("what album")."""
    found = _KIND.search(question)
    if found is None:
        return set()
    return set(terms(found.group(1))) - _ASKING


def _pull(
    term: str, at: Collection[int], sentence: SourceSentence, beside: list[SourceSentence]
) -> float:
    here = sentence.where((term,))
    if here:
        distance = min(abs(p - q) for p in here for q in at)
        return 1.0 / (1.0 + distance / _NEAR)
    if any(term in s.terms for s in beside):
        return _NEIGHBOUR_PULL
    return 0.0
