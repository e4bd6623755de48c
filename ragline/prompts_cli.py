"""``ragline prompts``: see, version, label, roll back and split the prompts answers use.

It works on the database directly (``RAGLINE_DATABASE_URL``, or the embedded SQLite
registry under ``RAGLINE_DATA_DIR``), like ``ragline db``, so it needs no running
server and no key; a change applies to the next answer of every process sharing the
database. The shipped defaults are loaded first, so ``answer`` is always there to see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from prompts.book import PRODUCTION, LabelMove, PromptBook, PromptVersion
from ragline.cli_database import cli_operator, configured_database, fail

prompts_app = typer.Typer(
    help="Prompt templates: immutable versions, movable labels, traffic splits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)


@prompts_app.command("list")
def list_prompts() -> None:
    """Every prompt: its latest version, its labels and its split."""
    with _book() as book:
        summaries = book.names()
    table = Table("prompt", "latest", "labels", "split")
    for s in summaries:
        labels = ", ".join(f"{label}=v{version}" for label, version in s.labels.items())
        table.add_row(escape(s.name), f"v{s.latest_version}", labels or "-", _split_text(s.split))
    console.print(table)


@prompts_app.command()
def show(
    name: Annotated[str, typer.Argument(help="The prompt, e.g. answer.")],
    version: Annotated[int | None, typer.Option(help="Show this version.")] = None,
    label: Annotated[
        str | None, typer.Option(help="Show the version this label points at.")
    ] = None,
) -> None:
    """A prompt's versions and labels, and the text of one version (default: production,
    or the latest when there is no production label)."""
    if version is not None and label is not None:
        raise fail("give --version or --label, not both")
    with _book() as book:
        versions = book.versions(name)
        labels = book.labels(name)
        split = book.split(name)
        if label is not None and label not in labels:
            raise fail(f"prompt '{name}' has no label '{label}'")
        if version is None:
            version = labels.get(label or PRODUCTION, versions[-1].version)
        shown = book.get(name, version)
    by_version: dict[int, list[str]] = {}
    for lbl, v in labels.items():
        by_version.setdefault(v, []).append(lbl)
    table = Table("version", "created", "by", "labels", "note")
    for row in versions:
        table.add_row(
            f"v{row.version}",
            row.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            escape(row.created_by or "-"),
            ", ".join(by_version.get(row.version, [])) or "-",
            escape(row.note or ""),
        )
    console.print(table)
    if split:
        console.print(f"split: {_split_text(split)}")
    _print_text(shown)


@prompts_app.command()
def create(
    name: Annotated[str, typer.Argument(help="The prompt, e.g. answer.")],
    system_file: Annotated[
        Path | None, typer.Option(help="The system template (Jinja2).", dir_okay=False)
    ] = None,
    user_file: Annotated[
        Path | None, typer.Option(help="The user template (Jinja2).", dir_okay=False)
    ] = None,
    from_yaml: Annotated[
        Path | None,
        typer.Option(help="A YAML file with the keys system, user and note.", dir_okay=False),
    ] = None,
    note: Annotated[str | None, typer.Option(help="What changed, and why.")] = None,
    label: Annotated[
        list[str] | None, typer.Option(help="Move this label to the new version (repeatable).")
    ] = None,
) -> None:
    """Write the next version of a prompt (checked: it must render, and show the model the
    question and the sources)."""
    system, user, yaml_note = _templates(system_file, user_file, from_yaml)
    with _book() as book:
        created = book.create(
            name,
            system=system,
            user=user,
            note=note if note is not None else yaml_note,
            by=cli_operator(),
            labels=label or (),
        )
    moved = f", labelled {', '.join(label)}" if label else ""
    console.print(f"Created {escape(name)} v{created.version}{moved}.")


@prompts_app.command("label")
def move_label(
    name: Annotated[str, typer.Argument(help="The prompt, e.g. answer.")],
    label: Annotated[str, typer.Argument(help="The label, e.g. production.")],
    version: Annotated[int, typer.Argument(help="The version it should point at.")],
) -> None:
    """Point a label at a version (the label is created if new)."""
    with _book() as book:
        move = book.label(name, label, version, by=cli_operator())
    console.print(_moved(move))


@prompts_app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="The prompt, e.g. answer.")],
    label: Annotated[str, typer.Option(help="The label to move back.")] = PRODUCTION,
) -> None:
    """Move a label back to the version it pointed at before (one step per rollback)."""
    with _book() as book:
        move = book.rollback(name, label, by=cli_operator())
    console.print(_moved(move))


@prompts_app.command()
def split(
    name: Annotated[str, typer.Argument(help="The prompt, e.g. answer.")],
    weights: Annotated[
        list[str] | None,
        typer.Argument(help="LABEL=PERCENT pairs summing to 100, e.g. production=90 staging=10."),
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Remove the split.")] = False,
) -> None:
    """Split traffic between labels; each caller (API key) sticks to one label."""
    if off == bool(weights):
        raise fail("give LABEL=PERCENT pairs, or --off")
    with _book() as book:
        if off:
            removed = book.clear_split(name)
            console.print(
                f"Split of {escape(name)} removed: every answer uses {PRODUCTION}."
                if removed
                else f"{escape(name)} had no split: every answer uses {PRODUCTION}."
            )
            return
        applied = book.set_split(name, _parse_weights(weights or []))
    console.print(f"Split of {escape(name)}: {_split_text(applied)}.")


@contextmanager
def _book() -> Iterator[PromptBook]:
    """The prompt book on the configured database; any failure is one line and exit 1."""
    with configured_database() as (engine, _):
        book = PromptBook(engine)
        book.ensure_defaults()
        yield book


def _templates(
    system_file: Path | None, user_file: Path | None, from_yaml: Path | None
) -> tuple[str, str, str | None]:
    """(system, user, note) from the two files, or from the YAML file."""
    if from_yaml is not None:
        if system_file or user_file:
            raise fail("give --from-yaml, or --system-file and --user-file, not both")
        data = yaml.safe_load(_read(from_yaml))
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("system", "user")
        ):
            raise fail(f"{from_yaml} must hold the text keys system and user (and note)")
        note = data.get("note")
        return data["system"], data["user"], note if isinstance(note, str) else None
    if system_file is None or user_file is None:
        raise fail("give --system-file and --user-file, or --from-yaml")
    return _read(system_file), _read(user_file), None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}") from None


def _parse_weights(pairs: list[str]) -> dict[str, int]:
    weights: dict[str, int] = {}
    for pair in pairs:
        label, sep, percent = pair.partition("=")
        if not sep or not percent.strip().isdigit():
            raise fail(f"'{pair}' is not LABEL=PERCENT (e.g. production=90)")
        if label in weights:
            raise fail(f"label '{label}' is given twice")
        weights[label] = int(percent)
    return weights


def _print_text(version: PromptVersion) -> None:
    # Templates are full of [n] and {{ }}: printed as they are, never read as markup.
    console.print(f"\n[bold]{escape(version.name)} v{version.version}: system[/]")
    console.print(version.system, markup=False, highlight=False)
    console.print(f"[bold]{escape(version.name)} v{version.version}: user[/]")
    console.print(version.user, markup=False, highlight=False)


def _moved(move: LabelMove) -> str:
    if move.from_version is None:
        return f"{move.label} of {move.name} set to v{move.to_version}"
    return f"{move.label} of {move.name} moved from v{move.from_version} to v{move.to_version}"


def _split_text(split: dict[str, int] | None) -> str:
    if not split:
        return "-"
    return " / ".join(f"{label} {percent}%" for label, percent in split.items())
