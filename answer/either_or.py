"""Either-or answers: is the option chosen the one the sources bear out?

"Which documentary is about Finnish rock groups, A or B?" is answered by repeating
one of its own names, so word coverage and question focus cannot judge it. Each
option is scored instead by how much of the question's other terms the sentences
about it hold; a question of order ("born first", "released later") compares the
year first stated for each. A short answer that is neither option answers another
question.
"""

from __future__ import annotations

import re
from typing import Final

from answer.alignment import Evidence, SourceSentence
from answer.question_focus import FOCUS_FLOOR, MAX_SHORT_TERMS, YEAR, question_terms
from answer.yes_no import bears_out
from text.entities import names
from text.terms import terms

NEITHER_OPTION: Final = 0.3  # focus of a short answer to "A or B?" that names neither
_EARLIER: Final = re.compile(r"\b(first|earlier|earliest|older|oldest|before)\b", re.IGNORECASE)
_LATER: Final = re.compile(
    r"\b(later|latest|younger|youngest|last|second|newer|newest|more recent(?:ly)?)\b",
    re.IGNORECASE,
)
_GAP_FILLER: Final = re.compile(r"[\s,;:\"'()]+|\bthe\b")


def option_focus(question: str, answer: str, evidence: Evidence) -> float | None:
    """For "A or B?" questions answered with one option: its score over the better option's."""
    options = _options(question)
    if options is None:
        return None
    said = set(terms(answer))
    overlaps = [len(said & o) / len(o) for o in options]
    if max(overlaps) == 0:
        # A short answer to "A or B?" that is neither answers another question.
        return NEITHER_OPTION if len(said) <= MAX_SHORT_TERMS else None
    if overlaps[0] == overlaps[1]:
        return None
    chosen = 0 if overlaps[0] > overlaps[1] else 1
    earlier = _order(question, options, evidence)
    if earlier is not None:
        return 1.0 if earlier == chosen else FOCUS_FLOOR
    scores = [_option_score(question, o, options, evidence) for o in options]
    best = max(scores)
    return 1.0 if best <= 0 else scores[chosen] / best


def _options(question: str) -> tuple[set[str], set[str]] | None:
    """The two options of "..., A or B?" or "between A and B, which ...?", as terms.

    The question's last two names must be joined by "or" (or by "and" after
    "between" in a question that asks which or who): "the connection between A and
    B" offers no choice, and neither does an "or" elsewhere in the question.
    """
    spans = names(question)
    if len(spans) < 2:
        return None
    first, second = spans[-2], spans[-1]
    at_first = question.rfind(first, 0, question.rfind(second))
    if at_first < 0:
        return None
    between = question[at_first + len(first) : question.rfind(second)].lower()
    gap = _GAP_FILLER.sub(" ", between).split()
    offered = gap == ["or"] or (
        gap == ["and"]
        and re.search(r"\bbetween\b", question[:at_first], re.IGNORECASE) is not None
        and re.search(r"\b(?:which|who)\b", question, re.IGNORECASE) is not None
    )
    if not offered:
        return None
    options = set(terms(first)), set(terms(second))
    if not options[0] or not options[1] or options[0] & options[1]:
        return None
    return options


def _order(question: str, options: tuple[set[str], set[str]], evidence: Evidence) -> int | None:
    """Which option an order question ("born first", "released later") picks, by year.

    Each option's year is the first year of the first sentence about it: one that names
    it before the other option, if at all ("Sir Francis Nethersole (1587-1659) was
    secretary to the Electress Elizabeth" is about Nethersole). None when the question
    asks no order or a year is missing.
    """
    earlier, later = _EARLIER.search(question), _LATER.search(question)
    if not earlier and not later:
        return None
    years = []
    for option, other in (options, options[::-1]):
        own = [s for s in evidence.sentences if _names_first(s, option, other)]
        found = [int(y) for s in own[:1] for y in YEAR.findall(s.text)]
        if not found:
            return None
        years.append(found[0])
    if years[0] == years[1]:
        return None
    first = 0 if years[0] < years[1] else 1
    return first if earlier else 1 - first


def _names_first(sentence: SourceSentence, option: set[str], other: set[str]) -> bool:
    here, there = sentence.where(option), sentence.where(other)
    return bool(here) and (not there or here[0] < there[0])


def _option_score(
    question: str, option: set[str], options: tuple[set[str], set[str]], evidence: Evidence
) -> float:
    about = [s for s in evidence.sentences if not s.terms.isdisjoint(option)]
    if not about:
        return 0.0
    rest = question_terms(question) - options[0] - options[1]
    return FOCUS_FLOOR + (1 - FOCUS_FLOOR) * bears_out(rest, about, evidence) if rest else 0.5
