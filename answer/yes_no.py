"""Yes/no answers: does "Yes" or "No" agree with what the sources say of the question?

A bare "Yes." quotes nothing, so word coverage cannot judge it. The question read
as a statement can be: for each thing it names, its other terms are looked up in
the sentences about that thing; a term missing there, or denied there ("is not
..."), makes "no" the likelier answer. "Are both A and B X?" is as true as the less
supported of the two. "Do A and B share the same X?" compares what the first
sentence about each states (its other names and years): a common one makes "yes"
likelier, only different ones "no".

Weak evidence by nature, so callers keep a bare yes/no answer's support in a middle
band rather than at 0 or 1.
"""

from __future__ import annotations

import re
from typing import Final

from answer.alignment import Evidence, SourceSentence
from answer.answer_kind import DEMONYM_WORD
from answer.question_focus import YEAR, question_terms
from text.entities import names
from text.polarity import negated_terms
from text.terms import terms

#: Likelihood of "yes" to "Do A and B share the same X?" when their sentences state a
#: common name or year, and when they state only different ones.
SAME_AGREES: Final = 0.7
SAME_DIFFERS: Final = 0.2
DENIED: Final = 0.2  # share kept when the sources deny a term the question asserts
_YES_NO: Final = re.compile(r"^\s*(yes|no)\b[\s,.;:!-]*", re.IGNORECASE)
# "Are both X and Kings of Leon American bands?": a nationality after a name is what
# the question asks of it, not part of the name.
_DEMONYM_TAIL: Final = re.compile(rf"\s+{DEMONYM_WORD}$")
_SAME: Final = re.compile(r"\bsame\b", re.IGNORECASE)


def answer_word(sentence: str) -> tuple[str | None, str]:
    """A leading "yes" or "no" and the rest: "No, it does not." gives ("no", "it does not.")."""
    found = _YES_NO.match(sentence)
    if found is None:
        return None, sentence
    return found.group(1).lower(), sentence[found.end() :]


def yes_likelihood(question: str, evidence: Evidence) -> float:
    """How well the sources bear out the question read as a statement, 0..1.

    The lowest over the things the question names: "Are both A and B American bands?"
    is as true as the less supported of the two.
    """
    wanted = question_terms(question)
    subjects = [set(terms(_DEMONYM_TAIL.sub("", n))) for n in names(question)]
    subjects = [s for s in subjects if s]
    predicate = wanted - {t for s in subjects for t in s}
    if not predicate:
        return 0.5
    if _SAME.search(question) and len(subjects) >= 2:
        stated = [_stated_values(subject, evidence) for subject in subjects[-2:]]
        if stated[0] and stated[1]:
            return SAME_AGREES if stated[0] & stated[1] else SAME_DIFFERS
    asked_denied = negated_terms(question)
    if not subjects:
        return bears_out(predicate, evidence.align(wanted), evidence, asked_denied)
    shares = []
    for subject in subjects:
        about = [s for s in evidence.sentences if not s.terms.isdisjoint(subject)]
        shares.append(bears_out(predicate, about, evidence, asked_denied))
    return min(shares)


def _stated_values(subject: set[str], evidence: Evidence) -> set[str]:
    """What the first sentence about ``subject`` states of it: other names and years.

    "Jimmy Barnes is a Scottish-born Australian singer" gives {"scottish-born",
    "scottish", "born", "australian"}: what a "same nationality" question compares.
    """
    for sentence in evidence.sentences:
        if sentence.where(subject):
            found = {t for n in names(sentence.text) for t in terms(n)} - subject
            return found | set(YEAR.findall(sentence.text))
    return set()


def bears_out(
    predicate: set[str],
    about: list[SourceSentence],
    evidence: Evidence,
    asked_denied: frozenset[str] = frozenset(),
) -> float:
    """The weighted share of ``predicate`` the ``about`` sentences state and do not deny."""
    if not about:
        return 0.0
    held = {t for s in about for t in s.terms}
    denied = {t for s in about for t in s.denied} - asked_denied
    share = evidence.weighted_share(predicate & evidence.vocabulary, held - denied)
    return share * DENIED if predicate & denied else share
