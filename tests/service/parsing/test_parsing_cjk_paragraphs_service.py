"""A Japanese PDF's paragraphs are indexed whole, not as one title per typeset line.

The PDF is drawn with reportlab's built-in Japanese CID font (HeiseiMin-W3), 40
full-width characters a line and no spaces, the way a Japanese annual report is
set. Read as it comes, unstructured makes every line an element and most of them
titles, so each line became a chunk of its own with its text in a section path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.parsing.isolated import IsolatedParser

pytestmark = pytest.mark.service

HEADING = "③産業ＩＴサービス"
PARAGRAPHS = [
    "当連結会計年度における我が国経済は、高水準の企業収益や雇用情勢の改善等により、"
    "全体としては緩やかな回復基調が続きました。",
    "電力・ガスシステム改革に伴うエネルギー系顧客の活発なＩＴ投資の継続や公共系大型案件の寄与、"
    "顧客の成長戦略に沿ったＩＴ投資拡大の動きを捉えた事業拡大とともに、不採算案件の抑制を含む"
    "収益性向上に向けた取組みの進展等により、前期比増収増益となりました。",
    "利益面については、増収効果や収益性向上に向けた取組みの成果のほか、不採算案件による"
    "影響額が減少したこと等により、前期を上回りました。",
]
MEASURE = 40


def japanese_pdf(path: Path) -> Path:
    """A heading, then the paragraphs wrapped at a fixed measure, at body spacing."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
    pdf = canvas.Canvas(str(path), pagesize=(595, 842))
    pdf.setFont("HeiseiMin-W3", 10)
    y = 760.0
    pdf.drawString(60, y, HEADING)
    y -= 24
    for paragraph in PARAGRAPHS:
        for start in range(0, len(paragraph), MEASURE):
            pdf.drawString(60, y, paragraph[start : start + MEASURE])
            y -= 15
        y -= 9
    pdf.showPage()
    pdf.save()
    return path


def test_japanese_paragraphs_come_out_whole_and_the_heading_stays_one(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    parsed = parser.parse(japanese_pdf(tmp_path / "report.pdf"))
    body = [e for e in parsed.elements if e.kind not in ("page_break", "header")]
    assert [e.text for e in body] == [HEADING, *PARAGRAPHS]  # no line break, no space added
    assert [e.kind for e in body[1:]] == ["text"] * len(PARAGRAPHS)
