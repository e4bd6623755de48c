"""``ragline audit``: verify the audit chain, export it as JSON lines, purge it by retention,
erase what answer records hold of a deleted document.

It works on the database directly (``RAGLINE_DATABASE_URL``, or the embedded SQLite
registry under ``RAGLINE_DATA_DIR``), like ``ragline db``, so it needs no running
server and no key. ``verify`` exits 1 when the chain was tampered with and names
the first bad row, so it can run from cron or CI. ``erase`` is what a document
deletion does to the answer records citing it; run it by hand when the server logged
the erasure as pending (the database was down right after the deletion).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from governance.audit_log import Actor, AuditFilter, AuditLog
from governance.erasure import erase_document
from governance.retention import Retention
from kernel.settings import Settings
from ragline.cli_database import cli_operator, configured_database, fail

audit_app = typer.Typer(
    help="The audit log: verify its hash chain, export it, purge it, erase a document from it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@audit_app.command()
def verify() -> None:
    """Walk the whole chain; exit 1 naming the first row edited, deleted or reordered."""
    with _audit_log() as (audit, _):
        result = audit.verify()
    start = f" (from row {result.anchor_seq + 1}, after purges)" if result.anchor_seq else ""
    if result.ok:
        console.print(f"Audit chain OK: {result.rows_checked} rows checked{start}.")
        return
    err.print(
        f"[bold red]Audit chain broken at row {result.first_bad_seq}:[/] {result.problem} "
        f"({escape(result.reason or '')}); {result.rows_checked} rows before it are intact{start}."
    )
    raise typer.Exit(1)


@audit_app.command()
def export(
    since: Annotated[
        datetime | None, typer.Option(help="Rows at or after this time (ISO 8601, UTC).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(help="Rows before this time (ISO 8601, UTC).")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Only 'event' or 'answer' rows.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. answer.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write here instead of to standard output.")
    ] = None,
) -> None:
    """Write rows as JSON lines, oldest first, with their hashes (to check them elsewhere)."""
    if kind not in (None, "event", "answer"):
        raise fail("--kind must be event or answer")
    filters = AuditFilter(since=since, until=until, action=action, kind=kind)
    with _audit_log() as (audit, _):
        if out is None:
            count = _write_lines(audit, filters, sys.stdout)
        else:
            with out.open("w", encoding="utf-8") as stream:
                count = _write_lines(audit, filters, stream)
            err.print(f"{count} audit rows written to {escape(str(out))}.")


@audit_app.command()
def purge() -> None:
    """Purge now what retention says has expired (``RAGLINE_AUDIT__*_DAYS``)."""
    with _audit_log() as (audit, settings):
        report = Retention(audit, settings.audit).purge()
    emptied = ", ".join(f"{n} {kind}" for kind, n in sorted(report.purged.items())) or "none"
    console.print(
        f"Audit purge: rows emptied: {emptied}; questions stripped: "
        f"{report.questions_stripped}; rows deleted: {report.deleted}; "
        f"recorded as row {report.checkpoint_seq}."
    )


@audit_app.command()
def erase(
    document: Annotated[str, typer.Option(help="The deleted document's id.")],
    attachment: Annotated[
        list[str] | None,
        typer.Option(help="An attachment's id, erased with it (repeat for each)."),
    ] = None,
) -> None:
    """Empty the answer records citing a document of its texts; record the proof (audit.erase)."""
    with _audit_log() as (audit, _):
        result = erase_document(
            audit,
            document,
            actor=Actor("cli", None, cli_operator()),
            attachment_ids=attachment or (),
        )
    seqs = ", ".join(str(s) for s in result.erased_seqs) or "none"
    console.print(
        f"Audit erase of document {escape(document)}: {result.erased} answer records erased "
        f"(rows: {seqs}); recorded as row {result.event_seq}."
    )


def _write_lines(audit: AuditLog, filters: AuditFilter, stream: IO[str]) -> int:
    count, cursor = 0, None
    while True:
        page = audit.query(filters, limit=1000, cursor=cursor)
        for entry in page.entries:
            stream.write(json.dumps(entry.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
        count += len(page.entries)
        if page.next_cursor is None:
            return count
        cursor = page.next_cursor


@contextmanager
def _audit_log() -> Iterator[tuple[AuditLog, Settings]]:
    """The audit log on the configured database; any failure is one line and exit 1."""
    with configured_database() as (engine, settings):
        yield AuditLog(engine), settings
