"""Pages that draw nothing, which OCR would be asked to read in vain.

A page with no text layer goes to OCR, and OCR costs a second or more a page.
Books typeset with TeX leave the back of every chapter's last sheet empty: the
1,158-page Octave manual has 24 such pages, each a content stream that only sets
colours and moves the origin. A page whose content paints nothing (no text, no
picture, no path filled or stroked, no shading) and carries no annotations
(whose appearances a renderer would draw) holds nothing for OCR to read.
"""

from __future__ import annotations

import logging
from typing import Any, Final

logger = logging.getLogger(__name__)

#: Operators that put marks on the page: text, pictures, paths and shadings.
_PAINTING: Final[frozenset[bytes]] = frozenset(
    {
        b"Tj", b"TJ", b"'", b'"',  # text
        b"Do", b"INLINE IMAGE", b"BI",  # pictures and forms
        b"sh",  # shadings
        b"f", b"F", b"f*", b"S", b"s", b"B", b"B*", b"b", b"b*",  # paths
    }
)  # fmt: skip


def draws_nothing(reader: Any, number: int) -> bool:
    """True when page ``number`` (from 1) of the pypdf ``reader`` certainly shows nothing.

    Any doubt (an unreadable page or content stream) is False: the page goes to OCR.
    """
    try:
        page = reader.pages[number - 1]
        if page.get("/Annots"):
            return False
        contents = page.get_contents()
        if contents is None:
            return True
        return not any(operator in _PAINTING for _, operator in contents.operations)
    except Exception:  # a content stream pypdf cannot read is left to OCR
        logger.debug("could not read a page's content stream", exc_info=True)
        return False
