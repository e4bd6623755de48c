"""Words broken at a line end are joined only on evidence; everything else stays as read."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.parsing import line_hyphens
from ingest.parsing.line_hyphens import mend_line_breaks
from kernel.documents import Element

NO_WORDS: frozenset[str] = frozenset()


def texts(elements: list[Element]) -> list[str]:
    return [e.text for e in elements]


def test_a_break_is_joined_when_the_document_spells_the_word_whole_elsewhere() -> None:
    elements = [
        Element("text", "The siege was dan- gerous for the town."),
        Element("text", "Shelling made the streets dangerous at night."),
    ]
    assert texts(mend_line_breaks(elements, dictionary=NO_WORDS)) == [
        "The siege was dangerous for the town.",
        "Shelling made the streets dangerous at night.",
    ]


def test_a_compound_broken_at_its_own_hyphen_keeps_the_hyphen() -> None:
    elements = [
        Element("text", "Each edge carries boolean- geometry flags."),
        Element("title", "Boolean-geometry rules"),
    ]
    mended = mend_line_breaks(elements, dictionary=frozenset({"booleangeometry"}))
    assert texts(mended)[0] == "Each edge carries boolean-geometry flags."


def test_the_word_list_decides_when_the_document_gives_no_evidence() -> None:
    elements = [Element("text", "Many inhabi- tants left; the mor- tar fire went on.")]
    words = frozenset({"inhabitants"})
    assert texts(mend_line_breaks(elements, dictionary=words)) == [
        "Many inhabitants left; the mor- tar fire went on."
    ]


def test_suspended_hyphens_capitals_and_tables_are_left_alone() -> None:
    words = frozenset({"preand", "smithjones", "emailrate"})
    elements = [
        Element("text", "Both pre- and post-war figures; Smith- Jones signed."),
        Element("table", "e- mailrate", rows=(("e- mailrate",),)),
    ]
    assert texts(mend_line_breaks(elements, dictionary=words)) == [
        "Both pre- and post-war figures; Smith- Jones signed.",
        "e- mailrate",
    ]


def test_unicode_and_soft_hyphens_break_words_too() -> None:
    elements = [Element("text", "im\u2010 prove and re\u00ad mind")]
    words = frozenset({"improve", "remind"})
    assert texts(mend_line_breaks(elements, dictionary=words)) == ["improve and remind"]


def test_the_system_word_list_is_read_when_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = tmp_path / "words"
    listing.write_text("Dangerous\nvisitors\n", encoding="utf-8")
    monkeypatch.setattr(line_hyphens, "WORD_LIST", listing)
    line_hyphens.system_words.cache_clear()
    try:
        mended = mend_line_breaks([Element("text", "dan- gerous vis- itors mor- tar")])
        assert texts(mended) == ["dangerous visitors mor- tar"]
        monkeypatch.setattr(line_hyphens, "WORD_LIST", tmp_path / "missing")
        line_hyphens.system_words.cache_clear()
        assert line_hyphens.system_words() == frozenset()
    finally:
        line_hyphens.system_words.cache_clear()
