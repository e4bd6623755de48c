"""Whether text extracted from a PDF page is worth keeping or calls for OCR.

A PDF's text layer can be present and still useless: a page rotated in the
drawing commands comes out one letter per word ("R o t a e d p a g e"), a font
without a Unicode map comes out as ``(cid:42)`` codes or replacement characters.
Those pages read better through OCR.
"""

from __future__ import annotations

import re
from typing import Final

#: Words made of one letter; in English prose they are ~3% of words ("a", "I").
_MAX_SINGLE_LETTER_SHARE: Final[float] = 0.4
#: Below this many words a page is judged on characters only (a lone "A" is fine).
_MIN_WORDS: Final[int] = 8
_MAX_UNMAPPED_SHARE: Final[float] = 0.1

_CID = re.compile(r"\(cid:\d+\)")


def has_text(text: str) -> bool:
    """Whether there is any letter or digit at all."""
    return any(ch.isalnum() for ch in text)


def is_garbled(text: str) -> bool:
    """Whether extracted text looks like a broken text layer rather than prose."""
    words = text.split()
    if not words:
        return False
    unmapped = len(_CID.findall(text)) + text.count("\ufffd")
    if unmapped / len(words) > _MAX_UNMAPPED_SHARE:
        return True
    letters_only = [w for w in words if w.isalpha()]
    if len(letters_only) < _MIN_WORDS:
        return False
    single = sum(1 for w in letters_only if len(w) == 1)
    return single / len(letters_only) > _MAX_SINGLE_LETTER_SHARE
