"""HTML, RTF, EPUB, ODT and mail lists of short lines pack into normal chunks (issue 19).

The plain-text rule (``short_line_lists``: a run of three or more short lines
is a list) now holds for HTML and RTF too. A list typed as one paragraph with
line breaks (``<br>`` in HTML, ``\\line`` in RTF) was read as one run-on
paragraph, "Afghan afghani Albanian lek ...", and cut by word windows, so an
entry could be split across two chunks; each entry is now its own line and
chunks break between entries. Each file is written for real, read by the real
parser child process and chunked with the embedding model's own tokenizer.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from chunking import chunks
from currency_names import CURRENCY_NAMES

from chunkers.token_counting import TransformersTokenCounter
from ingest.parsing import IsolatedParser
from kernel.documents import ChunkDraft

pytestmark = pytest.mark.service

MAX_CHUNKS = 6
RTF_HEAD = "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\\f0\\fs22\n"


def html_page(lines: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Currencies</title></head>"
        f"<body>{lines}</body></html>"
    )


def entries(draft: ChunkDraft) -> list[str]:
    return [line.strip() for line in draft.text.splitlines() if line.strip()]


def assert_packed_whole_and_in_order(drafts: list[ChunkDraft]) -> None:
    sizes = [len(d.text) for d in drafts]
    assert len(drafts) <= MAX_CHUNKS, sizes
    assert statistics.median(sizes) > 200, sizes
    # Every line is a whole entry (none cut across two chunks), every entry is there,
    # and the chunks follow the reading order (``generic`` windows may overlap a little).
    lines = [entry for d in drafts for entry in entries(d)]
    assert set(lines) == set(CURRENCY_NAMES)
    assert len(lines) <= len(CURRENCY_NAMES) * 1.2
    firsts = [CURRENCY_NAMES.index(entries(d)[0]) for d in drafts]
    assert firsts == sorted(firsts)


@pytest.mark.parametrize(
    "layout",
    [
        "".join(f"<p>{name}</p>\n" for name in CURRENCY_NAMES),
        "<p>" + "<br>\n".join(CURRENCY_NAMES) + "</p>",
        "<div>" + "<br/>".join(CURRENCY_NAMES) + "</div>",
        "".join(f"<div>{name}</div>" for name in CURRENCY_NAMES),
    ],
    ids=["paragraphs", "p-br", "div-br", "divs"],
)
def test_an_html_list_of_currencies_packs_into_a_few_chunks(
    layout: str, parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    path = tmp_path / "currencies.html"
    path.write_text(html_page(layout), encoding="utf-8")
    assert path.stat().st_size >= 2_500
    assert_packed_whole_and_in_order(chunks(parser.parse(path), tokens))


@pytest.mark.parametrize("separator", ["\\par\n", "\\line\n"], ids=["par", "line"])
def test_an_rtf_list_of_currencies_packs_into_a_few_chunks(
    separator: str, parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    path = tmp_path / "currencies.rtf"
    body = "".join(f"{name}{separator}" for name in CURRENCY_NAMES)
    path.write_text(f"{RTF_HEAD}{body}\\par\n}}", encoding="cp1252")
    assert_packed_whole_and_in_order(chunks(parser.parse(path), tokens))


@pytest.mark.parametrize("target", ["epub", "odt"])
@pytest.mark.parametrize("separator", ["  \n", "\n\n"], ids=["line-breaks", "paragraphs"])
def test_an_epub_or_odt_list_of_currencies_packs_into_a_few_chunks(
    target: str,
    separator: str,
    parser: IsolatedParser,
    tmp_path: Path,
    tokens: TransformersTokenCounter,
) -> None:
    # pandoc writes the book the way e-book tools do; "  \n" is a hard line break (<br>).
    import pypandoc

    path = tmp_path / f"currencies.{target}"
    source = "# Currencies\n\n" + separator.join(CURRENCY_NAMES) + "\n"
    # An e-book needs a title; an ODT would show it as a line of the text.
    title = ["--metadata=title:Money"] if target == "epub" else []
    pypandoc.convert_text(source, target, format="md", outputfile=str(path), extra_args=title)
    assert_packed_whole_and_in_order(chunks(parser.parse(path), tokens))


@pytest.mark.parametrize("subtype", ["html", "plain"])
def test_a_mailed_list_of_currencies_packs_into_a_few_chunks(
    subtype: str, parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "treasury@example.com"
    message["To"] = "desk@example.com"
    message["Subject"] = "Currencies we settle in"
    if subtype == "html":
        message.set_content(html_page("<p>" + "<br>\n".join(CURRENCY_NAMES) + "</p>"), "html")
    else:
        message.set_content("\n".join(CURRENCY_NAMES) + "\n")
    path = tmp_path / "currencies.eml"
    path.write_bytes(message.as_bytes())
    assert_packed_whole_and_in_order(chunks(parser.parse(path), tokens))


def test_a_mailed_html_table_keeps_its_header_band_in_every_chunk(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    from email.message import EmailMessage

    head = (
        "<thead><tr><th rowspan=2>Desk</th><th colspan=2>Settled</th></tr>"
        "<tr><th>2023</th><th>2022</th></tr></thead>"
    )
    body = "".join(
        f"<tr><td>{name}</td><td>{i}</td><td>{i + 1}</td></tr>"
        for i, name in enumerate(CURRENCY_NAMES)
    )
    message = EmailMessage()
    message["From"] = "treasury@example.com"
    message["Subject"] = "Settlements by desk"
    message.set_content(html_page(f"<table>{head}<tbody>{body}</tbody></table>"), "html")
    path = tmp_path / "settlements.eml"
    path.write_bytes(message.as_bytes())
    tables = [
        d
        for d in chunks(parser.parse(path), tokens)
        if "Afghan" in d.text or "Zambian" in d.text or "| 2023 | 2022" in d.text
    ]
    assert len(tables) >= 2
    assert all(
        "Desk | Settled | Settled" in d.text and "Desk | 2023 | 2022" in d.text for d in tables
    )


SECTIONS = (
    (
        "Payment terms",
        "Invoices are payable within thirty days of the invoice date, by bank transfer to the "
        "account named on the invoice.",
    ),
    (
        "Late payment",
        "Interest accrues on overdue amounts at four per cent above the base rate, from the due "
        "date until payment is received.",
    ),
    (
        "Refunds",
        "Refunds are paid to the card or account that made the original payment, within ten "
        "working days of an agreed claim.",
    ),
)


def test_an_html_page_with_h2_sections_keeps_them(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    body = "".join(f"<h2>{title}</h2><p>{text}</p>" for title, text in SECTIONS)
    path = tmp_path / "terms.html"
    path.write_text(html_page(f"<h1>Customer terms</h1>{body}"), encoding="utf-8")
    document = parser.parse(path)
    assert [(e.text, e.level) for e in document.elements if e.kind == "title"] == [
        ("Customer terms", 1),
        *((title, 2) for title, _ in SECTIONS),
    ]
    drafts = chunks(document, tokens)
    assert [(d.section, d.text) for d in drafts] == [
        (f"Customer terms > {title}", text) for title, text in SECTIONS
    ]


def test_short_h3_headings_in_a_row_stay_headings(
    parser: IsolatedParser, tmp_path: Path, tokens: TransformersTokenCounter
) -> None:
    # Three declared headings in a row are short lines, yet markup says they head.
    body = "<h2>Offices</h2><h3>Europe</h3><h3>London</h3><p>One Canada Square, E14 5AB.</p>"
    path = tmp_path / "offices.html"
    path.write_text(html_page(body), encoding="utf-8")
    titles = [(e.text, e.level) for e in parser.parse(path).elements if e.kind == "title"]
    assert titles == [("Offices", 2), ("Europe", 3), ("London", 3)]
