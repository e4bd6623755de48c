"""Format detection: bytes first, then the name and declared type, then content sniffing."""

from __future__ import annotations

import io
import zipfile

import pytest

from ingest.parsing.detect import detect, sniff_text_format
from kernel.errors import CorruptDocumentError, EncryptedDocumentError, UnsupportedFormatError

pytestmark = pytest.mark.unit

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 8


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


OOXML_TYPES = b"<Types/>"


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"[Content_Types].xml": OOXML_TYPES, "word/document.xml": b"<w/>"}, "docx"),
        ({"[Content_Types].xml": OOXML_TYPES, "ppt/presentation.xml": b"<p/>"}, "pptx"),
        ({"[Content_Types].xml": OOXML_TYPES, "xl/workbook.xml": b"<x/>"}, "xlsx"),
        ({"mimetype": b"application/epub+zip", "META-INF/container.xml": b"<c/>"}, "epub"),
        ({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<o/>"}, "odt"),
    ],
)
def test_zip_containers_are_told_apart_by_their_members_whatever_the_name(
    members: dict[str, bytes], expected: str
) -> None:
    data = zip_bytes(members)
    assert detect(data, filename="upload.bin", content_type=None).format == expected
    assert detect(data, filename=None, content_type="application/octet-stream").format == expected


def test_pdf_bytes_win_over_a_wrong_name() -> None:
    data = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
    assert detect(data, filename="report.docx", content_type="text/plain").format == "pdf"


def test_markdown_is_decided_by_name_although_it_looks_like_html() -> None:
    data = b"## HTML Example\n\n```html\n<!DOCTYPE html>\n<html><body></body></html>\n```\n"
    detected = detect(data, filename="codeblock.md", content_type=None)
    assert detected.format == "md"
    assert detected.text is not None and detected.text.text.startswith("## HTML Example")


def test_declared_content_type_decides_when_the_name_says_nothing() -> None:
    data = b"a;b;c\n1;2;3\n"
    assert detect(data, filename="blob", content_type="text/csv; charset=utf-8").format == "csv"


def test_rtf_is_recognised_from_its_signature() -> None:
    assert detect(b"{\\rtf1\\ansi hello}", filename=None, content_type=None).format == "rtf"


def test_an_executable_named_txt_is_refused_with_its_real_type() -> None:
    with pytest.raises(UnsupportedFormatError) as caught:
        detect(ELF, filename="notes.txt", content_type="text/plain")
    message = caught.value.message
    assert "application/x-" in message and "not supported" in message
    assert "notes.txt" in message and "binary" in message


def test_a_plain_zip_named_txt_is_read_as_a_zip_archive() -> None:
    data = zip_bytes({"a.txt": b"hello"})
    assert detect(data, filename="notes.txt", content_type=None).format == "zip"


def test_a_zip_named_docx_without_word_parts_is_corrupt() -> None:
    data = zip_bytes({"a.txt": b"hello"})
    with pytest.raises(CorruptDocumentError, match="DOCX file is damaged"):
        detect(data, filename="letter.docx", content_type=None)


def test_a_truncated_zip_is_corrupt_and_names_the_claimed_format() -> None:
    data = zip_bytes({"[Content_Types].xml": OOXML_TYPES, "word/document.xml": b"<w/>" * 500})
    with pytest.raises(CorruptDocumentError, match="DOCX file is damaged"):
        detect(data[: len(data) // 2], filename="letter.docx", content_type=None)


def test_a_password_protected_ooxml_file_is_refused_naming_its_format() -> None:
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from docx import Document

    plain = io.BytesIO()
    document = Document()
    document.add_paragraph("secret")
    document.save(plain)
    plain.seek(0)
    encrypted = io.BytesIO()
    msoffcrypto.OfficeFile(plain).encrypt("pw", encrypted)

    with pytest.raises(EncryptedDocumentError, match="DOCX file is password protected"):
        detect(encrypted.getvalue(), filename="secret.docx", content_type=None)
    with pytest.raises(EncryptedDocumentError, match="Office document is password protected"):
        detect(encrypted.getvalue(), filename=None, content_type=None)


def test_utf16_text_without_a_bom_is_text_not_binary() -> None:
    data = "Hello, world.\nSecond line.\n".encode("utf-16-le")
    detected = detect(data, filename="notes.txt", content_type=None)
    assert detected.format == "txt"
    assert detected.text is not None and detected.text.text == "Hello, world.\nSecond line.\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
        (
            '<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
            "html",
        ),
        ('<?xml version="1.0"?>\n<catalog><book id="1"/></catalog>', "xml"),
        ('{"name": "ragline", "tags": ["a", "b"]}', "json"),
        ("From: a@example.com\nTo: b@example.com\nSubject: hi\n\nBody text.\n", "eml"),
        ("# Title\n\nSome *prose* here.\n", "md"),
        ("Title\n=====\n\n.. note::\n\n   An RST note.\n", "rst"),
        ("name;qty;price\napple;3;1.20\npear;5;0.90\n", "csv"),
        ("name\tqty\napple\t3\npear\t5\n", "tsv"),
        ("Hello, world.\nA plain letter, with commas, in prose.\nBye.\n", "txt"),
    ],
)
def test_text_formats_are_sniffed_from_content(text: str, expected: str) -> None:
    assert sniff_text_format(text) == expected
    assert detect(text.encode(), filename=None, content_type=None).format == expected


RANDOM_BYTES = bytes((i * 151 + 7) % 256 for i in range(4096))  # no signature, not text


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("random.pdf", "'random.pdf' is named as PDF but its content is not a PDF"),
        ("random.docx", "'random.docx' is named as DOCX but its content is not a DOCX"),
        ("random.xlsx", "'random.xlsx' is named as XLSX but its content is not an XLSX"),
    ],
)
def test_unrecognised_binary_under_a_format_name_says_the_name_is_wrong(
    filename: str, expected: str
) -> None:
    with pytest.raises(UnsupportedFormatError) as caught:
        detect(RANDOM_BYTES, filename=filename, content_type=None)
    assert caught.value.message == f"{expected} (unrecognised binary data)"


def test_unrecognised_binary_under_a_declared_type_names_the_type() -> None:
    with pytest.raises(UnsupportedFormatError) as caught:
        detect(RANDOM_BYTES, filename=None, content_type="application/pdf; name=x")
    assert caught.value.message == (
        "the file is declared as PDF (application/pdf) but its content is not a PDF "
        "(unrecognised binary data)"
    )


def test_unrecognised_binary_under_a_text_name() -> None:
    with pytest.raises(UnsupportedFormatError) as caught:
        detect(RANDOM_BYTES, filename="notes.txt", content_type=None)
    assert caught.value.message == "'notes.txt' is named as text but holds unrecognised binary data"


def test_an_executable_under_a_format_name_is_refused_by_its_real_type() -> None:
    with pytest.raises(UnsupportedFormatError) as caught:
        detect(ELF, filename="tool.pdf", content_type=None)
    message = caught.value.message
    assert message.startswith("format 'application/x-") and "not supported" in message
    assert message.endswith("'tool.pdf' is named as PDF but its content is not a PDF")


def test_nameless_binary_is_refused_by_its_type() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"^format 'application/x-[\w-]+' is not"):
        detect(ELF, filename=None, content_type=None)
    with pytest.raises(UnsupportedFormatError) as caught:
        detect(RANDOM_BYTES, filename="blob", content_type=None)
    assert caught.value.message == (
        "format 'application/octet-stream' is not supported (unrecognised binary data)"
    )


# Type detection slips (issue 19): each was read as the wrong format.

NDJSON = (
    b'{"id": 1, "name": "Smith, John", "city": "Paris, France"}\n'
    b'{"id": 2, "name": "Doe, Jane", "city": "Lyon"}\n'
    b'{"id": 3, "name": "Roe, Rick", "city": "Nice"}\n'
)
PYTHON = (
    b"#!/usr/bin/env python\n# Compute the totals\nimport os\n\n\n"
    b"def total(rows):\n    # sum every row\n    return sum(rows)\n"
)
YAML = b"# service settings\nserver:\n  host: 0.0.0.0\n  port: 8080\nlogging:\n  level: info\n"


@pytest.mark.parametrize("filename", ["events.ndjson", "events.jsonl", None])
def test_ndjson_is_json_lines_not_csv(filename: str | None) -> None:
    assert detect(NDJSON, filename=filename, content_type=None).format == "jsonl"


def test_ndjson_declared_type_names_json_lines() -> None:
    detected = detect(NDJSON, filename="blob", content_type="application/x-ndjson")
    assert detected.format == "jsonl"


@pytest.mark.parametrize(
    "filename",
    ["tool.py", "app.js", "app.ts", "Main.java", "main.go", "lib.rs", "x.c", "x.h", "run.sh"],
)
def test_source_code_is_code_not_markdown(filename: str) -> None:
    assert detect(PYTHON, filename=filename, content_type=None).format == "code"


def test_sql_is_code() -> None:
    data = b"-- monthly totals\nSELECT month, SUM(amount) FROM sales GROUP BY month;\n"
    assert detect(data, filename="report.sql", content_type=None).format == "code"


def test_a_declared_source_type_is_code() -> None:
    assert detect(PYTHON, filename="blob", content_type="text/x-python").format == "code"


@pytest.mark.parametrize("filename", ["config.yaml", "config.yml"])
def test_yaml_is_yaml_not_text(filename: str) -> None:
    assert detect(YAML, filename=filename, content_type=None).format == "yaml"
    assert detect(YAML, filename="blob", content_type="application/yaml").format == "yaml"


SIGNATURE_DER = bytes.fromhex("3082059c06092a864886f70d010702a082058d30") + bytes(range(200))


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("smime.p7s", "application/x-pkcs7-signature"),
        ("smime.p7s", None),
        (None, "application/pkcs7-signature"),
        ("blob", None),
    ],
)
def test_an_smime_signature_is_refused_as_a_signature_never_as_xml(
    filename: str | None, content_type: str | None
) -> None:
    with pytest.raises(UnsupportedFormatError, match="digital signature"):
        detect(SIGNATURE_DER, filename=filename, content_type=content_type)


def test_a_pem_signature_that_decodes_as_text_is_still_a_signature() -> None:
    data = b"-----BEGIN PKCS7-----\nMIIFnAYJKoZIhvcNAQcCoIIFjTCCBYkCAQEx\n-----END PKCS7-----\n"
    with pytest.raises(UnsupportedFormatError, match="digital signature"):
        detect(data, filename="smime.p7s", content_type="application/x-pkcs7-signature")


def test_the_declared_type_is_weaker_than_the_name() -> None:
    data = b"name;qty\napple;3\npear;5\n"
    assert detect(data, filename="stock.csv", content_type="text/plain").format == "csv"
    assert detect(data, filename="stock.txt", content_type="text/csv").format == "txt"
