"""Words a PDF's text layer or a scan broke at a line end, made whole again.

Typeset text breaks a long word at a line end with a hyphen ("dan-" over
"gerous"). unstructured and the OCR layout join a paragraph's lines with a
space, which leaves "dan- gerous": two non-words in the chunk text, in its BM25
terms and in what the embedding model reads. The same shape is also a
legitimate suspended hyphen ("pre- and post-war"), and a compound broken at its
own hyphen ("boolean-" over "geometry") must keep it. So a break is mended only
on evidence, in this order:

1. the joined word appears elsewhere in the document ("dangerous");
2. the hyphenated compound appears elsewhere in the document ("boolean-geometry");
3. the system's word list knows the joined word (Debian's ``wamerican``,
   ``/usr/share/dict/words``; without it only the document's own words count).

Otherwise the text is left as it was. Only a lower-case second part is a
candidate: "Smith- Jones" and "e- Mail" headings are not line breaks of one word.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Final

from kernel.documents import Element

#: The word list consulted when the document itself gives no evidence.
WORD_LIST: Final = Path("/usr/share/dict/words")

#: A letter run, a line-end hyphen (ASCII, Unicode hyphen or soft hyphen), a
#: space, and another letter run.
_BREAK: Final = re.compile(r"\b([^\W\d_]+)[-\u2010\u00ad] ([^\W\d_]+)\b")
_WORD: Final = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
#: Kinds whose text is prose a line could have broken; tables keep their cells.
_PROSE: Final = frozenset({"title", "text", "list_item", "notes"})
#: Second parts that make a suspended hyphen ("pre- and post-war"), never a join.
_CONNECTIVES: Final = frozenset({"and", "or", "nor", "to", "but", "und", "oder", "et", "ou"})


def mend_line_breaks(
    elements: Sequence[Element], *, dictionary: frozenset[str] | None = None
) -> list[Element]:
    """``elements`` with words broken at line ends joined, where the evidence says how.

    ``dictionary`` (lower-case words) defaults to the system word list.
    """
    known = _document_words(e.text for e in elements if e.kind in _PROSE)

    def mend(found: re.Match[str]) -> str:
        head, tail = found.group(1), found.group(2)
        if not tail[0].islower() or tail in _CONNECTIVES:
            return found.group(0)
        joined = head + tail
        if joined.casefold() in known:
            return joined
        if f"{head}-{tail}".casefold() in known:
            return f"{head}-{tail}"
        if joined.casefold() in (system_words() if dictionary is None else dictionary):
            return joined
        return found.group(0)

    mended: list[Element] = []
    for element in elements:
        if element.kind in _PROSE and _BREAK.search(element.text):
            element = replace(element, text=_BREAK.sub(mend, element.text))
        mended.append(element)
    return mended


def _document_words(texts: Iterable[str]) -> frozenset[str]:
    """Every word and hyphenated compound of the texts, case-folded, breaks left out.

    The halves of a break ("dan", "gerous") are words here too; what matters is
    that "dangerous" is only in the set if the document spells it whole somewhere.
    """
    found: set[str] = set()
    for text in texts:
        unbroken = _BREAK.sub(" ", text)
        for word in _WORD.findall(unbroken):
            folded = word.casefold()
            found.add(folded)
            if "-" in folded:
                found.update(folded.split("-"))
    return frozenset(found)


@functools.cache
def system_words() -> frozenset[str]:
    """The system's word list, lower-cased; empty when none is installed.

    Read once per process (about 100,000 words, 10 ms), on the first document
    that has a break to mend.
    """
    try:
        text = WORD_LIST.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())
