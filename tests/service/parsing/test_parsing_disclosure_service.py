"""A document's error says what ragline knows, in its own words; what libraries said is logged.

The error is stored with the document and served to everyone who may read it,
so it must not carry server paths, tool names and versions, or library
exception text. Those go to the service's log, next to the file's name.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import Path

import pytest

from ingest.parsing import IsolatedParser
from kernel.errors import CorruptDocumentError, DocumentError

pytestmark = pytest.mark.service

RTF = (
    rb"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times;}}\f0 MASTER SERVICES AGREEMENT\par \par "
    rb"1. Definitions\par}"
)
#: What no served message may contain: a path, a tool, a library's words or class names.
LEAKS = re.compile(
    r"/|\\|pandoc|version|lxml|zipfile|olefile|unstructured|exit ?code|Error\b|"
    r"Exception|BadZipFile|AttributeError|[A-Z][a-z]+[A-Z]\w*Error",
    re.IGNORECASE,
)


def docx_with_broken_xml() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><broken")
    return buffer.getvalue()


CASES = [
    ("agreement.rtf", RTF[:60], "RTF file is damaged or truncated", "pandoc"),
    (
        "report.docx",
        b"PK\x03\x04" + b"\x00" * 40,
        "DOCX file is damaged: not a readable zip archive",
        "BadZipFile",
    ),
    ("report.docx", docx_with_broken_xml(), "DOCX file is damaged or truncated", "AttributeError"),
    (
        "legacy.doc",
        bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600,
        "DOC file is damaged: its directory cannot be read",
        "multiple of item size",
    ),
]


@pytest.mark.parametrize(("name", "content", "message", "logged"), CASES)
def test_a_damaged_file_is_refused_in_ragline_words_and_the_detail_is_logged(
    parser: IsolatedParser,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
    content: bytes,
    message: str,
    logged: str,
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    with (
        caplog.at_level(logging.INFO, logger="ingest.parsing.isolated"),
        pytest.raises(CorruptDocumentError) as caught,
    ):
        parser.parse(source)
    assert caught.value.message == message
    assert not LEAKS.search(caught.value.message), caught.value.message
    assert name in caplog.text and logged in caplog.text


def test_a_truncated_rtf_names_neither_the_server_path_nor_pandoc(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = tmp_path / "private-folder" / "agreement.rtf"
    source.parent.mkdir()
    source.write_bytes(RTF[:60])
    with pytest.raises(DocumentError) as caught:
        parser.parse(source)
    served = f"{caught.value.code} {caught.value.message}"
    assert str(tmp_path) not in served and "private-folder" not in served
    assert "pandoc" not in served.lower() and "3." not in served
