"""Number focus: is the figure an answer gives the one the sources attach to what it claims?

A swapped figure is taken from the same document, so "it is in the sources" proves
nothing; what a figure means is the words it stands with. Three rules, each a
factor in 0..1 on the answer's support:

- **attachment**: a short answer's figure must stand in some source sentence with
  the words it stands with in the answer ("more than 1,600", "3000 metres"), and in
  any answer a figure written with a date's other parts ("January 4, 1919") must be
  stated with them: "43 metres" where the sources say "43 events" and "3000 metres"
  is a real number attached to the wrong thing;
- **unit asked**: "how many passengers" asks for the figure the sources put right
  before "passengers" ("294,000 passengers"), not the "94" of "a 94% increase";
- **life events**: "born in which year" asks for a birth year ("born September 2,
  1948", the first year of "(15 June 1892 - 6 February 1975)"), "the year he died"
  for the last year of such a span or one after "died".

Each rule applies only where the sources give it something to compare: a unit no
figure stands by, or a document without life spans, leaves the answer as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from answer.alignment import Evidence, SourceSentence
from answer.question_focus import YEAR
from text.terms import STOPWORDS, terms, words

DETACHED: Final = 0.35  # support kept by a figure standing with other words than the claimed ones
#: A short answer: few enough words that each word by its figure is part of what it claims.
MAX_SHORT_WORDS: Final = 5
_UNIT_REACH: Final = 3  # words after a figure in which the unit asked for may stand
_EVENT_REACH: Final = 6  # words after "born" or "died" in which its year may stand
_HOW_MANY: Final = re.compile(r"\b(?:how\s+(?:many|much)|number\s+of)\s+", re.IGNORECASE)
_BIRTH: Final = re.compile(r"\b(?:born|birth|birthday)\b", re.IGNORECASE)
_DEATH: Final = re.compile(r"\b(?:die|died|dies|death|dead|pass(?:ed)? away)\b", re.IGNORECASE)
_ASKS_YEAR: Final = re.compile(r"\b(?:when|year)\b", re.IGNORECASE)
_LIFE_SPAN: Final = re.compile(
    r"\([^()]*?\b(1[0-9]{3}|20[0-9]{2})\b[^()]*?[\u2013\u2014-][^()]*?\b(1[0-9]{3}|20[0-9]{2})\b"
)
_MONTHS: Final = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)


def number_focus(question: str | None, answer: str, evidence: Evidence) -> float:
    """The product of the rules that apply to ``answer``'s figures; 1.0 when none does."""
    tokens = [_plain(t) for t in words(answer)]
    figures = [i for i, t in enumerate(tokens) if _is_figure(t)]
    if not figures:
        return 1.0
    factor = 1.0
    if not _attached(tokens, figures, evidence):
        factor *= DETACHED
    if question is not None and len(tokens) <= MAX_SHORT_WORDS:
        stated = {tokens[i] for i in figures}
        for wanted in (_unit_figures(question, evidence), _event_years(question, evidence)):
            if wanted and stated.isdisjoint(wanted):
                factor *= DETACHED
    return factor


def _attached(tokens: list[str], figures: list[int], evidence: Evidence) -> bool:
    """Whether every figure stands in some sentence with the words it claims to stand with.

    In a short answer every neighbouring word counts; in a longer one only a date's
    parts (a month, another figure), since its other words may paraphrase.
    """
    short = len(tokens) <= MAX_SHORT_WORDS
    for i in figures:
        before = tokens[i - 1] if i > 0 else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if not short:
            before = before if before is not None and _is_date_part(before) else None
            after = after if after is not None and _is_date_part(after) else None
        if before is None and after is None:
            continue
        if not any(_stands_with(s, tokens[i], before, after) for s in evidence.sentences):
            return False
    return True


def _stands_with(
    sentence: SourceSentence, figure: str, before: str | None, after: str | None
) -> bool:
    said = [_plain(t) for t in sentence.tokens]
    for j, token in enumerate(said):
        if token != figure:
            continue
        if before is not None and (j == 0 or not _same(said[j - 1], before)):
            continue
        if after is not None and (j + 1 >= len(said) or not _same(said[j + 1], after)):
            continue
        return True
    return False


def _unit_figures(question: str, evidence: Evidence) -> set[str]:
    """The figures the sources put right before the unit a "how many X" question asks of."""
    found = _HOW_MANY.search(question)
    if found is None:
        return set()
    unit = set(terms(question[found.end() :])[:2])
    if not unit:
        return set()
    return {
        _plain(s.tokens[i])
        for s in evidence.sentences
        for i in range(len(s.tokens))
        if _is_figure(_plain(s.tokens[i]))
        and any(not unit.isdisjoint(p) for p in s.positions[i + 1 : i + 1 + _UNIT_REACH])
    }


def _event_years(question: str, evidence: Evidence) -> set[str]:
    """Birth years when the question asks the year of a birth, death years when of a death.

    "The city where he was born" asks no year: its population is no birth year.
    """
    birth, death = _BIRTH.search(question) is not None, _DEATH.search(question) is not None
    if birth == death or _ASKS_YEAR.search(question) is None:
        return set()
    cue = {"born"} if birth else {"died", "death"}
    years: set[str] = set()
    for sentence in evidence.sentences:
        for span in _LIFE_SPAN.finditer(sentence.text):
            years.add(span.group(1) if birth else span.group(2))
        years.update(_after(sentence.tokens, cue))
    return years


def _after(tokens: Iterable[str], cue: set[str]) -> set[str]:
    """Years within a few words after a cue word ("born September 2, 1948")."""
    said = list(tokens)
    return {
        said[j]
        for i, token in enumerate(said)
        if token in cue
        for j in range(i + 1, min(i + 1 + _EVENT_REACH, len(said)))
        if YEAR.fullmatch(said[j])
    }


def _plain(token: str) -> str:
    """A word as compared here: a figure without its thousands commas ("1,600" is "1600")."""
    return token.replace(",", "") if token[:1].isdigit() else token


def _is_figure(token: str) -> bool:
    return token[:1].isdigit() and token.replace(".", "").isdigit()


def _is_date_part(token: str) -> bool:
    return token in _MONTHS or _is_figure(token)


def _same(said: str, claimed: str) -> bool:
    """The same word, or words with the same terms ("metres"/"metre"); stopwords must match."""
    if said == claimed:
        return True
    if claimed in STOPWORDS or said in STOPWORDS:
        return False
    return bool(terms(said)) and terms(said) == terms(claimed)
