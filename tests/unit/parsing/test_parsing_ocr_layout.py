"""Tesseract's word table put back into paragraphs: blocks, wrapped lines, lists, hyphens.

The tables are laid out as ``image_to_data(..., output_type=Output.DICT)`` returns
them: one row per page, block, paragraph and line (empty text) and one per word.
"""

from __future__ import annotations

import pytest

from ingest.parsing.line_hyphens import mend_line_breaks
from ingest.parsing.ocr_layout import ocr_paragraphs
from kernel.documents import Element

pytestmark = pytest.mark.unit

_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "text")


def table(lines: list[tuple[int, int, str]]) -> dict[str, list[object]]:
    """A word table for lines given as (block, paragraph, text), numbered as tesseract does."""
    columns: dict[str, list[object]] = {name: [] for name in _COLUMNS}

    def row(level: int, block: int, par: int, line: int, word: int, text: str) -> None:
        for name, value in zip(_COLUMNS, (level, 1, block, par, line, word, text), strict=True):
            columns[name].append(value)

    row(1, 0, 0, 0, 0, "")
    seen: set[tuple[int, ...]] = set()
    line_numbers: dict[tuple[int, int], int] = {}
    for block, par, text in lines:
        if (block,) not in seen:
            seen.add((block,))
            row(2, block, 0, 0, 0, "")
        if (block, par) not in seen:
            seen.add((block, par))
            row(3, block, par, 0, 0, "")
        number = line_numbers[(block, par)] = line_numbers.get((block, par), 0) + 1
        row(4, block, par, number, 0, "")
        for index, word in enumerate(text.split(), start=1):
            row(5, block, par, number, index, word)
    return columns


def test_the_lines_of_a_paragraph_become_one_paragraph() -> None:
    words = table(
        [
            (1, 1, "The committee met on the third of March to review"),
            (1, 1, "the budget for the coming year."),
        ]
    )
    assert ocr_paragraphs(words) == [
        "The committee met on the third of March to review the budget for the coming year."
    ]


def test_each_block_is_a_paragraph_of_its_own() -> None:
    words = table([(1, 1, "Binary"), (2, 1, "Chronicles"), (3, 1, "Document Title:")])
    assert ocr_paragraphs(words) == ["Binary", "Chronicles", "Document Title:"]


def test_a_paragraph_break_inside_a_wrapped_sentence_is_not_one() -> None:
    # Ragged-right text: tesseract takes the short line for a paragraph's last.
    words = table(
        [
            (1, 1, "Ragline reads every document a team uploads and answers"),
            (1, 1, "questions about them with citations. Uploads are checked for"),
            (1, 2, "type and size, parsed in a separate process."),
            (1, 3, "Indexes are rebuilt every night."),
        ]
    )
    assert ocr_paragraphs(words) == [
        "Ragline reads every document a team uploads and answers questions about them"
        " with citations. Uploads are checked for type and size, parsed in a separate process.",
        "Indexes are rebuilt every night.",
    ]


def test_list_items_run_together_by_tesseract_are_kept_apart() -> None:
    words = table(
        [
            (1, 1, "1. Submit the form to the registry office."),
            (1, 1, "2. Attach a copy of your identity card."),
            (1, 1, "3. Pay the fee of forty euros at the"),
            (1, 1, "counter."),
        ]
    )
    assert ocr_paragraphs(words) == [
        "1. Submit the form to the registry office.",
        "2. Attach a copy of your identity card.",
        "3. Pay the fee of forty euros at the counter.",
    ]


def test_a_word_cut_by_a_hyphen_at_a_line_end_is_left_for_line_hyphens() -> None:
    words = table([(1, 1, "Payments are made by bank trans-"), (1, 1, "fer or by card. Self-")])
    assert ocr_paragraphs(words) == ["Payments are made by bank trans- fer or by card. Self-"]


def test_line_hyphens_then_joins_words_and_keeps_compounds_whole() -> None:
    # From the OCR of the Octave manual: TeX broke "right-hand" at its own hyphen.
    words = table(
        [
            (1, 1, "The command on the right-"),
            (1, 1, "hand side is read first, and the trans-"),
            (1, 1, "fer of the right-hand value follows."),
        ]
    )
    elements = [Element("text", text) for text in ocr_paragraphs(words)]
    mended = mend_line_breaks(elements, dictionary=frozenset({"transfer"}))
    assert [e.text for e in mended] == [
        "The command on the right-hand side is read first, and the transfer of the"
        " right-hand value follows."
    ]


def test_a_hyphen_before_a_capital_or_a_number_stays() -> None:
    words = table([(1, 1, "Invoice 2024-"), (1, 1, "0042 for Anglo-"), (1, 1, "French trade")])
    assert ocr_paragraphs(words) == ["Invoice 2024- 0042 for Anglo- French trade"]


def test_a_page_without_words_has_no_paragraphs() -> None:
    assert ocr_paragraphs(table([])) == []
    assert ocr_paragraphs({}) == []
