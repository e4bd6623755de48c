"""Real unstructured in the real child process, real chunkers: a novel's chapters sit
under their BOOK, so a chunk's section path names both (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chunking import chunks

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser

pytestmark = pytest.mark.service

_OPENING = (
    '"Well, Prince, so Genoa and Lucca are now just family estates of the\n'
    "Buonapartes. But I warn you, if you don't tell me that this means war,\n"
    'I will have nothing more to do with you."\n'
)
_RECEPTION = (
    "It was in July, 1805, and the speaker was the well-known Anna Pavlovna\n"
    "Scherer, maid of honor and favorite of the Empress Marya Fedorovna.\n"
)
_FETE = (
    "\"And the fete at the English ambassador's? Today is Wednesday. I must\n"
    'put in an appearance there," said the prince.\n'
)
_MOSCOW = (
    "Prince Vasili kept the promise he had given to Princess Drubetskaya who\n"
    "had spoken to him on behalf of her only son Boris on the evening of Anna\n"
    "Pavlovna's soiree.\n"
)

NOVEL = f"""WAR AND PEACE

By Leo Tolstoy/Tolstoi

CONTENTS

BOOK ONE: 1805

CHAPTER I

CHAPTER II

BOOK TWO: 1805

CHAPTER I

BOOK ONE: 1805

CHAPTER I

{_OPENING}
{_RECEPTION}
CHAPTER II

{_FETE}
BOOK TWO: 1805

CHAPTER I

{_MOSCOW}"""


def test_chunks_of_a_novel_are_under_book_and_chapter(
    parser: IsolatedParser, tokens: TransformersTokenCounter, tmp_path: Path
) -> None:
    source = tmp_path / "war-and-peace.txt"
    source.write_text(NOVEL)
    document = parser.parse(source)
    drafts = chunks(document, tokens)

    def section_of(phrase: str) -> list[str | None]:
        return [c.section for c in drafts if phrase in " ".join(c.text.split())]

    assert section_of("so Genoa and Lucca") == ["BOOK ONE: 1805 > CHAPTER I"]
    assert section_of("It was in July, 1805") == ["BOOK ONE: 1805 > CHAPTER I"]
    assert section_of("the fete at the English") == ["BOOK ONE: 1805 > CHAPTER II"]
    assert section_of("Prince Vasili kept the promise") == ["BOOK TWO: 1805 > CHAPTER I"]
    contents = [e for e in document.elements if e.text.startswith(("BOOK", "CHAPTER"))][:5]
    assert {e.kind for e in contents} == {"list_item"}
