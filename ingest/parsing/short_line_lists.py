"""Runs of short lines in plain text are lists, not headings (issue 19).

In a plain-text file with few blank lines, unstructured makes every line a
paragraph and calls a short line without a full stop a ``title``. A 4 KB list
of currencies ("Afghan afghani" / "Albanian lek" / ...) became 150 titles; each
closed the one before, and since chunks never cross a heading it became one
chunk per line, a median of a few characters, none of them findable.

A heading has to be followed by what it heads: body text, or at most one
subheading and then body text. A run of :data:`MIN_LIST_LINES` or more short
lines in a row is a list instead: its unnumbered titles become ``list_item``
elements, so the chunkers pack them into normal-size chunks under the heading
above the list. What counts as a short line:

- one line of at most :data:`MAX_SHORT_LINE_CHARS` characters,
- not numbered (``line_markers``: numbered lines are ``text_headings``' call),
- not ending a sentence or a lead-in (". ! ? ; :", or a Chinese or Japanese
  sentence end such as "。"), so the body text after a
  heading and a lead-in such as "Currencies accepted:" break the run; the
  lead-in then heads the list.

A title on its own or with one subheading (a run of one or two) is left as it was.
So is a title whose level the markup declared (an HTML ``<h2>``, an RTF heading
style that pandoc turns into ``<h1>``): that is a heading by the author's word,
not a guess from a line's words, and it ends a run rather than joining it.

The rule is one for every format that can hold such runs: plain text
(``text_headings``), HTML and RTF (``readers``), and the lines of one HTML
paragraph broken by ``<br>`` (``html_breaks.split_list_breaks`` asks
:func:`listed_lines` which lines to part).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from kernel.documents import Element
from text.sentences import CJK_SENTENCE_ENDS

from .line_markers import read_line_marker

MIN_LIST_LINES: Final = 3
MAX_SHORT_LINE_CHARS: Final = 80

_READ_KINDS: Final = frozenset({"text", "list_item", "title"})
_SKIPPED_KINDS: Final = frozenset({"page_break", "header"})
_ENDS_SENTENCE = re.compile(
    rf"[.!?;:\uff1b\uff1a{CJK_SENTENCE_ENDS}][\"')\]\u201d\u2019\u300d\u300f\uff09]*$"
)


def list_short_line_runs(elements: Sequence[Element]) -> list[Element]:
    """``elements`` with the unnumbered titles inside runs of short lines made list items."""
    out = list(elements)
    run: list[int] = []
    for index, element in enumerate(elements):
        if element.kind in _SKIPPED_KINDS:
            continue
        if is_short_line(element):
            run.append(index)
            continue
        _settle(out, run)
        run = []
    _settle(out, run)
    return out


def is_short_line(element: Element) -> bool:
    """A line that could be a list entry (see the module docstring)."""
    declared_heading = element.kind == "title" and element.level is not None
    return element.kind in _READ_KINDS and not declared_heading and is_short_text(element.text)


def is_short_text(text: str) -> bool:
    """One short unnumbered line that ends no sentence or lead-in."""
    text = text.strip()
    return (
        0 < len(text) <= MAX_SHORT_LINE_CHARS
        and "\n" not in text
        and not _ENDS_SENTENCE.search(text)
        and read_line_marker(text) is None
    )


def listed_lines(lines: Sequence[str]) -> list[bool]:
    """For each line, whether it sits in a run of :data:`MIN_LIST_LINES` or more short lines."""
    listed = [False] * len(lines)
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and is_short_text(lines[end]):
            end += 1
        if end - start >= MIN_LIST_LINES:
            listed[start:end] = [True] * (end - start)
        start = max(end, start + 1)
    return listed


def _settle(out: list[Element], run: list[int]) -> None:
    if len(run) < MIN_LIST_LINES:
        return
    for index in run:
        if out[index].kind == "title":
            out[index] = replace(out[index], kind="list_item", level=None)
