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
- not ending a sentence or a lead-in (". ! ? ; :"), so the body text after a
  heading and a lead-in such as "Currencies accepted:" break the run; the
  lead-in then heads the list.

A title on its own or with one subheading (a run of one or two) is left as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from kernel.documents import Element

from .line_markers import read_line_marker

MIN_LIST_LINES: Final = 3
MAX_SHORT_LINE_CHARS: Final = 80

_READ_KINDS: Final = frozenset({"text", "list_item", "title"})
_SKIPPED_KINDS: Final = frozenset({"page_break", "header"})
_ENDS_SENTENCE = re.compile(r"[.!?;:][\"')\]\u201d\u2019]*$")


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
    text = element.text.strip()
    return (
        element.kind in _READ_KINDS
        and 0 < len(text) <= MAX_SHORT_LINE_CHARS
        and "\n" not in text
        and not _ENDS_SENTENCE.search(text)
        and read_line_marker(text) is None
    )


def _settle(out: list[Element], run: list[int]) -> None:
    if len(run) < MIN_LIST_LINES:
        return
    for index in run:
        if out[index].kind == "title":
            out[index] = replace(out[index], kind="list_item", level=None)
