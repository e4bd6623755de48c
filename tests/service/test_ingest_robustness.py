"""Documents nobody has seen: mangled, mislabelled and hostile files end indexed or failed.

Whatever arrives, ingestion must record a clear outcome for that file and go on
with the next: no exception escapes, no file is silently dropped.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.folder import ingest_paths, list_files
from ragline.runtime import Runtime, open_runtime
from tests.conftest import make_settings

pytestmark = pytest.mark.service


def _docx_bytes() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading("Release notes", level=1)
    doc.add_paragraph("Version 4.2 adds offline mode and fixes the export crash.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _pdf_bytes() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "The maintenance window is Sunday 02:00 to 04:00 UTC.")
    c.showPage()
    c.save()
    return buf.getvalue()


def _junk_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("random.bin", random.Random(1).randbytes(2048))
    return buf.getvalue()


def _hostile_files() -> dict[str, bytes]:
    rng = random.Random(42)
    pdf, docx = _pdf_bytes(), _docx_bytes()
    return {
        "random.pdf": rng.randbytes(4096),
        "random.docx": rng.randbytes(4096),
        "random.xlsx": rng.randbytes(4096),
        "random.txt": rng.randbytes(4096),
        "truncated.pdf": pdf[: len(pdf) // 2],
        "truncated.docx": docx[: len(docx) // 2],
        "junk-zip.docx": _junk_zip(),
        "junk-zip.pptx": _junk_zip(),
        "elf.md": b"\x7fELF\x02\x01\x01" + rng.randbytes(1024),
        "nul-bytes.txt": b"Shipping takes three days.\x00\x00\x00 Returns are free.",
        "deep.json": (b"[" * 5000) + (b"]" * 5000),
        "weird.json": json.dumps({"a": {"b": [1, {"c": "Refunds within 14 days."}]}}).encode(),
        "latin1.html": "<html><body><p>Caf\xe9 opens at 8.</p></body></html>".encode("latin-1"),
        "no-extension": b"Plain words with no file extension at all, still readable.",
        "long-line.txt": b"word " * 200_000,
        "only-markup.html": b"<html><head><script>var x=1;</script></head><body></body></html>",
        "pdf-named.txt": pdf,
    }


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Runtime]:
    rt = open_runtime(make_settings(tmp_path_factory.mktemp("robust") / "data"), dense=embedder)
    yield rt
    rt.close()


# What each file must end as: (outcome, error code). Content decides, not the name.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "random.pdf": ("failed", "unsupported_format"),
    "random.docx": ("failed", "unsupported_format"),
    "random.xlsx": ("failed", "unsupported_format"),
    "random.txt": ("failed", "unsupported_format"),
    "truncated.pdf": ("failed", "corrupt_document"),
    "truncated.docx": ("failed", "corrupt_document"),
    "junk-zip.docx": ("failed", "corrupt_document"),
    "junk-zip.pptx": ("failed", "corrupt_document"),
    "elf.md": ("failed", "unsupported_format"),
    "nul-bytes.txt": ("failed", "unsupported_format"),
    "deep.json": ("failed", "corrupt_document"),
    "weird.json": ("indexed", None),
    "latin1.html": ("indexed", None),
    "no-extension": ("indexed", None),
    "long-line.txt": ("indexed", None),
    "only-markup.html": ("failed", "empty_document"),
    "pdf-named.txt": ("indexed", None),
}

# Words that only a library's exception text would put in a message.
_LIBRARY_WORDS = re.compile(
    r"Traceback|Exception|Error\b|errno|pdfminer|pypdf|unstructured|zipfile|openpyxl|lxml"
    r"|\b\w*[a-z][A-Z]\w*\b"  # a CamelCase class name: BadZipFile, JSONDecodeError
)


def _library_text(message: str, name: str) -> list[str]:
    """What in ``message`` reads as a path or a library's words (the file's own name aside)."""
    own = message.replace(f"'{name}'", "")
    found = [m.group(0) for m in _LIBRARY_WORDS.finditer(own)]
    return found + (["/"] if "/" in own else [])


def test_every_hostile_file_ends_with_its_expected_outcome(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    files = _hostile_files()
    assert set(files) == set(EXPECTED)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    reports = ingest_paths(
        runtime.ingestion,
        folder,
        list_files(folder),
        bucket="inbox",
        roles=["public"],
        doc_type=None,
        on_file=lambda _: None,
    )

    assert sorted(r.name for r in reports) == sorted(files)
    assert {r.name: (r.outcome, r.error_code) for r in reports} == EXPECTED
    by_name = {r.name: r for r in reports}
    assert by_name["pdf-named.txt"].format == "pdf"
    for report in reports:
        if report.outcome == "indexed":
            assert report.chunks >= 1 and report.error is None, report
        else:
            assert report.chunks == 0 and report.error, report
            assert _library_text(report.error, report.name) == [], report

    # The registry, which GET /documents serves, holds one settled row per file.
    rows = runtime.registry.list_documents(bucket="inbox", limit=1000)
    assert sorted(d.key for d in rows) == sorted(files)
    assert {d.key: (d.status, d.error_code) for d in rows} == EXPECTED
    for doc in rows:
        assert doc.error == by_name[doc.key].error, doc
    for status in ("queued", "processing"):
        assert runtime.registry.list_documents(status=status, limit=1000) == []


def test_library_text_is_recognised() -> None:
    """The check above must catch what a leaked exception looks like."""
    assert _library_text("File is not a zip file (BadZipFile)", "a.docx") == ["BadZipFile"]
    assert _library_text("pdfminer could not read it", "a.pdf") == ["pdfminer"]
    assert _library_text("cannot open /tmp/x/a.pdf", "a.pdf") == ["/"]
    assert _library_text("ValueError: bad", "a.txt") == ["ValueError"]
    assert _library_text("'a.docx' is named as DOCX but is not a DOCX", "a.docx") == []
