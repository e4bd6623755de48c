"""Polarity: which words of a text a negation cue denies.

Grounding must tell "does not support 5 GHz" from "supports 5 GHz": the two share
every content word, so word overlap scores them alike. A cue ("not", "no", "never",
"n't", "without", "cannot", ...) negates the content word that follows it in its
clause; that head word is what a claim and its evidence must agree on. Only the head
is taken, not the rest of the clause: in "do not exceed four tablets" the denial is
of exceeding, and "four tablets" is still what the text says.

Rules, not a parser: it runs on every answer sentence, and a negation's head is
almost always its next content word.
"""

from __future__ import annotations

import re
from typing import Final

from text.terms import STOPWORDS, terms

#: Words that deny what follows them. "no" is one too, except as a leading answer word
#: ("No, it does not ..."), which callers strip first.
NEGATION_CUES: Final = frozenset(
    {"not", "no", "never", "without", "cannot", "neither", "nor", "none", "nobody", "nothing"}
)
# A word, or the "n't" of a contraction as a token of its own ("doesn't" -> "does", "n't").
_TOKEN: Final = re.compile(r"n['\u2019]t\b|[^\W_]+(?:[-.][^\W_]+)*|[,;:()\u2013\u2014]")
_CONTRACTION: Final = re.compile(r"(\w)n['\u2019]t\b")
_CLAUSE_BREAK: Final = frozenset({",", ";", ":", "(", ")", "\u2013", "\u2014"})
_AUXILIARY: Final = frozenset(
    {"be", "been", "being", "is", "are", "was", "were", "do", "does", "did", "have", "has", "had"}
    | {"can", "could", "may", "might", "must", "shall", "should", "will", "would", "also", "yet"}
    | {"a", "an", "the", "any", "only", "always", "ever", "to", "at", "all", "longer"}
)


def negated_terms(text: str) -> frozenset[str]:
    """The terms (as :func:`text.terms.terms` gives them) that a negation cue in ``text`` denies.

    "It does not support 5 GHz" gives ``{"support"}``; "It supports 5 GHz" gives none.
    """
    tokens = _tokens(text)
    denied: set[str] = set()
    for i, token in enumerate(tokens):
        if token not in NEGATION_CUES and not _is_contraction(token):
            continue
        for following in tokens[i + 1 :]:
            if following in _CLAUSE_BREAK or following in NEGATION_CUES:
                break
            if following in _AUXILIARY or following in STOPWORDS:
                continue
            denied.update(terms(following))
            break
    return frozenset(denied)


def has_negation(text: str) -> bool:
    """Whether ``text`` holds a negation cue at all."""
    return any(t in NEGATION_CUES or _is_contraction(t) for t in _tokens(text))


def _tokens(text: str) -> list[str]:
    """Lower-case words, clause breaks and "n't" split from its verb ("wasn't": "was", "n't")."""
    folded = _CONTRACTION.sub(r"\1 n't", text.casefold().replace("can't", "can n't"))
    return _TOKEN.findall(folded)


def _is_contraction(token: str) -> bool:
    return token in ("n't", "n\u2019t")
