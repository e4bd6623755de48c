"""Named things in text: capitalised spans ("Edith Calloway", "Rotterdam", "The Saimaa Gesture").

Grounding checks that the names an answer states are the ones its evidence states,
and, for a short answer, that the name stands where the question points. A name
here is a run of capitalised words, possibly joined by the small words names hold
("Bank of England", "Hall of Fame", "van Houten"). A capitalised word that opens a
sentence is a name only when it is not a common function word ("The", "It", "In"),
so "The bridge was listed" gives no name while "Marlow Bridge was listed" gives one.
No model: capitalisation is what the sentences themselves say about names.
"""

from __future__ import annotations

import re
from typing import Final

from text.sentences import split_sentences

# A capitalised word (letters, digits, apostrophes, dots or hyphens inside) and runs of
# them, joined by a lower-case particle where names have one.
_NAME: Final = re.compile(
    r"[A-Z\u00c0-\u00de][\w'\u2019.&-]*"
    r"(?:\s+(?:(?:of|the|de|du|la|le|von|van|der|del|da|for|y)\s+)*[A-Z\u00c0-\u00de0-9][\w'\u2019.&-]*)*"
)
#: Capitalised words that open sentences and questions without naming anything.
FUNCTION_WORDS: Final = frozenset(
    """
    a an the he she it they we i you his her its their our my your this that these those
    there here in on at as after before during when while since from for with by of and but
    or if so is was are were who what which where why how also born following although
    despite some many most all both each every no not yes one two however then today
    according based are do does did can could has have had would should will may might must
    shall
    """.split()  # noqa: SIM905 - a word block reads better than 70 literals
)


def names(text: str) -> list[str]:
    """The capitalised spans of ``text`` in order, leading function words dropped.

    "The Oberoi Group is in Delhi." gives ``["Oberoi Group", "Delhi"]``.
    """
    found: list[str] = []
    matches = (m for sentence in split_sentences(text) for m in _NAME.finditer(sentence))
    for match in matches:
        words = match.group().rstrip(".'\u2019,").split()
        while words and (words[0].lower() in FUNCTION_WORDS or words[0][0].isdigit()):
            words = words[1:]
        while words and words[-1].lower() in {"of", "the", "and", "for"}:
            words = words[:-1]
        name = " ".join(words)
        if len(name) >= 2 and name not in found:
            found.append(name)
    return found
