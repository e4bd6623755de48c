"""Ligature characters of a PDF text layer become letters, in text and in cells."""

from __future__ import annotations

from ingest.parsing.ligatures import spell_out_ligatures
from kernel.documents import Element


def test_latin_ligatures_are_spelled_out_in_text_and_cells() -> None:
    table = Element("table", "\ufb01nance | e\ufb00ect", rows=(("\ufb01nance", "e\ufb00ect"),))
    prose = Element("text", "The o\ufb03ce \ufb02oor, \ufb04e and \ufb06op.")
    spelled = spell_out_ligatures([prose, table])
    assert spelled[0].text == "The office floor, ffle and stop."
    assert spelled[1].text == "finance | effect"
    assert spelled[1].rows == (("finance", "effect"),)


def test_an_element_without_ligatures_is_returned_as_it_was() -> None:
    plain = Element("text", "Café ﬀ-free text? No: plain café text.")
    untouched = Element("text", "plain café text")
    assert spell_out_ligatures([untouched])[0] is untouched
    assert spell_out_ligatures([plain])[0].text == "Café ff-free text? No: plain café text."
