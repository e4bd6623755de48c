"""Documents nobody has seen: mangled, mislabelled and hostile files end indexed or failed.

Whatever arrives, ingestion must record a clear outcome for that file and go on
with the next: no exception escapes, no file is silently dropped.
"""

from __future__ import annotations

import io
import json
import random
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


def test_every_hostile_file_ends_indexed_or_failed_with_a_reason(
    runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    files = _hostile_files()
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
    by_name = {r.name: r for r in reports}
    assert set(by_name) == set(files)
    for report in reports:
        assert report.outcome in ("indexed", "failed"), report
        if report.outcome == "failed":
            assert report.error_code and report.error, report
            assert "Traceback" not in report.error
        else:
            assert report.chunks >= 1, report
    for name in ("random.pdf", "random.docx", "truncated.docx", "junk-zip.docx", "elf.md"):
        assert by_name[name].outcome == "failed", by_name[name]
    for name in ("weird.json", "latin1.html", "no-extension", "long-line.txt"):
        assert by_name[name].outcome == "indexed", by_name[name]
    # Content decides, not the name: a PDF called .txt is read as a PDF.
    assert (by_name["pdf-named.txt"].outcome, by_name["pdf-named.txt"].format) == ("indexed", "pdf")
    # The registry lists every failure with its reason, as GET /documents?status=failed does.
    failed = runtime.registry.list_documents(status="failed", bucket="inbox", limit=1000)
    assert {d.key for d in failed} == {r.name for r in reports if r.outcome == "failed"}
