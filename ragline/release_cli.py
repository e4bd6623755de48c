"""``ragline release``: create, start, promote and roll back releases, and see their gates.

It works on the database directly (``RAGLINE_DATABASE_URL``, or the embedded SQLite
registry under ``RAGLINE_DATA_DIR``), like ``ragline prompts``, so it needs no running
server and no key; every process sharing the database follows the change within
``RAGLINE_RELEASES__CACHE_S`` seconds. Each decision goes to the audit log as the
CLI's operator. The counters the gates judge are the ones the API processes wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from governance.audit_log import AuditLog
from governance.audit_port import Actor
from kernel.errors import RaglineError
from kernel.models_config import load_models_file
from prompts.book import PromptBook
from ragline.cli_database import cli_operator, configured_database, fail
from releases.book import ReleaseBook
from releases.model import Release, known_routes
from releases.service import ReleaseService, ReleaseStatus

release_app = typer.Typer(
    help="Releases: a prompt version, a model route and settings, rolled out in stages"
    " with gates and automatic rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)

ReleaseArg = Annotated[str, typer.Argument(help="The release: rel-3, or 3.", show_default=False)]


@release_app.command()
def create(
    prompt_version: Annotated[
        int, typer.Option("--prompt-version", help="The prompt version to answer with.")
    ],
    route: Annotated[
        str,
        typer.Option(
            help="A tier (fast, frontier), a deployment of the models file, or extractive."
        ),
    ],
    prompt: Annotated[str, typer.Option(help="The prompt's name.")] = "answer",
    setting: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A setting override NAME=VALUE: top_k, fusion, dense_weight, min_relevance,"
            " min_grounding (repeat for several).",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="What changes, and why.")] = None,
    start: Annotated[bool, typer.Option(help="Start rolling it out at once.")] = False,
) -> None:
    """Create a draft release (and with --start, start its rollout)."""
    overrides = _overrides(setting or [])
    with _service() as (service, actor):
        release = service.create(
            prompt_name=prompt,
            prompt_version=prompt_version,
            route=route,
            settings=overrides,
            note=note,
            actor=actor,
        )
        console.print(f"created {release.id} (draft): {_bundle_text(release)}")
        if start:
            release = service.start(release.id, actor)
            console.print(f"{release.id} started at {release.stage_percent}%")


@release_app.command("start")
def start_release(release: ReleaseArg) -> None:
    """Start a draft's rollout at the first stage."""
    with _service() as (service, actor):
        moved = service.start(release, actor)
    console.print(f"{moved.id} started at {moved.stage_percent}% ({moved.status})")


@release_app.command("list")
def list_releases() -> None:
    """Every release, newest first: status, stage, bundle."""
    with _service() as (service, _):
        found = service.book.recent()
    table = Table("release", "status", "stage", "prompt", "route", "settings", "created", "reason")
    for r in found:
        table.add_row(
            r.id,
            r.status,
            f"{r.stage_percent}%",
            escape(f"{r.bundle.prompt_name} v{r.bundle.prompt_version}"),
            escape(r.bundle.route),
            escape(json.dumps(r.bundle.settings)) if r.bundle.settings else "-",
            r.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            escape(r.reason or ""),
        )
    console.print(table)


@release_app.command()
def status(
    release: Annotated[
        str | None,
        typer.Argument(
            help="The release (default: the one being rolled out, or current).", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print it as data.")] = False,
) -> None:
    """A release's stage, its window's numbers against the current one, and its gates."""
    with _service() as (service, _):
        if release is None:
            current, staged = service.book.active()
            shown = staged or current
            if shown is None:
                raise fail("no release is staged or current: answers use the service's settings")
            release = shown.id
        found = service.status(release)
    if as_json:
        console.print_json(data=_status_json(found))
        return
    _print_status(found)


@release_app.command()
def promote(
    release: ReleaseArg,
    force: Annotated[
        bool, typer.Option(help="Advance whatever the gates say (recorded as forced).")
    ] = False,
) -> None:
    """Advance a staged release one stage, only when every gate passes (or with --force)."""
    with _service() as (service, actor):
        found = service.promote(release, actor, force=force)
    r = found.release
    forced = " (forced)" if force else ""
    console.print(f"{r.id} promoted to {r.stage_percent}%{forced}: {r.status}")


@release_app.command()
def rollback(
    release: ReleaseArg,
    reason: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
) -> None:
    """Roll a staged or current release back: its callers return to the current release
    (for a current one: to the release current before it)."""
    with _service() as (service, actor):
        moved = service.rollback(release, actor, reason=reason)
    console.print(f"{moved.id} rolled back: {escape(moved.reason or '')}")


@contextmanager
def _service() -> Iterator[tuple[ReleaseService, Actor]]:
    with configured_database() as (engine, settings):
        routes: list[tuple[str, str]] | None = None
        try:
            if settings.models_file is not None:
                models = load_models_file(settings.models_file)
                routes = [(d.name, d.tier) for d in models.deployments]
            prompts = PromptBook(engine)
            prompts.ensure_defaults()
            service = ReleaseService(
                ReleaseBook(engine), settings.releases, AuditLog(engine), prompts,
                known_routes(routes),
            )  # fmt: skip
            yield service, Actor(key_id="cli", team=None, identity=cli_operator())
        except RaglineError as exc:
            raise fail(exc.message) from None


def _overrides(pairs: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise fail(f"'{pair}' is not NAME=VALUE (e.g. top_k=8)")
        try:
            found[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            found[name.strip()] = value  # a word: fusion=rrf
    return found


def _bundle_text(r: Release) -> str:
    b = r.bundle
    settings = f", {json.dumps(b.settings)}" if b.settings else ""
    return escape(f"{b.prompt_name} v{b.prompt_version} on {b.route}{settings}")


def _status_json(found: ReleaseStatus) -> dict[str, Any]:
    r = found.release
    return {
        "id": r.id,
        "version": r.version,
        "status": r.status,
        "stage_percent": r.stage_percent,
        "bundle": r.bundle.as_json(),
        "reason": r.reason,
        "epoch": found.epoch,
        "against": found.current_id,
        "candidate": None if found.candidate is None else found.candidate.as_json(),
        "current": None if found.current is None else found.current.as_json(),
        "gates": [g.as_json() for g in found.gates],
    }


def _print_status(found: ReleaseStatus) -> None:
    r = found.release
    console.print(f"[bold]{r.id}[/] {r.status} at {r.stage_percent}%: {_bundle_text(r)}")
    if r.reason:
        console.print(f"reason: {escape(r.reason)}")
    if found.candidate is None or found.current is None:
        return
    window = Table("", r.id, found.current_id, title=f"stage {found.epoch}")
    cand, cur = found.candidate.as_json(), found.current.as_json()
    for name in cand:
        window.add_row(name, _num(cand[name]), _num(cur[name]))
    console.print(window)
    gates = Table("gate", "candidate", "current", "tolerance", "passed", "note")
    for g in found.gates:
        gates.add_row(
            g.name, _num(g.candidate), _num(g.current), f"{g.tolerance:g}",
            "[green]yes[/]" if g.passed else "[red]no[/]", escape(g.note or ""),
        )  # fmt: skip
    console.print(gates)


def _num(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
