"""Zip-bomb checks, the file-size limit and titles kept in document properties."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ingest.parsing.archives import check_expansion
from ingest.parsing.limits import check_file_size
from ingest.parsing.properties import container_title, html_title, meaningful_title
from kernel.errors import ParseLimitError

pytestmark = pytest.mark.unit


def archive(members: dict[str, bytes]) -> tuple[zipfile.ZipFile, int]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as writer:
        for name, content in members.items():
            writer.writestr(name, content)
    size = len(buffer.getvalue())
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue())), size


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    bomb, size = archive({"word/document.xml": b"\0" * (40 * 1024 * 1024)})
    with pytest.raises(ParseLimitError, match=r"DOCX file expands .* times its size.*zip bomb"):
        check_expansion(bomb, size, "docx")


def test_too_many_members_are_refused() -> None:
    many, size = archive({f"xl/f{i}.xml": b"" for i in range(10_001)})
    with pytest.raises(ParseLimitError, match="10,001 archive members"):
        check_expansion(many, size, "xlsx")


def test_an_ordinary_document_passes() -> None:
    normal, size = archive({"word/document.xml": b"<w:p>hello</w:p>" * 1000})
    check_expansion(normal, size, "docx")


def test_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2_000)
    assert check_file_size(path, 2_000) == 2_000
    with pytest.raises(ParseLimitError, match=r"file is 2.0 kB, over the parsing limit of 1.0 kB"):
        check_file_size(path, 1_000)


def test_titles_from_ooxml_core_properties_and_epub() -> None:
    core = (
        b'<cp:coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:title>Annual Report &amp; Outlook</dc:title></cp:coreProperties>"
    )
    docx, _ = archive({"docProps/core.xml": core})
    assert container_title(docx) == "Annual Report & Outlook"

    container = (
        b'<container><rootfiles><rootfile full-path="OEBPS/content.opf"/></rootfiles></container>'
    )
    opf = b"<package><metadata><dc:title>Winter Sports</dc:title></metadata></package>"
    epub, _ = archive({"META-INF/container.xml": container, "OEBPS/content.opf": opf})
    assert container_title(epub) == "Winter Sports"


def test_placeholder_titles_are_ignored() -> None:
    assert meaningful_title("Microsoft Word - draft3.doc") is None
    assert meaningful_title("scan_0001.pdf") is None
    assert meaningful_title("   ") is None
    assert meaningful_title("fake-memo") is None
    assert meaningful_title("Unstructured-test_doc") is None
    assert meaningful_title("SingleTable") is None
    assert meaningful_title("COVID-19") == "COVID-19"
    assert meaningful_title("Handbook") == "Handbook"
    assert meaningful_title("  Travel   policy ") == "Travel policy"


def test_html_title() -> None:
    assert (
        html_title("<html><head><title> Q3 &amp; Q4\n plan</title></head></html>") == "Q3 & Q4 plan"
    )
    assert html_title("<html><body>no title</body></html>") is None
