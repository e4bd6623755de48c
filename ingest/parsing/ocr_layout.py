"""Tesseract's words put back together as paragraphs.

unstructured's ``ocr_only`` strategy regrouped tesseract's words by itself and
named every short line a title, so a screenshot came out as a string of one-line
"sections", one chunk each (a book cover's two-line title as two chunks). Here
tesseract's own layout (``image_to_data`` numbers every word's block, paragraph
and line) is read directly:

- a block is always a paragraph break: tesseract separates blocks by blank space
  or by a change of column (its text output puts a blank line there);
- inside a block, tesseract's paragraph break is kept unless the line carries on
  a wrapped sentence (the plain-text reader's rule, ``text_layout.continues_line``):
  on ragged-right text tesseract takes a short line for a paragraph's last one,
  and cut one paragraph of a screenshot into four;
- a line that opens a list item or a clause ("1.", "(b)", "2.1",
  ``text_layout.starts_paragraph``) opens a paragraph, since tesseract often runs
  a list together.

Lines are joined with a space, as the plain-text reader joins wrapped lines. A
word split by a hyphen at a line end stays "docu- ment" here: whether it is one
word, a compound ("right-" / "hand") or a suspended hyphen ("pre-" / "and
post-war") is for ``line_hyphens`` to decide, on the evidence of the whole
document and the word list, as it does for a PDF's text layer (issue 19). Joining
every such break here too fused compounds: on 24 OCR'd pages of the Octave manual
"righthand", "commandline", "octfile"; that rule is gone. A picture's OCR text
is mended by the parser (PDFs and images) or by ``slide_pictures`` (PPTX).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

from .text_layout import continues_line, starts_paragraph

#: The columns of tesseract's word table that place a word in the page's layout.
_LAYOUT_KEYS: Final[tuple[str, ...]] = ("page_num", "block_num", "par_num", "line_num")

#: ``image_to_data``'s word table, as a dict of columns (``Output.DICT``).
Words: TypeAlias = Mapping[str, Sequence[object]]


def ocr_paragraphs(words: Words) -> list[str]:
    """The paragraphs of one page, in tesseract's reading order.

    ``words`` is ``image_to_data``'s table as a dict of columns (``Output.DICT``):
    one row per page, block, paragraph, line and word; only word rows carry text.
    """
    paragraphs: list[list[str]] = []
    last: tuple[object, ...] | None = None
    for place, line in _lines(words):
        if last is None or _opens_paragraph(last, place, paragraphs[-1][-1], line):
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
        last = place
    return [_join_lines(lines) for lines in paragraphs]


def _opens_paragraph(
    last: tuple[object, ...], place: tuple[object, ...], previous: str, line: str
) -> bool:
    """Whether ``line`` (at ``place``: page, block, paragraph) starts a paragraph."""
    if place[:2] != last[:2]:
        return True
    if starts_paragraph(previous, line):
        return True
    return place != last and not continues_line(previous, line)


def _lines(words: Words) -> list[tuple[tuple[object, ...], str]]:
    """Each printed line's text, with the (page, block, paragraph) it belongs to."""
    texts = words.get("text", ())
    lines: list[tuple[tuple[object, ...], list[str]]] = []
    last_key: tuple[object, ...] | None = None
    for row, raw in enumerate(texts):
        word = str(raw).strip()
        if not word:
            continue
        key = tuple(words[name][row] for name in _LAYOUT_KEYS)
        if key != last_key:
            lines.append((key[:-1], []))
            last_key = key
        lines[-1][1].append(word)
    return [(place, " ".join(line)) for place, line in lines]


def _join_lines(lines: list[str]) -> str:
    return " ".join(lines)
