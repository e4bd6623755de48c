"""Real unstructured, in the real child process, on generated documents of every family."""

from __future__ import annotations

import random
from pathlib import Path

import parsing_documents as make
import pytest

from ingest.parsing import IsolatedParser
from kernel.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    ParseLimitError,
    UnsupportedFormatError,
)

pytestmark = pytest.mark.service


def kinds(document) -> list[str]:  # type: ignore[no-untyped-def]
    return [element.kind for element in document.elements]


def test_markdown_keeps_headings_and_a_fenced_block_whole(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = tmp_path / "guide.md"
    source.write_text(
        "# Setup guide\n\nInstall the tool first.\n\n## Configure\n\n"
        "```python\n# a comment, not a heading\nimport os\n\n\nprint(os.getcwd())\n```\n\n"
        "- first item\n- second item\n"
    )
    document = parser.parse(source)
    assert document.format == "md"
    assert document.title == "Setup guide"
    assert [(e.kind, e.level, e.text) for e in document.elements if e.kind == "title"] == [
        ("title", 1, "Setup guide"),
        ("title", 2, "Configure"),
    ]
    (code,) = [e for e in document.elements if e.kind == "code"]
    assert code.text == "# a comment, not a heading\nimport os\n\n\nprint(os.getcwd())"
    assert code.metadata["language"] == "python"
    assert kinds(document) == ["title", "text", "title", "code", "list_item", "list_item"]


def test_cp1252_html_decodes_accents(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "menu.html"
    source.write_bytes(
        "<html><head><title>Carte du café</title></head><body><h1>Menu</h1>"
        "<p>L'été était très chaud. Un café coûte 3,50 €.</p>"
        "<table><tr><th>Plat</th><th>Prix</th></tr><tr><td>Crêpe</td><td>4 €</td></tr></table>"
        "</body></html>".encode("cp1252")
    )
    document = parser.parse(source)
    assert document.format == "html"
    assert document.title == "Carte du café"
    assert "L'été était très chaud. Un café coûte 3,50 €." in document.text
    (table,) = [e for e in document.elements if e.kind == "table"]
    assert table.rows == (("Plat", "Prix"), ("Crêpe", "4 €"))
    assert table.has_header is True


def test_utf16_text(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes("Überblick über die Größen.\n\nZweiter Absatz mit Text.\n".encode("utf-16"))
    document = parser.parse(source)
    assert document.format == "txt"
    assert document.text == "Überblick über die Größen.\n\nZweiter Absatz mit Text."


def test_pdf_pages_come_through(parser: IsolatedParser, tmp_path: Path) -> None:
    source = make.text_pdf(
        tmp_path / "report.pdf",
        [
            ["Annual report", "The first page talks about revenue growth in the north."],
            ["Outlook", "The second page covers risks for the coming year."],
        ],
        title="Annual Report 2024",
    )
    document = parser.parse(source)
    assert document.format == "pdf"
    assert document.title == "Annual Report 2024"
    pages = {e.text: e.page for e in document.elements if e.kind != "page_break"}
    assert pages["The first page talks about revenue growth in the north."] == 1
    assert pages["The second page covers risks for the coming year."] == 2
    breaks = [e for e in document.elements if e.kind == "page_break"]
    assert [b.page for b in breaks] == [1]
    assert all(e.metadata.get("source") != "ocr" for e in document.elements)


def test_scanned_pdf_is_read_by_ocr(parser: IsolatedParser, tmp_path: Path) -> None:
    source = make.scanned_pdf(
        tmp_path / "scan.pdf", ["Scanned invoice number 4711", "Total amount due 1250 euros"]
    )
    document = parser.parse(source)
    assert "invoice number 4711" in document.text
    assert "amount due 1250" in document.text
    assert {e.page for e in document.elements} == {1}
    assert all(e.metadata.get("source") == "ocr" for e in document.elements)


def test_rotated_page_is_read_by_ocr_not_as_scattered_letters(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = make.rotated_pdf(
        tmp_path / "rotated.pdf", ["Rotated page fixture", "Second line of text here"]
    )
    document = parser.parse(source)
    assert "Rotated page fixture" in document.text
    assert "Second line of text here" in document.text
    assert "R o t" not in document.text


def test_text_running_up_the_page_is_read_by_ocr_turned_upright(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = make.vertical_text_pdf(
        tmp_path / "vertical.pdf", ["Rotated page fixture text", "Second line of rotated words"]
    )
    document = parser.parse(source)
    assert document.text == "Rotated page fixture text\n\nSecond line of rotated words"


def test_a_blank_pdf_is_empty_even_after_ocr(parser: IsolatedParser, tmp_path: Path) -> None:
    with pytest.raises(EmptyDocumentError) as caught:
        parser.parse(make.blank_pdf(tmp_path / "blank.pdf"))
    assert caught.value.message == "PDF has no text layer and OCR found no text"


def test_password_protected_pdf(parser: IsolatedParser, tmp_path: Path) -> None:
    with pytest.raises(EncryptedDocumentError, match="PDF is password-protected"):
        parser.parse(make.encrypted_pdf(tmp_path / "secret.pdf"))


def test_truncated_pdf_is_corrupt(parser: IsolatedParser, tmp_path: Path) -> None:
    whole = make.text_pdf(tmp_path / "whole.pdf", [["Title", "Some text on the page."]] * 3)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CorruptDocumentError, match="PDF file is damaged"):
        parser.parse(cut)


def test_docx_heading_table_and_title(parser: IsolatedParser, tmp_path: Path) -> None:
    document = parser.parse(make.docx_with_heading_and_table(tmp_path / "policy.docx"))
    assert document.format == "docx"
    assert document.title == "Travel Policy"
    titles = [(e.text, e.level) for e in document.elements if e.kind == "title"]
    assert titles == [("Travel policy", 1), ("Allowances", 2)]
    (table,) = [e for e in document.elements if e.kind == "table"]
    assert table.rows == (("City", "Daily allowance"), ("Paris", "120"), ("Oslo", "150"))
    assert table.has_header is True
    assert "economy class" in document.text


def test_xlsx_one_table_per_sheet_with_every_row(parser: IsolatedParser, tmp_path: Path) -> None:
    document = parser.parse(make.xlsx_with_two_sheets(tmp_path / "orders.xlsx", rows=2500))
    assert document.format == "xlsx"
    assert kinds(document) == ["title", "table", "title", "table"]
    orders_title, orders, regions_title, regions = document.elements
    assert (orders_title.text, orders_title.level) == ("Orders", 1)
    assert orders.rows is not None and len(orders.rows) == 2501
    assert orders.rows[0] == ("Order", "Customer", "Amount")
    assert orders.rows[-1] == ("2500", "customer 2500", "25000")
    assert orders.has_header is True
    assert regions_title.text == "Regions"
    assert regions.rows == (("Region", "Manager"), ("North", "Ann"))
    assert document.title is None


def test_password_protected_xlsx(parser: IsolatedParser, tmp_path: Path) -> None:
    with pytest.raises(EncryptedDocumentError, match="XLSX file is password protected"):
        parser.parse(make.encrypted_xlsx(tmp_path / "locked.xlsx"))


def test_semicolon_csv(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "prices.csv"
    source.write_text("Produkt;Preis;Menge\nÄpfel;1,99;739\nBananen;1,89;6\n", encoding="cp1252")
    document = parser.parse(source)
    (table,) = document.elements
    assert table.kind == "table"
    assert table.rows == (
        ("Produkt", "Preis", "Menge"),
        ("Äpfel", "1,99", "739"),
        ("Bananen", "1,89", "6"),
    )


def test_pptx_slides_and_notes(parser: IsolatedParser, tmp_path: Path) -> None:
    document = parser.parse(make.pptx_with_notes(tmp_path / "deck.pptx"))
    assert document.format == "pptx"
    content = [e for e in document.elements if e.kind != "page_break"]
    # unstructured decides whether a short body line is a title or text; the slide's
    # own title, the order, the slide numbers and where the notes go are ours.
    assert [(e.page, e.text) for e in content] == [
        (1, "Quarterly review"),
        (1, "Revenue up 12 percent"),
        (1, "Mention the new contracts."),
        (2, "Next steps"),
        (2, "Hire two engineers"),
        (2, "Budget is approved."),
    ]
    assert [e.kind for e in content if e.kind in {"notes"}] == ["notes", "notes"]
    assert content[0].kind == "title" and content[0].level == 1
    assert content[2].kind == "notes" and content[5].kind == "notes"
    assert [e.page for e in document.elements if e.kind == "page_break"] == [1]


def test_eml_with_attachment(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "mail.eml"
    source.write_bytes(make.eml_with_attachment())
    document = parser.parse(source)
    assert document.format == "eml"
    assert document.title == "Signed contract"
    assert document.metadata == {
        "from": "Ann Lee <ann@example.com>",
        "to": "bob@example.com",
        "subject": "Signed contract",
        "date": "2025-06-02T09:30:00+02:00",
    }
    assert document.elements[0].kind == "email_header"
    assert "The signed contract is attached." in document.text
    (attachment,) = document.attachments
    assert attachment.filename == "contract.txt"
    assert attachment.content == b"Contract between ACME and Example Corp.\n"
    assert attachment.content_type == "text/plain"


def test_json_and_xml_read_as_text(parser: IsolatedParser, tmp_path: Path) -> None:
    data = tmp_path / "config.json"
    data.write_text('{"service": {"name": "ragline", "port": 8080}}')
    assert parser.parse(data).text == "service.name: ragline\nservice.port: 8080"
    xml = tmp_path / "feed.xml"
    xml.write_text("<feed><entry lang='en'><title>Hello</title></entry></feed>")
    assert parser.parse(xml).text == "entry@lang: en\nentry.title: Hello"


def test_zip_bomb_is_refused(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "bomb.docx"
    source.write_bytes(make.zip_bomb_docx())
    with pytest.raises(ParseLimitError, match=r"DOCX file expands .*possible zip bomb"):
        parser.parse(source)


def test_executable_named_txt_is_refused(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(make.ELF_HEADER + bytes(range(256)) * 20)
    with pytest.raises(
        UnsupportedFormatError, match=r"format 'application/x-[\w-]+' is not supported"
    ):
        parser.parse(source)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("random.pdf", "'random.pdf' is named as PDF but its content is not a PDF"),
        ("random.docx", "'random.docx' is named as DOCX but its content is not a DOCX"),
        ("random.xlsx", "'random.xlsx' is named as XLSX but its content is not an XLSX"),
    ],
)
def test_random_bytes_under_a_format_name_say_what_happened(
    parser: IsolatedParser, tmp_path: Path, name: str, expected: str
) -> None:
    source = tmp_path / name
    source.write_bytes(random.Random(42).randbytes(4096))
    with pytest.raises(UnsupportedFormatError) as caught:
        parser.parse(source)
    assert caught.value.message == f"{expected} (unrecognised binary data)"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "file is empty"), (b" \n\t \r\n", "TXT file is empty (only whitespace)")],
    ids=["empty", "whitespace"],
)
def test_empty_files(parser: IsolatedParser, tmp_path: Path, content: bytes, message: str) -> None:
    source = tmp_path / "blank.txt"
    source.write_bytes(content)
    with pytest.raises(EmptyDocumentError) as caught:
        parser.parse(source)
    assert caught.value.message == message


def test_file_over_the_size_limit(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "huge.txt"
    source.write_bytes(b"word " * (parser.max_bytes // 5 + 1))
    with pytest.raises(ParseLimitError, match=r"over the parsing limit of 20\.0 MB"):
        parser.parse(source)
