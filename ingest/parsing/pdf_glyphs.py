"""Glyphs pdfminer could not map, given back where pypdf's text layer maps them.

pdfminer (unstructured's fast path) writes ``(cid:NN)`` for a glyph whose font has
no Unicode mapping it understands; pypdf reads some of those fonts' encodings. The
GNU Octave manual's big matrix brackets come out "(cid:20) ... (cid:21)" from
pdfminer and "[ ... ]" from pypdf. A page with a few such codes is not garbled
enough to read again whole (``text_quality.is_garbled``), and reading it again
would lose the elements' kinds, so only the codes are replaced.

The two readings are aligned word by word on the page. Where the only difference is
a run of codes on pdfminer's side against as many words on pypdf's, each code takes
its counterpart. The two readers may also place a glyph differently (pdfminer puts
the manual's "⊢" output markers after a block, pypdf at the start of each line), so
what is left unaligned is compared too: when the codes left over, in order of first
appearance, and the lone symbols left over on pypdf's side have the same number of
kinds and the same count of each, they pair up in order. A code learnt either way is
replaced everywhere on the page (a code means one glyph of one font). Codes pypdf
cannot map either stay, so the text quality gate still sees them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from difflib import SequenceMatcher
from typing import Final

from kernel.documents import Element

_CID: Final = re.compile(r"\(cid:(\d+)\)")
_WHOLE_CID: Final = re.compile(r"^(?:\(cid:\d+\))+$")
_MAX_GLYPH_CHARS: Final = 2


def has_unmapped_glyphs(elements: Sequence[Element]) -> bool:
    return any(_CID.search(element.text) for element in elements)


def map_glyphs(elements: Sequence[Element], page_text: str) -> list[Element]:
    """``elements`` with each ``(cid:NN)`` that ``page_text`` (pypdf's) maps replaced."""
    glyphs = _learn(" ".join(e.text for e in elements).split(), page_text.split())
    if not glyphs:
        return list(elements)
    return [
        replace(e, text=_CID.sub(lambda m: glyphs.get(m[1], m[0]), e.text))
        if _CID.search(e.text)
        else e
        for e in elements
    ]


def _learn(ours: list[str], theirs: list[str]) -> dict[str, str]:
    glyphs: dict[str, str] = {}
    left_codes: list[str] = []
    left_symbols: list[str] = []
    matcher = SequenceMatcher(None, ours, theirs, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and a2 - a1 == b2 - b1:
            for word, counterpart in zip(ours[a1:a2], theirs[b1:b2], strict=True):
                if _lone_code(word) and _is_glyph(counterpart):
                    glyphs.setdefault(_CID.findall(word)[0], counterpart)
            continue
        left_codes += [_CID.findall(w)[0] for w in ours[a1:a2] if _lone_code(w)]
        left_symbols += [w for w in theirs[b1:b2] if _is_glyph(w) and not w.isalnum()]
    codes = [c for c in left_codes if c not in glyphs]
    if _profile(codes) == _profile(left_symbols) and codes:
        glyphs.update(zip(dict.fromkeys(codes), dict.fromkeys(left_symbols), strict=True))
    return glyphs


def _lone_code(word: str) -> bool:
    return bool(_WHOLE_CID.match(word)) and len(_CID.findall(word)) == 1


def _is_glyph(word: str) -> bool:
    return len(word) <= _MAX_GLYPH_CHARS and not _CID.search(word)


def _profile(items: list[str]) -> list[int]:
    """How often each distinct item occurs, in order of first appearance."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return list(counts.values())
