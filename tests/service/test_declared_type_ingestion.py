"""An e-mail attachment's declared content type, from the mail to the index and back.

The real embedded stack (SQLite registry, Qdrant on disk, the MiniLM embedder, the
isolated parser) ingests real mail bytes built with the ``email`` package from a
bucket folder, through a refresh, as a scheduled run would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.records import Document, RefreshRun
from ingest.refresh import ingest_inline, request_refresh, run_refresh
from ingest.registration import retry_document
from ingest.reindex import request_reindex, run_reindex
from ingest.reindex_log import ReindexRuns
from ragline.runtime import Runtime, open_runtime
from retrieval.access import Principal, search_filter
from retrieval.hybrid import RetrievedChunk
from tests.conftest import make_settings

pytestmark = pytest.mark.service

# Two lines: sniffing alone reads them as plain text (a table needs three).
EXPORT = b"region,revenue\nNorth Harbour,1250\n"
EXPORT_AS_TABLE = "region | revenue\nNorth Harbour | 1250"
PDF_SENTENCE = "The harbour dredging contract was signed on 4 June."
TEXT_SENTENCE = "The lighthouse keeper logs every passing ship by hand."


@pytest.fixture
def runtime(tmp_path: Path, embedder: Any) -> Iterator[Runtime]:
    rt = open_runtime(make_settings(tmp_path / "data"), dense=embedder)
    yield rt
    rt.close()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "mailbox"
    folder.mkdir()
    return folder


def _pdf_bytes(tmp_path: Path) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 760, PDF_SENTENCE)
    pdf.showPage()
    pdf.save()
    return path.read_bytes()


def _mail(body: str, attachments: list[tuple[bytes, str, str]]) -> bytes:
    """A mail with ``body`` and attachments given as (bytes, media type, file name)."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "ops@example.com"
    message["To"] = "desk@example.com"
    message["Subject"] = "Harbour exports"
    message.set_content(body)
    for content, media_type, name in attachments:
        maintype, subtype = media_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` with a new mtime even on a coarse clock, so a refresh sees the change."""
    before = path.stat().st_mtime_ns if path.exists() else None
    path.write_bytes(data)
    if before is not None:
        os.utime(path, ns=(before + 10**9, before + 10**9))


def _refresh(runtime: Runtime) -> RefreshRun:
    deps = runtime.ingestion
    run, created = request_refresh(
        deps.buckets, runtime.refresh_runs, "mail", "cli", datetime.now(UTC)
    )
    assert created
    return run_refresh(deps, runtime.refresh_runs, run.id, submit=ingest_inline(deps))


def _children(runtime: Runtime) -> dict[str, Document]:
    """The mail's attachments by file name, as the registry has them now."""
    docs = runtime.registry.list_documents(bucket="mail")
    assert len([d for d in docs if d.parent_id is None]) == 1
    return {c.key.rsplit("#", 1)[-1]: runtime.registry.get(c.id) for c in docs if c.parent_id}


def _chunks(runtime: Runtime, question: str, roles: list[str], doc: Document) -> list[str]:
    hits: list[RetrievedChunk] = runtime.retriever.retrieve(
        question, search_filter(Principal.from_key("k", roles)), top_k=10
    )
    return [h.text for h in hits if h.document_id == doc.id]


def test_an_extensionless_attachment_declared_csv_is_indexed_as_a_table(
    runtime: Runtime, source: Path
) -> None:
    _write(
        source / "exports.eml",
        _mail(
            "The quarterly export is attached.",
            [(EXPORT, "text/csv", "export"), (EXPORT, "application/octet-stream", "export-raw")],
        ),
    )
    runtime.ingestion.buckets.create_bucket("mail", ["harbour"], None, str(source))

    run = _refresh(runtime)

    assert (run.status, run.counts.new, run.counts.failed) == ("finished", 1, 0)
    children = _children(runtime)
    declared, raw = children["export"], children["export-raw"]
    assert (declared.status, declared.format, declared.detected_type) == (
        "indexed",
        "csv",
        "tables",
    )
    assert declared.declared_type == "text/csv"
    # The same bytes declaring nothing useful are sniffed: two lines are plain text.
    assert (raw.status, raw.format, raw.declared_type) == (
        "indexed",
        "txt",
        "application/octet-stream",
    )
    assert _chunks(runtime, "North Harbour revenue", ["harbour"], declared) == [EXPORT_AS_TABLE]
    as_text = "\n".join(_chunks(runtime, "North Harbour revenue", ["harbour"], raw))
    assert "North Harbour,1250" in as_text and " | " not in as_text
    # Children carry the mail's roles, and only those.
    assert declared.roles == raw.roles == ("harbour",)
    assert _chunks(runtime, "North Harbour revenue", ["staff"], declared) == []


def test_declared_types_never_outvote_the_bytes(
    runtime: Runtime, source: Path, tmp_path: Path
) -> None:
    _write(
        source / "scans.eml",
        _mail(
            "Two files, mislabelled by the sender's client.",
            [
                (_pdf_bytes(tmp_path), "text/plain", "scan"),
                (TEXT_SENTENCE.encode(), "application/pdf", "log"),
            ],
        ),
    )
    runtime.ingestion.buckets.create_bucket("mail", ["harbour"], None, str(source))

    run = _refresh(runtime)

    assert (run.status, run.counts.failed) == ("finished", 0)
    children = _children(runtime)
    scan, log = children["scan"], children["log"]
    assert (scan.status, scan.format, scan.declared_type) == ("indexed", "pdf", "text/plain")
    assert (log.status, log.format, log.declared_type) == ("indexed", "txt", "application/pdf")
    assert any(PDF_SENTENCE in t for t in _chunks(runtime, "dredging contract", ["harbour"], scan))
    assert _chunks(runtime, "lighthouse keeper ships", ["harbour"], log) == [TEXT_SENTENCE]


def test_the_declared_type_survives_a_retry_a_refresh_and_a_reindex(
    runtime: Runtime, source: Path
) -> None:
    mail = source / "exports.eml"
    _write(mail, _mail("The quarterly export is attached.", [(EXPORT, "text/csv", "export")]))
    runtime.ingestion.buckets.create_bucket("mail", ["harbour"], None, str(source))
    _refresh(runtime)
    child = _children(runtime)["export"]
    assert (child.format, child.indexed_version) == ("csv", 1)

    # Its chunks lost from the index: a retry parses the stored attachment again,
    # with the type from the registry.
    runtime.ingestion.index.delete_document(child.id)
    retry_document(runtime.registry, ingest_inline(runtime.ingestion), child.id)
    retried = runtime.registry.get(child.id)
    assert (retried.status, retried.format, retried.declared_type) == ("indexed", "csv", "text/csv")
    assert retried.indexed_version == 2  # parsed again, not found unchanged
    assert _chunks(runtime, "North Harbour revenue", ["harbour"], retried) == [EXPORT_AS_TABLE]

    # The mail changes: it is ingested again and registers its attachment again.
    _write(mail, _mail("The export, resent.", [(EXPORT, "text/csv", "export")]))
    run = _refresh(runtime)
    assert (run.counts.changed, run.counts.failed) == (1, 0)
    refreshed = _children(runtime)["export"]
    assert (refreshed.status, refreshed.format, refreshed.declared_type) == (
        "indexed",
        "csv",
        "text/csv",
    )

    # A re-index builds every served document's chunks again from its object.
    runs = ReindexRuns(runtime.registry.engine)
    reindex, created = request_reindex(runs, "cli", datetime.now(UTC))
    assert created
    done = run_reindex(runtime.ingestion, runs, reindex.id)
    assert (done.status, done.progress.failures) == ("finished", ())
    assert _chunks(runtime, "North Harbour revenue", ["harbour"], refreshed) == [EXPORT_AS_TABLE]


def test_a_resent_attachment_declaring_another_type_is_parsed_again(
    runtime: Runtime, source: Path
) -> None:
    mail = source / "exports.eml"
    _write(mail, _mail("The export.", [(EXPORT, "application/octet-stream", "export")]))
    runtime.ingestion.buckets.create_bucket("mail", ["harbour"], None, str(source))
    _refresh(runtime)
    assert _children(runtime)["export"].format == "txt"

    # Same bytes, now declared as CSV: the attachment is not "unchanged".
    _write(mail, _mail("The export, labelled.", [(EXPORT, "text/csv", "export")]))
    _refresh(runtime)

    child = _children(runtime)["export"]
    assert (child.format, child.declared_type, child.indexed_version) == ("csv", "text/csv", 2)
    assert _chunks(runtime, "North Harbour revenue", ["harbour"], child) == [EXPORT_AS_TABLE]
