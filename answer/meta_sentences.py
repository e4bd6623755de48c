"""Meta-sentences: the framing of an answer ("Here is a summary of the document:").

A generated summary often opens with a sentence about itself. It claims nothing
about the sources, so it can be neither supported nor unsupported, and counting it
as an unsupported claim flagged good summaries. A framing *prefix* ("According to
the document, the fee is 40 EUR") is cut off and the rest checked as usual.
"""

from __future__ import annotations

import re
from typing import Final

from text.terms import terms

_WHAT: Final = (
    r"(?:summary|overview|answer|list|breakdown|rundown|recap|outline|digest|synopsis"
    r"|(?:key |main )?(?:points|highlights|findings|takeaways|facts|details))"
)
_SOURCE: Final = (
    r"(?:context|documents?|sources?|text|information|passages?|excerpts?|materials?"
    r"|search results|results|chunks?|notes?|records?)"
)
_FRAMING: Final = re.compile(
    r"^\s*(?:"
    rf"(?:here(?:'s|\u2019s| is| are)|below is|the following is)\s+(?:an?\s+|the\s+)?"
    rf"(?:\w+\s+){{0,2}}?{_WHAT}\b[^.:!?]*(?::|[.!]?\s*$)"
    r"|(?:in summary|to summari[sz]e|in short|in brief|in conclusion|overall|to sum up)\s*[,:]"
    rf"|(?:based on|according to|from|per)\s+(?:the\s+)?(?:\w+\s+)?{_SOURCE}"
    r"(?:\s+(?:provided|given|available|above|below|cited))?\s*[,:]"
    rf"|(?:the\s+)?(?:\w+\s+)?{_SOURCE}\s+(?:says?|states?|mentions?|indicates?|shows?|explains?)"
    r"(?:\s+that)?\b[,:]?"
    r")",
    re.IGNORECASE,
)


def strip_framing(sentence: str) -> str:
    """``sentence`` without a framing prefix; "" when the sentence is only framing."""
    found = _FRAMING.match(sentence)
    if found is None:
        return sentence
    rest = sentence[found.end() :].strip()
    return rest if terms(rest) else ""
