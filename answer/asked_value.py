"""Asked value: does a quoted unit state the kind of value its question asks for?

An unanswerable question about a document's topic finds a sentence on that topic
that shares its words: "How often must passwords be changed?" finds "Passwords must
be at least 14 characters long", close enough in meaning and in words to pass both
abstention thresholds. What the sentence lacks is what was asked: "how often" asks
for a frequency, and it states none. The same holds for "how many/much/long" or
"what temperature" (a quantity: a figure or a number word) and "what year" (a date).

Only the kind is checked, lexically, and only where the question's wording names a
narrow one; whether it is the right value is grounding's business
(:mod:`answer.number_focus`). Not checked: "when" (answered by an event or a rule as
well as by a date: "after the probation period", "every three years"), "who"
(answered by a role as well as by a name: "the front desk"), "from which day" (an
ordinal). A leading clause or list number ("3.2 Either party ...", "3 Hydrogen
becomes ...") is a position, not a quantity.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from text.clauses import read_clause_marker

ValueKind = Literal["frequency", "date", "quantity"]

_ASKS_FREQUENCY: Final = re.compile(r"\bhow\s+(?:often|frequently)\b", re.IGNORECASE)
_ASKS_DATE: Final = re.compile(r"\b(?:what|which)\s+(?:year|date|month)\b", re.IGNORECASE)
_ASKS_QUANTITY: Final = re.compile(
    r"\bhow\s+(?:many|much|long|old|far|tall|big|large|high|fast|heavy)\b"
    r"|\b(?:what|which)\s+(?:temperature|age|size|length|percentage|amount|price|height"
    r"|distance|speed|weight|rate)\b"
    r"|\b(?:cost|price|number)\s+of\b|\bwhat\s+does\b.*\bcost\b",
    re.IGNORECASE,
)
_NUMBER_WORDS: Final = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
    r"|forty|fifty|hundred|thousand|million|billion|dozen|half|once|twice"
)
_QUANTITY: Final = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_DATE: Final = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b|\b(?:january|february|march|april|may|june|july"
    r"|august|september|october|november|december|monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday|yesterday|today|tomorrow|century|decade)\b",
    re.IGNORECASE,
)
_FREQUENCY: Final = re.compile(
    r"\b(?:every|each|daily|weekly|monthly|quarterly|annually|yearly|hourly|once|twice"
    r"|times|per|always|never|regularly)\b|\ba\s+(?:day|week|month|year)\b",
    re.IGNORECASE,
)
#: A flattened list's item number before a capitalised word ("3 Hydrogen becomes ...").
_LIST_NUMBER: Final = re.compile(r"^\s*\d{1,2}\s+(?=[A-Z])")


def asked_value(question: str) -> ValueKind | None:
    """The kind of value ``question`` asks for, when its wording says; None otherwise."""
    if _ASKS_FREQUENCY.search(question):
        return "frequency"
    if _ASKS_DATE.search(question):
        return "date"
    if _ASKS_QUANTITY.search(question):
        return "quantity"
    return None


def states_value(kind: ValueKind, text: str) -> bool:
    """Whether ``text`` states a value of ``kind``: a frequency, a date or a figure."""
    body = _without_leading_number(text)
    if kind == "frequency":
        return _FREQUENCY.search(body) is not None
    if kind == "date":
        return _DATE.search(body) is not None
    return _QUANTITY.search(body) is not None


def answers_asked_value(question: str, text: str) -> bool:
    """False only when ``question`` names the kind of value it wants and ``text`` states none."""
    kind = asked_value(question)
    return kind is None or states_value(kind, text)


def _without_leading_number(text: str) -> str:
    marker = read_clause_marker(text)
    if marker is not None and marker.kind in ("number", "section", "article"):
        return text[marker.end :]
    return _LIST_NUMBER.sub("", text, count=1)
