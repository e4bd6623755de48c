"""Paragraphs of a plain-text file, with the line starts that carry meaning kept.

unstructured's ``partition_text`` groups lines into paragraphs in one of two
ways: when blank lines are common it joins every line of a blank-line block
into one paragraph, otherwise every line becomes a paragraph. A contract loses
either way: "2. Fees and Payment", "2.1 Customer shall..." and "2.2 Invoices..."
written on consecutive lines become one paragraph, or a hard-wrapped clause
("...bear interest at" / "1.5% per month.") becomes two. The chunkers then
cannot see where clauses start.

:func:`group_paragraphs` is handed to ``partition_text`` as its
``paragraph_grouper``. It picks the same mode unstructured would, then:

- blank-line mode: a line that starts with a clause or list marker ("2.1",
  "(a)", "Section 4", see ``line_markers``) starts a paragraph of its own, and
  a numbered heading line ("Section 3.2 Late Payment") ends one when the next
  line starts with a capital (a wrapped line would go on in lower case);
  unstructured's grouper then joins the wrapped lines inside each paragraph.
- line mode: a wrapped line is joined to the line before it (that line is long
  and does not end a sentence, this one starts in lower case or with a digit
  and is no marker); every other line stays a paragraph, as before.

A marker right after a word that introduces a reference ("...as set out in" /
"Section 4.2 Fees") is the wrap of a reference, not a clause start; "and" and
"or" are not such words, since "(a) ...; and" / "(b) ..." is how items run.
"""

from __future__ import annotations

import re
from typing import Final

from .line_markers import is_heading_line, read_line_marker

# unstructured's own switch between its two groupers (``auto_paragraph_grouper``).
_LINE_MODE_BLANK_RATIO: Final = 0.1
_LINE_MODE_SAMPLE_LINES: Final = 2000
# A wrapped line is near the wrap width; a short line ending a list entry is not.
_WRAPPED_MIN_WORDS: Final = 6
_CITING_NOUNS: Final = frozenset({"clause", "section", "article", "paragraph", "schedule"})
_CITING_WORDS: Final = frozenset(
    {"in", "under", "of", "to", "see", "per", "with", "by", "from", "pursuant", "than", "at"}
)
_SENTENCE_END = re.compile(r"[.!?:;][\"')\]\u201d\u2019]*$")
_CONTINUATION_START = re.compile(r"[a-z0-9]")
_BODY_START = re.compile(r"[A-Z\"'\u201c\u2018]")


def group_paragraphs(text: str) -> str:
    """Paragraphs separated by blank lines, each on one line, as ``partition_text`` wants."""
    from unstructured.cleaners.core import blank_line_grouper, new_line_grouper

    lines = text.split("\n")
    if _is_line_mode(text):
        return str(new_line_grouper("\n".join(_join_wrapped_lines(lines))))
    return str(blank_line_grouper("\n".join(_open_marker_paragraphs(lines))))


def starts_paragraph(previous: str, line: str) -> bool:
    """Whether ``line``, after ``previous`` in the same block, opens a clause or list item."""
    if read_line_marker(line) is None:
        return False
    words = previous.split()
    if not words:
        return True
    word = words[-1].lower()
    return word not in _CITING_WORDS and word.removesuffix("s") not in _CITING_NOUNS


def _is_line_mode(text: str) -> bool:
    from unstructured.nlp.patterns import LINE_BREAK_RE

    lines = LINE_BREAK_RE.split(text)[:_LINE_MODE_SAMPLE_LINES]
    blank = sum(1 for line in lines if not line.strip())
    return blank / max(len(lines), 1) < _LINE_MODE_BLANK_RATIO


def _open_marker_paragraphs(lines: list[str]) -> list[str]:
    """A blank line before every marker line and after every heading line inside a block."""
    out: list[str] = []
    for line in lines:
        if (
            out
            and out[-1].strip()
            and (starts_paragraph(out[-1], line) or _ends_heading(out[-1], line))
        ):
            out.append("")
        out.append(line)
    return out


def _ends_heading(previous: str, line: str) -> bool:
    """``previous`` is a numbered heading line and ``line`` starts its body, not its wrap."""
    marker = read_line_marker(previous)
    return (
        marker is not None
        and is_heading_line(previous, marker)
        and bool(_BODY_START.match(line.strip()))
    )


def _join_wrapped_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and continues_line(out[-1], line):
            out[-1] = f"{out[-1].rstrip()} {line.strip()}"
        else:
            out.append(line)
    return out


def continues_line(previous: str, line: str) -> bool:
    """Whether ``line`` carries on the sentence that ``previous`` was wrapped from.

    ``previous`` is long and ends no sentence, ``line`` starts in lower case or with
    a digit and opens no clause or list item (OCR of a page uses the same rule).
    """
    before, here = previous.strip(), line.strip()
    return (
        len(before.split()) >= _WRAPPED_MIN_WORDS
        and not _SENTENCE_END.search(before)
        and bool(_CONTINUATION_START.match(here))
        and not starts_paragraph(before, here)
    )
