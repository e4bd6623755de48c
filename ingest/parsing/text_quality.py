"""Whether extracted text is worth keeping: a PDF page's (else OCR), and a whole document's.

A PDF's text layer can be present and still useless: a page rotated in the
drawing commands comes out one letter per word ("R o t a e d p a g e"), a font
without a Unicode map comes out as ``(cid:42)`` codes or replacement characters.
Those pages read better through OCR. Any format can go wrong the same way (an
email saved as UTF-16 read byte by byte is half NUL characters), so every
parsed document passes :func:`unreadable_reason` before it can be indexed.
"""

from __future__ import annotations

import re
from typing import Final

#: Words made of one letter; in English prose they are ~3% of words ("a", "I").
_MAX_SINGLE_LETTER_SHARE: Final[float] = 0.4
#: Below this many words a page is judged on characters only (a lone "A" is fine).
_MIN_WORDS: Final[int] = 8
_MAX_UNMAPPED_SHARE: Final[float] = 0.1
#: A whole document is refused as letter-spaced only on stronger evidence than a page
#: is sent to OCR: real short documents come close to the page's 0.4 (a DOCX of
#: headers and footers, 16 words: 0.375), letter-spaced text is near 1.0.
_DOC_MAX_SINGLE_LETTER_SHARE: Final[float] = 0.6
_DOC_MIN_WORDS: Final[int] = 20

#: Control characters (NUL included; tab and line breaks are layout) in a share of
#: the text above which it is bytes read as the wrong encoding, not text.
_MAX_CONTROL_SHARE: Final[float] = 0.01
_LAYOUT_CONTROLS: Final[frozenset[str]] = frozenset("\t\n\r\f\v")

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
    return _letter_spaced(text, share=_MAX_SINGLE_LETTER_SHARE, min_words=_MIN_WORDS)


def unreadable_reason(text: str, *, prose: str | None = None) -> str | None:
    """Why a document's extracted text cannot be indexed, or ``None`` when it can.

    ``text`` is all of it; ``prose`` the part that should read as sentences (not
    tables or code, where single letters such as "Y | N" are normal), judged for
    letter-spacing; it defaults to ``text``. The shares are over the whole
    document, so a few odd lines never fail it.
    """
    if text:
        # C1 controls (U+0080-U+009F) are left out: double-encoded UTF-8 leaves a few.
        controls = sum(1 for ch in text if _is_control(ch))
        if controls / len(text) > _MAX_CONTROL_SHARE:
            return "its text is full of NUL or control characters (wrongly decoded bytes)"
    words = text.split()
    if words:
        unmapped = len(_CID.findall(text)) + text.count("\ufffd")
        if unmapped / len(words) > _MAX_UNMAPPED_SHARE:
            return "its text is mostly unmapped glyph codes such as (cid:42)"
    spaced = text if prose is None else prose
    if _letter_spaced(spaced, share=_DOC_MAX_SINGLE_LETTER_SHARE, min_words=_DOC_MIN_WORDS):
        return "its text is letter-spaced, one letter per word"
    return None


def _is_control(ch: str) -> bool:
    return (ch < " " or ch == "\x7f") and ch not in _LAYOUT_CONTROLS


def _letter_spaced(text: str, *, share: float, min_words: int) -> bool:
    """Over ``share`` of the alphabetic words are one letter, among at least ``min_words``."""
    letters_only = [w for w in text.split() if w.isalpha()]
    if len(letters_only) < min_words:
        return False
    single = sum(1 for w in letters_only if len(w) == 1)
    return single / len(letters_only) > share
