"""Japanese paragraphs cut into lines by a PDF reader, joined only where the lines are full.

The lines are 25 full-width characters (50 columns), the measure of the made-up
page; a line that ends a paragraph is shorter.
"""

from __future__ import annotations

from ingest.parsing.cjk_lines import columns, join_cjk_lines, text_measure
from kernel.documents import Element


def _wrapped(paragraph: str) -> tuple[str, ...]:
    return tuple(paragraph[i : i + 25] for i in range(0, len(paragraph), 25))


FULL_1, FULL_2, END_2 = _wrapped(
    "当連結会計年度における我が国経済は、高水準の企業収益や雇用情勢の改善等により、"
    "全体としては緩やかな回復基調が続きました。"
)
PARA_A = _wrapped(
    "売上高については、ＩＴ投資動向が強まりを見せる分野において顧客ニーズを的確に捉えました。"
)
PARA_B = _wrapped(
    "利益面については、増収効果や収益性向上に向けた取組みの成果のほか、不採算案件による影響額が減少しました。"
)
PARA_C = _wrapped(
    "電力・ガスシステム改革に伴うエネルギー系顧客の活発なＩＴ投資の継続や公共系大型案件の寄与、"
    "顧客の成長戦略に沿ったＩＴ投資拡大の動きを捉えた事業拡大とともに、不採算案件の抑制を含む"
    "収益性向上に向けた取組みの進展等により、前期比増収増益となりました。"
)


def _lines_of_other_paragraphs() -> list[Element]:
    """Full lines elsewhere on the page (five): the evidence the measure is taken from."""
    return [Element("text", " ".join(lines), page=1) for lines in (PARA_A, PARA_B, PARA_C)]


def test_the_measure_is_the_width_most_full_lines_share() -> None:
    assert [columns(line) for line in (FULL_1, FULL_2)] == [50, 50]
    assert END_2.endswith("。") and not FULL_1.endswith("。") and not FULL_2.endswith("。")
    assert columns("ＩＴ2.8％") == 2 + 2 + 3 + 2
    texts = [FULL_1, FULL_2, *PARA_A, *PARA_B, "(1) 業績", END_2]
    assert text_measure(texts) == 50
    assert text_measure([FULL_1, FULL_2, PARA_A[0], PARA_B[0]]) is None  # too few to trust


def test_a_full_line_that_ends_mid_sentence_goes_on_at_the_next_without_a_space() -> None:
    elements = [
        Element("title", "(1) 業績", page=1),
        Element("title", FULL_1, page=1),
        Element("title", FULL_2, page=1),
        Element("text", END_2, page=1),
        *_lines_of_other_paragraphs(),
    ]
    out = join_cjk_lines(elements)
    assert out[0] == Element("title", "(1) 業績", page=1)  # a short heading stays one
    assert out[1] == Element("text", FULL_1 + FULL_2 + END_2, page=1)  # and no title any more
    assert out[2].text == "".join(PARA_A)  # lines a reader joined with a space, too
    assert out[3].text == "".join(PARA_B)
    assert out[4].text == "".join(PARA_C)
    assert len(out) == 5


def test_short_lines_sentence_ends_and_new_items_end_the_paragraph() -> None:
    heading = "②金融ＩＴサービス"
    full_sentence = FULL_1[:24] + "。"
    elements = [
        Element("text", FULL_1[:20], page=1),  # short: the end of a paragraph, or a label
        Element("text", full_sentence, page=1),  # full, but ends with 。
        Element("text", FULL_1, page=1),  # full, mid-sentence, but a circled number follows
        Element("title", heading, page=1),
        Element("text", FULL_2 + END_2, page=1),
        Element("text", FULL_1, page=1),  # full, mid-sentence, but a bullet follows
        Element("list_item", "- " + FULL_2 + END_2, page=1),
        *_lines_of_other_paragraphs(),
    ]
    out = join_cjk_lines(elements)
    assert [e.text for e in out[:7]] == [e.text for e in elements[:7]]
    assert out[3].kind == "title"


def test_a_page_break_or_a_table_between_two_lines_keeps_them_apart() -> None:
    elements = [
        Element("text", FULL_1, page=1),
        Element("page_break", "", page=1),
        Element("text", FULL_2 + END_2, page=2),
        *_lines_of_other_paragraphs(),
    ]
    assert join_cjk_lines(elements)[:3] == elements[:3]


def test_titles_that_read_as_sentences_or_run_long_are_text_short_headings_stay() -> None:
    sentence = "平成21年６月 株式会社エス・イー・ラボの完全子会社化が完了。"
    long_title = (
        "株式会社インテック、株式会社アグレックス、クオリカ株式会社、ＡＪＳ株式会社、中央システム"
    )
    elements = [
        Element("title", "２【沿革】", page=1),
        Element("text", PARA_A[1], page=1),
        Element("title", sentence, page=1),
        Element("text", PARA_B[1], page=1),
        Element("title", long_title, page=1),
        *_lines_of_other_paragraphs(),
    ]
    kinds = [e.kind for e in join_cjk_lines(elements)[:5]]
    assert kinds == ["title", "text", "text", "text", "text"]


def test_a_run_of_short_cjk_titles_is_a_list_and_english_titles_beside_it_stay() -> None:
    """A table read as a column of labels: each label a title, each a chunk of its own."""
    labels = ["自己資本利益率", "株価収益率", "配当性向", "従業員数"]
    english = ["Key figures", "Net sales", "Operating income"]
    elements = [
        *_lines_of_other_paragraphs(),
        *(Element("title", label, page=2) for label in labels),
        Element("text", PARA_A[1], page=2),
        *(Element("title", title, page=3) for title in english),
        Element("text", "The figures are in millions of yen.", page=3),
    ]
    out = join_cjk_lines(elements)
    assert [e.kind for e in out[3:7]] == ["list_item"] * 4
    assert [e.kind for e in out[8:11]] == ["title"] * 3


def test_text_without_chinese_or_japanese_is_left_exactly_as_it_was() -> None:
    line = "The committee reviewed the annual figures and found that the"
    elements = [
        Element("title", "Annual report", page=1),
        *(Element("text", f"{line} {line}", page=1) for _ in range(6)),
        Element("title", "A heading that runs on without a full stop at all", page=1),
        Element("text", "short", page=1),
    ]
    assert join_cjk_lines(elements) == elements
