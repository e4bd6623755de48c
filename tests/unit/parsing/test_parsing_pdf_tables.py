"""The rules of the borderless-table reader, on lines of positioned words.

The lines are built by hand (x positions in points, a 9-point font, 12 points a
line), so each rule is tried on exactly the layout it is about; the service
tests read the same kind of tables from real PDFs.
"""

from __future__ import annotations

from pathlib import Path

from ingest.parsing.pdf_tables import find_tables, with_borderless_tables
from ingest.parsing.pdf_words import Line, Word
from kernel.documents import Element

_SIZE = 9.0
_CHAR = 5.0  # width of a character


def _line(y: float, *cells: tuple[float, str]) -> Line:
    words: list[Word] = []
    for x, text in cells:
        at = x
        for part in text.split():
            words.append(Word(part, at, at + _CHAR * len(part)))
            at += _CHAR * (len(part) + 1)
    return Line(tuple(sorted(words, key=lambda w: w.x0)), y, _SIZE)


def _page(rows: list[list[tuple[float, str]]], top: float = 700.0) -> list[Line]:
    return [_line(top - 12 * i, *cells) for i, cells in enumerate(rows)]


def test_a_currency_sign_column_joins_the_amounts_beside_it() -> None:
    lines = _page(
        [
            [(50, "Name"), (200, "Date"), (300, "Amount")],
            [(50, "MENA"), (200, "09/10/2013"), (300, "$"), (330, "10.000,00")],
            [(50, "MOLLE"), (200, "10/10/2013"), (300, "$"), (335, "5.000,00")],
            [(50, "PISONI"), (200, "11/10/2013"), (300, "$"), (330, "20.000,00")],
        ]
    )
    [table] = find_tables(lines)
    assert table.rows == (
        ("Name", "Date", "Amount"),
        ("MENA", "09/10/2013", "$ 10.000,00"),
        ("MOLLE", "10/10/2013", "$ 5.000,00"),
        ("PISONI", "11/10/2013", "$ 20.000,00"),
    )
    assert table.header_rows == 1


def test_group_labels_spread_over_their_columns_and_wrapped_row_labels_join() -> None:
    lines = _page(
        [
            [(165, "North"), (305, "South")],
            [(50, "Item"), (130, "Retail"), (200, "Online"), (270, "Retail"), (340, "Online")],
            [(50, "Gears"), (130, "12.5"), (200, "3.1"), (270, "9.8"), (340, "0.7")],
            [(50, "Springs and")],
            [(56, "coils"), (130, "6.4"), (200, "1.2"), (270, "7.0"), (340, "–")],
            [(50, "Bolts"), (130, "40.2"), (200, "5.1"), (270, "38.8"), (340, "4.0")],
        ]
    )
    [table] = find_tables(lines)
    assert table.rows == (
        ("", "North", "North", "South", "South"),
        ("Item", "Retail", "Online", "Retail", "Online"),
        ("Gears", "12.5", "3.1", "9.8", "0.7"),
        ("Springs and coils", "6.4", "1.2", "7.0", "–"),
        ("Bolts", "40.2", "5.1", "38.8", "4.0"),
    )
    assert table.header_rows == 2


def test_a_comment_wrapped_around_its_row_and_repeated_text_stay_one_column() -> None:
    """A revision history: the same comment in many rows puts its word spaces at the
    same x (no gutters, those), and a two-line comment has the row's other cells set
    between its lines."""
    same = "Significantly changed the content."
    lines = [
        _line(700, (50, "Date"), (130, "Version"), (200, "Comments")),
        _line(684, (50, "4/4/2008"), (130, "0.1"), (200, same)),
        _line(668, (50, "6/27/2008"), (130, "1.0"), (200, same)),
        _line(656, (200, "No changes to the meaning or")),
        _line(650, (50, "9/14/2016"), (130, "19.0")),
        _line(644, (200, "the formatting.")),
        _line(628, (50, "8/6/2008"), (130, "1.01"), (200, same)),
        _line(612, (50, "9/3/2008"), (130, "1.02"), (200, same)),
    ]
    [table] = find_tables(lines)
    assert table.rows == (
        ("Date", "Version", "Comments"),
        ("4/4/2008", "0.1", same),
        ("6/27/2008", "1.0", same),
        ("9/14/2016", "19.0", "No changes to the meaning or the formatting."),
        ("8/6/2008", "1.01", same),
        ("9/3/2008", "1.02", same),
    )


def test_numbers_without_column_names_are_no_table() -> None:
    matrix = _page([[(100, "1"), (160, "0"), (220, "0")] for _ in range(4)])
    assert find_tables(matrix) == []


def test_a_sparse_grid_of_labels_is_no_table() -> None:
    diagram = _page(
        [
            [(50, "Class"), (200, "Attribute"), (350, "Type")],
            [(50, "+"), (200, "nid: UUID"), (350, "")],
            [(50, "-"), (200, ""), (350, "1..2")],
            [(50, ""), (200, "name: char"), (350, "")],
            [(50, "+"), (200, ""), (350, "0")],
        ]
    )
    assert find_tables(diagram) == []


def test_justified_prose_with_wide_word_gaps_is_no_table() -> None:
    """Justified lines stretch their gaps past a cell gap, but never at the same x."""
    text = "on 12 March the committee agreed that 3 of the 14 funds keep 25 percent in cash"
    words = text.split(" ")
    lines = []
    for n in range(10):
        order = words[n % len(words) :] + words[: n % len(words)]
        stretch = (500 - _CHAR * sum(len(w) for w in order)) / (len(order) - 1)
        at, placed = 50.0, []
        for word in order:
            placed.append(Word(word, at, at + _CHAR * len(word)))
            at += _CHAR * len(word) + stretch
        lines.append(Line(tuple(placed), 700 - 12 * n, _SIZE))
    assert stretch > _SIZE  # wide enough that every gap splits cells
    assert find_tables(lines) == []


def test_the_table_takes_the_place_of_the_lines_it_was_read_from(tmp_path: Path) -> None:
    """pypdf's text layer glues cells ("09/10/2013EFECTIVO"): a word the table does not
    hold must not stop the lines after it from being matched."""
    from reportlab.pdfgen import canvas

    rows = [(f"NAME{i}", f"0{i}/10/2013", "EFECTIVO", f"{i + 1}.000,00") for i in range(6)]
    path = tmp_path / "list.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.drawString(50, 780, "Donations in October.")
    for n, row in enumerate([("Name", "Date", "Type", "Amount"), *rows]):
        for x, cell in zip((50, 160, 270, 380), row, strict=True):
            pdf.drawString(x, 750 - 16 * n, cell)
    pdf.save()
    lines = [
        "Donations in October.",
        "Name Date Type Amount",
        *(f"{name} {date}{kind} {amount}" for name, date, kind, amount in rows),
    ]
    page = [Element(kind="text", text=line, page=1) for line in lines]
    [intro, table] = with_borderless_tables({1: page}, path.read_bytes())[1]
    assert intro.text == "Donations in October."
    assert table.kind == "table"
    assert table.rows == (("Name", "Date", "Type", "Amount"), *rows)


def test_a_balance_sheet_with_outdented_group_labels_and_wide_period_names_is_a_table() -> None:
    """A Japanese balance sheet: group labels ("資産の部", "流動資産") set left of the
    row labels under them, and period names centred over right-aligned amounts,
    reaching further into the gutters than a few font sizes."""
    lines = _page(
        [
            [(63, "時価を記載しております。")],
            [(335, "前連結会計年度"), (460, "当連結会計年度")],
            [(320, "(平成28年3月31日)"), (445, "(平成29年3月31日)")],
            [(63, "資産の部")],
            [(76, "流動資産")],
            [(88, "現金及び預金"), (370, "46,741"), (495, "26,137")],
            [(88, "有価証券"), (375, "2,201"), (510, "100")],
            [(88, "その他"), (375, "9,952"), (495, "12,003")],
            [(88, "資産合計"), (365, "336,495"), (490, "337,622")],
        ]
    )
    [table] = find_tables(lines)
    assert table.rows[0] == (
        "資産の部 流動資産",
        "前連結会計年度 (平成28年3月31日)",
        "当連結会計年度 (平成29年3月31日)",
    )
    assert table.rows[-1] == ("資産合計", "336,495", "337,622")
    assert table.header_rows == 1


def test_a_headnote_over_one_column_reaching_far_into_the_gutter_is_no_column_name() -> None:
    """One label over the last column alone, running far left of it: a headnote."""
    lines = _page(
        [
            [(200, "(in thousands of dollars, rounded)")],
            [(50, "Item"), (300, "Retail"), (380, "Online")],
            [(50, "Gears"), (300, "12.5"), (380, "3.1")],
            [(50, "Springs"), (300, "6.4"), (380, "1.2")],
            [(50, "Bolts"), (300, "40.2"), (380, "5.1")],
        ]
    )
    [table] = find_tables(lines)
    assert table.rows[0] == ("Item", "Retail", "Online")
