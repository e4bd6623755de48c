"""A table that opens with a header band (title, blank corner, years, units) has a header."""

from __future__ import annotations

import pytest

from ingest.parsing.tables import html_table_rows, looks_like_header

pytestmark = pytest.mark.unit


def test_a_filing_table_without_th_opens_with_a_header() -> None:
    html = (
        "<table><tr><td colspan='3'>Segment analysis</td></tr>"
        "<tr><td>&nbsp;</td><td>2023</td><td>2022</td></tr>"
        "<tr><td></td><td>$m</td><td>$m</td></tr>"
        "<tr><td>Retail</td><td>1,204</td><td>(1,117)</td></tr></table>"
    )
    rows, has_header = html_table_rows(html)
    assert rows[:3] == (
        ("Segment analysis",) * 3,
        ("", "2023", "2022"),
        ("", "$m", "$m"),
    )
    assert has_header is True


def test_a_table_of_figures_still_has_no_header() -> None:
    assert not looks_like_header((("Retail", "1,204", "(1,117)"), ("Corporate", "88", "912")))
