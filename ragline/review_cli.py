"""``ragline review``: see the human review queue and export its corrections as golden cases.

It works on the database directly (``RAGLINE_DATABASE_URL``, or the embedded SQLite
registry under ``RAGLINE_DATA_DIR``), like ``ragline prompts``: an operator on the
machine needs no server and no key. Decisions are taken through the API
(``POST /review/{item_id}``), where the reviewer's key and roles are known.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from governance.audit_answers import AuditedAnswers
from governance.audit_log import AuditLog
from governance.review import ReviewDetail, ReviewQueue, golden_cases
from ragline.cli_database import configured_database, fail

review_app = typer.Typer(
    help="The human review queue: list and show queued answers, export corrections.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)

StatusChoice = Literal["open", "approved", "rejected", "corrected", "all"]


@review_app.command("list")
def list_items(
    status: Annotated[
        StatusChoice, typer.Option(help="Items in this state; 'all' for every item.")
    ] = "open",
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Items per page.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many items.")] = 0,
) -> None:
    """Queued answers, oldest first: why each was queued, and its state."""
    with _queue() as queue:
        page = queue.items(None if status == "all" else status, limit=limit, offset=offset)
    table = Table("item", "answer", "status", "reasons", "grounding", "queued at")
    for item in page.items:
        table.add_row(
            item.item_id,
            item.answer_id,
            item.status,
            ", ".join(item.reasons),
            "-" if item.grounding is None else f"{item.grounding:.2f}",
            item.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(table)
    shown = f"{offset + 1}-{offset + len(page.items)}" if page.items else "none"
    more = f"; next page: --offset {page.next_offset}" if page.next_offset is not None else ""
    console.print(f"{page.total} {status} item(s), showing {shown}{more}")


@review_app.command()
def show(item_id: Annotated[str, typer.Argument(help="A review item's id.")]) -> None:
    """One queued answer: question, answer, cited text, grounding, reasons, feedback, decision."""
    with _queue() as queue:
        detail = queue.detail(item_id)
    _print_detail(detail)


@review_app.command()
def export(
    out: Annotated[Path, typer.Option(help="Where to write the golden cases (JSONL).")],
) -> None:
    """Corrections (and rejections noted "unanswerable") as golden cases for
    ``ragline eval answers``, one JSON object a line, as in evals/golden/answers/questions.jsonl."""
    with _queue() as queue:
        cases, skipped = golden_cases(queue)
    try:
        out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases))
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    gone = f" ({skipped} skipped: the answer is no longer on record)" if skipped else ""
    console.print(f"exported {len(cases)} golden case(s) to {escape(str(out))}{gone}")


def _print_detail(detail: ReviewDetail) -> None:
    item, answer = detail.item, detail.answer
    grounding = "-" if item.grounding is None else f"{item.grounding:.2f}"
    console.print(f"[bold]item[/] {item.item_id}  [bold]answer[/] {item.answer_id}")
    console.print(
        f"status: {item.status}  reasons: {', '.join(item.reasons)}  grounding: {grounding}"
        f"  degraded: {'yes' if item.degraded else 'no'}"
    )
    if answer is None:
        console.print("[yellow]the answer is no longer on record[/]")
    else:
        console.print(f"\n[bold]question[/]\n{escape(answer.question or '(not kept)')}")
        console.print(f"\n[bold]answer[/]\n{escape(answer.answer or '(not kept)')}")
        for c in answer.citations or ():
            where = c.get("source") or c.get("title") or c.get("document_id") or "?"
            console.print(f"\n[bold][{c.get('n', '?')}][/] {escape(str(where))}")
            console.print(
                "[dim](cited text is not kept in the answer record: "
                "GET /review/{id} reads it from the index)[/]"
            )
    for f in detail.feedback:
        comment = f": {escape(f.comment)}" if f.comment else ""
        console.print(f"\n[bold]feedback[/] {f.rating}{comment}")
    if item.decided_at is not None:
        console.print(f"\n[bold]decision[/] {item.status} by {item.decided_by}")
        if item.corrected_answer:
            console.print(f"corrected answer: {escape(item.corrected_answer)}")
        if item.expected_source:
            terms = ", ".join(item.expected_terms) or "-"
            console.print(f"expected source: {escape(item.expected_source)}  terms: {terms}")
        if item.note:
            console.print(f"note: {escape(item.note)}")


@contextmanager
def _queue() -> Iterator[ReviewQueue]:
    """The review queue on the configured database; any failure is one line and exit 1."""
    with configured_database() as (engine, settings):
        answers = AuditedAnswers(AuditLog(engine), settings.audit)
        yield ReviewQueue(engine, settings.review, answers)
