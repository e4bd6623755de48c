"""Every chunk of a table repeats all the header rows its source declares (issue 19)."""

from __future__ import annotations

import pytest
from chunker_doubles import WhitespaceTokenCounterDouble

from chunkers.table_header import header_band
from chunkers.tables import TablesChunker
from kernel.documents import Element, ParsedDocument

pytestmark = pytest.mark.unit

# A grouping row, then column names that are neither years, units nor blank-cornered:
# the band rule alone stops after the first row.
HEAD = (
    ("Region", "Staff", "Staff", "Offices", "Offices"),
    ("Country", "Full time", "Part time", "Owned", "Leased"),
)
BODY = tuple((f"Country {i}", str(100 + i), str(10 + i), str(i % 4), str(i % 7)) for i in range(30))


def chunk_texts(element: Element) -> list[str]:
    doc = ParsedDocument("html", (element,))
    return [d.text for d in TablesChunker().chunk(doc, WhitespaceTokenCounterDouble(60))]


def test_the_band_rule_alone_keeps_one_row_of_this_head() -> None:
    assert header_band((*HEAD, *BODY), marked=1) == 1


def test_every_chunk_repeats_both_declared_rows() -> None:
    texts = chunk_texts(Element("table", "", rows=(*HEAD, *BODY), header_rows=2))
    assert len(texts) >= 3
    for text in texts:
        assert text.splitlines()[:2] == [
            "Region | Staff | Staff | Offices | Offices",
            "Country | Full time | Part time | Owned | Leased",
        ]
    data = [line for text in texts for line in text.splitlines()[2:]]
    assert data == [" | ".join(row) for row in BODY]


def test_without_a_declared_count_the_old_single_row_header_holds() -> None:
    element = Element("table", "", rows=(*HEAD, *BODY))
    assert element.declared_header_rows == 1
    texts = chunk_texts(element)
    assert all(text.splitlines()[0] == " | ".join(HEAD[0]) for text in texts)
    assert texts[1].splitlines()[1] != " | ".join(HEAD[1])  # the second row is data here
    assert Element("table", "", rows=BODY, has_header=False).declared_header_rows == 0


def test_the_band_may_go_on_below_the_declared_rows() -> None:
    rows = (*HEAD, ("", "$m", "$m", "", ""), *BODY)
    texts = chunk_texts(Element("table", "", rows=rows, header_rows=2))
    assert all(text.splitlines()[2] == " | $m | $m" for text in texts)
