"""Japanese and Chinese paragraphs a PDF's text layer cut into lines, made whole again.

Chinese and Japanese put no spaces between words and none at a line break: a
line that is full and does not end a sentence goes on at the start of the next.
unstructured's ``fast`` reading of such a page hands over a paragraph in pieces:
some lines as elements of their own, the rest joined to their neighbours with a
space (a space no Japanese reader would write, in the middle of a word:
``顧客の成長 戦略``), and it takes most of the pieces for titles. A 117-page
Japanese annual report came out as 2,857 chunks of a median 17 characters, with
its sentences in section paths rather than in any chunk's text.

A line break is mended only where the page itself shows one:

1. the line before it is *full*: as wide as the document's measure, less two
   full-width characters (the line-breaking rules move a character or two to the
   next line). The measure is the width most lines of the document's text share
   (:func:`text_measure`), counted in columns: a full-width character two, a
   half-width digit or letter one. A short line is the end of a paragraph, a
   heading or a table cell, whatever it ends on;
2. it ends on a Chinese or Japanese character that does not end a sentence or a
   quote (``。！？」）`` and their kin end one; ``、`` and a kanji do not);
3. what follows is no new item: not a circled number, ``（１）``, ``１．``, a
   ``※`` note, a ``【`` section mark or a bullet (``・``, ``•``, ``- ``).

Then the two lines are one, with no space between them; two elements so joined
are one paragraph (``text``, or the list item the first one was). A title that
reads as a sentence (it ends with ``。``) or runs longer than any heading
(:data:`MAX_HEADING_CJK_CHARS` characters) is no heading either and becomes text,
and CJK titles in a run of short lines are a list (see :func:`_short_titles_listed`).

Text with no Chinese or Japanese characters is never touched: every rule needs
one at the line's end, and the measure is taken from CJK lines only. Korean
puts spaces between words and is left alone too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Final

from kernel.documents import Element, ElementKind
from text.sentences import CJK_SENTENCE_ENDS

from .short_line_lists import list_short_line_runs

#: Kinds whose text a line break may have cut; tables and code keep their layout.
_PROSE: Final = frozenset({"title", "text", "list_item"})
#: A title with more Chinese or Japanese characters than this is a paragraph.
MAX_HEADING_CJK_CHARS: Final = 40
#: A full line may fall short of the measure by this many columns (two full-width characters).
_FULL_SLACK: Final = 4
#: Lines narrower than this (in columns) say nothing about the measure.
_MIN_MEASURE: Final = 40
#: Lines that must share the measure (within the slack) before it is trusted.
_MIN_MEASURED_LINES: Final = 5

#: Han (with extensions and compatibility forms), kana, and the full-width forms block.
_CJK: Final = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff9f"
#: Ideographic punctuation (、。「」 and kin) and the Japanese prolonged-sound and iteration marks.
_CJK_PUNCTUATION: Final = "\u3001-\u303f"
_IS_CJK: Final = re.compile(f"[{_CJK}{_CJK_PUNCTUATION}]")
_HAS_CJK_LETTER: Final = re.compile(f"[{_CJK}]")
#: What ends a sentence or closes a quote or bracket: the paragraph may end here.
_ENDS: Final = frozenset("。．！？」』）】〕〉》］｝：\u3009\u300b")
_SENTENCE_END: Final = re.compile(rf"[{CJK_SENTENCE_ENDS}][」』）]*\s*$")
#: Starts of a new item: a circled number, (1), 1., a ※ note, a 【section】 mark, a bullet
#: (the line-breaking rules never start a line with ・, so there it is one).
_ITEM_START: Final = re.compile(
    r"[\u2460-\u2473\u3251-\u325f\u32b1-\u32bf※〔【•・]|-(?:\s|$)"
    r"|[(\uff08][0-9\uff10-\uff19]{1,3}[)\uff09]"
    r"|[0-9\uff10-\uff19]{1,3}[.\uff0e\u3001)\uff09【]"
)
_SPACE_RUN: Final = re.compile(r"\s+")


def join_cjk_lines(elements: Sequence[Element]) -> list[Element]:
    """``elements`` with CJK paragraphs cut at full lines joined; sentence-like titles made text.

    Nothing changes in a document without Chinese or Japanese lines wide enough to
    take a measure from.
    """
    measure = text_measure(e.text for e in elements if e.kind in _PROSE)
    if measure is None:
        return list(elements)
    out: list[Element] = []
    last_line = ""  # the last line of ``out[-1]`` as typeset: a join removes a break, no line
    for element in elements:
        if element.kind not in _PROSE:
            out.append(element)
            last_line = ""
            continue
        text, its_last = _joined_inside(element.text, measure)
        previous = out[-1] if out else None
        if previous is not None and previous.kind in _PROSE and goes_on(last_line, text, measure):
            joined: ElementKind = "list_item" if previous.kind == "list_item" else "text"
            out[-1] = replace(previous, kind=joined, level=None, text=previous.text + text)
            last_line = its_last
            continue
        out.append(replace(element, text=text))
        last_line = its_last
    return _short_titles_listed([_demoted(e) for e in out])


def text_measure(texts: Iterable[str]) -> int | None:
    """The width (in columns) most of the texts' full CJK lines share; None without evidence.

    Lines are the pieces between whitespace; only those holding a Chinese or
    Japanese character and at least :data:`_MIN_MEASURE` columns wide count. The
    measure is the commonest width, give or take a character (a line that
    holds a few half-width digits is a column wider or narrower than its neighbours).
    """
    widths: Counter[int] = Counter()
    for text in texts:
        for line in _SPACE_RUN.split(text):
            if _HAS_CJK_LETTER.search(line):
                width = columns(line)
                if width >= _MIN_MEASURE:
                    widths[width] += 1
    if not widths:
        return None
    near = _FULL_SLACK // 2
    support = {w: sum(widths[n] for n in range(w - near, w + near + 1)) for w in widths}
    best = max(support, key=lambda w: (support[w], w))
    return best if support[best] >= _MIN_MEASURED_LINES else None


def columns(text: str) -> int:
    """Display width: two columns for a wide, full-width or East Asian ambiguous character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def goes_on(line: str, following: str, measure: int) -> bool:
    """Whether a paragraph whose last line is ``line`` goes on at the text ``following``."""
    head = following.lstrip()
    return (
        bool(line)
        and bool(head)
        and _IS_CJK.match(line[-1]) is not None
        and line[-1] not in _ENDS
        and columns(line) >= measure - _FULL_SLACK
        and _ITEM_START.match(head) is None
    )


def _joined_inside(text: str, measure: int) -> tuple[str, str]:
    """The text with each break after a full CJK line that goes on taken out, and its
    last line (the piece after the last break or space)."""
    pieces = _SPACE_RUN.split(text.strip())
    gaps = _SPACE_RUN.findall(text.strip())
    joined = [pieces[0]]
    mended = False
    for line, gap, piece in zip(pieces, gaps, pieces[1:], strict=False):
        if "\n\n" in gap or not goes_on(line, piece, measure):
            joined.append(gap)
        else:
            mended = True
        joined.append(piece)
    return ("".join(joined) if mended else text), pieces[-1]


def _short_titles_listed(elements: list[Element]) -> list[Element]:
    """CJK titles inside runs of short lines made list items (:mod:`.short_line_lists`' rule).

    unstructured tells a title from narrative text by English cues (few words,
    no verb): a Japanese line has no spaces, so it is one "word" and every line
    that does not end in ``。`` is a title, down to each label of a table read as
    a column. The rule that a run of short lines is a list, not a stack of
    headings, is applied to CJK titles only, so a document's other headings stay
    as unstructured read them.
    """
    listed = list_short_line_runs(elements)
    return [
        new
        if old.kind == "title" and new.kind == "list_item" and _HAS_CJK_LETTER.search(old.text)
        else old
        for old, new in zip(elements, listed, strict=True)
    ]


def _demoted(element: Element) -> Element:
    """A CJK title that ends a sentence or runs on like a paragraph, as text."""
    if element.kind != "title" or not _HAS_CJK_LETTER.search(element.text):
        return element
    text = element.text.rstrip()
    cjk_chars = len(_HAS_CJK_LETTER.findall(text))
    if _SENTENCE_END.search(text) or cjk_chars > MAX_HEADING_CJK_CHARS:
        return replace(element, kind="text", level=None)
    return element
