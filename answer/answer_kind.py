"""Answer kind: is a short answer the kind of thing the question asks for?

A swapped name comes from the same document, so it is "in the sources" and may
stand near the question's words; what it often is not is the kind asked for: a
university answering "what state", an acronym answering "which country", a film
title answering "who". The question names the kind ("who", "where", "what city",
"which actor", "what nationality"); the name shows its own kind by its words
("Rutgers University", "Northwest Side") or by how the sources write it ("born in
X", "city of X", "X (born 1948)", a title in quotes).

Only a clear clash counts: a name with no sign of its kind fits any question, since
most names carry none. Deliberately lexical, like the rest of the grounding check.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from answer.alignment import Evidence

#: "someone" (a bare "who") is a person or a body of people (a band, a company).
Kind = Literal["person", "someone", "place", "nationality"]

MISFIT: Final = 0.5  # support kept by a short answer of a kind the question does not ask for
_PLACE_NOUNS: Final = (
    r"city|town|country|state|county|province|region|village|island|continent|nation"
    r"|capital|borough|district|neighbou?rhood|municipality|suburb|location|place"
)
_PERSON_NOUNS: Final = (
    r"person|man|woman|actor|actress|singer|songwriter|musician|rapper|director|producer"
    r"|writer|author|novelist|poet|playwright|screenwriter|player|footballer|coach|manager"
    r"|politician|president|king|queen|prince|princess|architect|artist|painter|composer"
    r"|comedian|host|presenter|journalist|scientist|founder|leader|drummer|guitarist"
    r"|vocalist|frontman|wife|husband|son|daughter|father|mother|brother|sister|athlete"
    r"|boxer|wrestler|cricketer|chef|designer|photographer|inventor|philosopher|emperor"
)
#: Up to three words between "what" and the kind, none of them a preposition or a verb:
#: "what poem by this writer" asks for a poem.
_MODIFIERS: Final = (
    r"(?:(?!(?:by|of|in|on|at|from|for|with|to|is|was|are|were|did|does|do|has|had|that)\b)"
    r"[a-z-]+\s+){0,3}?"
)
_ASKS_PLACE: Final = re.compile(
    rf"^\s*where\b|\b(?:what|which|name of the)\s+{_MODIFIERS}(?:{_PLACE_NOUNS})\b",
    re.IGNORECASE,
)
_ASKS_SOMEONE: Final = re.compile(r"^\s*(?:who|whom)\b", re.IGNORECASE)
_ASKS_PERSON: Final = re.compile(
    rf"\b(?:what|which|name of the)\s+{_MODIFIERS}(?:{_PERSON_NOUNS})\b", re.IGNORECASE
)
_ASKS_NATIONALITY: Final = re.compile(r"\bwhat\s+nationality\b", re.IGNORECASE)
#: Words a name of a work, an event or a building holds: no person, no place.
_THINGS: Final = frozenset(
    """
    championship championships cup award awards prize festival album film series show
    book novel song stadium arena hall theatre theater museum church cathedral hotel
    hospital station airport bridge tower building magazine newspaper
    """.split()  # noqa: SIM905 - a word block reads better than 40 literals
)
#: Words a name of an organisation holds: no person or place, though "who" may ask for one.
_BODIES: Final = frozenset(
    """
    university college school academy institute council group company corporation inc ltd
    records club party association society foundation airlines airline bank network
    channel studios studio entertainment press band orchestra league commission committee
    agency ministry department army navy corps team
    """.split()  # noqa: SIM905
)
#: Words a place name holds.
_PLACE_WORDS: Final = frozenset(
    """
    city county state province region island islands river lake mountain mountains mount
    valley bay beach coast street avenue road side district republic kingdom village town
    hills falls peninsula desert sea ocean park square borough
    """.split()  # noqa: SIM905
)
_TITLES: Final = frozenset(
    "mr mrs ms dr sir lady lord king queen prince princess saint st president general".split()  # noqa: SIM905
)
#: A nationality word by its ending ("Japanese", "Danish", "Canadian", "French").
DEMONYM_WORD: Final = r"[A-Z][a-z]+(?:ese|ish|ian|can|ean|ch)"
_DEMONYM: Final = re.compile(rf"^{DEMONYM_WORD}$")
_DEMONYMS: Final = frozenset(
    "German Greek Thai Swiss Dutch French Irish Welsh Argentine Israeli Pakistani Iraqi".split()  # noqa: SIM905
)
_PLACE_BEFORE: Final = re.compile(
    r"\b(?:born in|city of|town of|village of|state of|country of|province of|capital of"
    r"|located in|based in|native of|near|in|from)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_PERSON_AFTER: Final = re.compile(
    r"^\s*\((?:born\b|[^()]*\b(?:1[0-9]{3}|20[0-9]{2})\s*[\u2013\u2014-])"
)


def asked_kind(question: str) -> Kind | None:
    """The kind a question asks for, when it says: "who" a person, "where" a place.

    When a place noun and a person noun both follow "what", the later one is the
    head: "What American country music singer" asks for a singer.
    """
    if _ASKS_NATIONALITY.search(question):
        return "nationality"
    place, person = _ASKS_PLACE.search(question), _ASKS_PERSON.search(question)
    if place and person:
        return "place" if place.end() > person.end() else "person"
    if place:
        return "place"
    if person:
        return "person"
    if _ASKS_SOMEONE.search(question):
        return "someone"
    return None


def fits(kind: Kind, name: str, evidence: Evidence) -> bool:
    """Whether ``name`` may be of the ``kind`` asked: False only on a clear sign it is not."""
    words = name.split()
    folded = {w.strip("'\u2019.,").casefold() for w in words}
    acronym = len(words) == 1 and len(name) >= 2 and name.isupper() and name.isalpha()
    quoted = any(
        f'"{name}"' in s.text or f"\u201c{name}\u201d" in s.text for s in evidence.sentences
    )
    demonym = len(words) == 1 and (_DEMONYM.match(name) is not None or name in _DEMONYMS)
    placed = bool(folded & _PLACE_WORDS) or _written_as_place(name, evidence)
    thing = bool(folded & _THINGS) or quoted
    body = bool(folded & _BODIES) or acronym
    if kind == "nationality":
        return demonym or placed
    if kind == "place":
        # "What country ...?" is often answered with its people's name ("American").
        return placed or demonym or not (thing or body or _written_as_person(name, evidence))
    if folded & _TITLES:
        return True
    return not (thing or demonym or placed or (body and kind == "person"))


def kind_fit(question: str, answer: str, evidence: Evidence) -> float | None:
    """:data:`MISFIT` when ``answer`` clearly is not what the question asks for, else None."""
    kind = asked_kind(question)
    if kind is None or not answer.strip():
        return None
    return None if fits(kind, answer.strip().strip(".").strip(), evidence) else MISFIT


def _written_as_place(name: str, evidence: Evidence) -> bool:
    """ "born in X", "city of X", "X, Germany" style mentions in the sources."""
    for sentence in evidence.sentences:
        text = sentence.text
        start = text.find(name)
        while start >= 0:
            if _PLACE_BEFORE.search(text[max(0, start - 20) : start]):
                return True
            start = text.find(name, start + 1)
    return False


def _written_as_person(name: str, evidence: Evidence) -> bool:
    """ "X (born 1948)" or "X (1892 - 1975)": the sources give it a life."""
    for sentence in evidence.sentences:
        start = sentence.text.find(name)
        if start >= 0 and _PERSON_AFTER.match(sentence.text[start + len(name) :]):
            return True
    return False
