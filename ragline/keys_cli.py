"""``ragline keys``: create, list, rotate and revoke managed API keys.

It works on the database directly (``RAGLINE_DATABASE_URL``, or the embedded SQLite
registry under ``RAGLINE_DATA_DIR``), like ``ragline db`` and ``ragline prompts``, so
an operator can make the first team keys with no server and no key. A change holds
on the next request of every API process sharing the database. A new or rotated key
is printed alone on standard output (``KEY=$(ragline keys create ...)``), the rest
on standard error; it is not shown again. Each change goes to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from governance.audit_log import AuditLog
from governance.audit_port import Actor
from governance.keys import IssuedKey, KeyStore, ManagedKey
from ragline.cli_database import cli_operator, configured_database

keys_app = typer.Typer(
    help="Managed API keys: per team, with roles, expiry, rotation and revocation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
KeyIdArg = Annotated[str, typer.Argument(help="The key's id, e.g. mk-3f9a0c1d2e4b.")]


@contextmanager
def _keys() -> Iterator[tuple[KeyStore, AuditLog]]:
    """The key store and audit log on the configured database; any failure is one line, exit 1."""
    with configured_database() as (engine, _):
        yield KeyStore(engine), AuditLog(engine)


@keys_app.command()
def create(
    team: Annotated[str, typer.Option(help="Who pays for the key's answers.")],
    role: Annotated[
        list[str] | None, typer.Option(help="A role the key may read (repeatable).")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="A name for budgets and reports (models file's budgets.keys)."),
    ] = None,
    ttl_days: Annotated[
        float | None, typer.Option(help="Days until the key stops working.")
    ] = None,
    expires_at: Annotated[
        datetime | None,
        typer.Option(
            help="When the key stops working, UTC (e.g. 2027-01-01T00:00:00).",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
        ),
    ] = None,
    daily_hard_usd: Annotated[float | None, typer.Option(help="Daily hard limit, USD.")] = None,
    monthly_hard_usd: Annotated[float | None, typer.Option(help="Monthly hard limit, USD.")] = None,
) -> None:
    """Create a key; the key is printed once, alone on standard output."""
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    budget = {"daily_hard_usd": daily_hard_usd, "monthly_hard_usd": monthly_hard_usd}
    with _keys() as (store, audit):
        issued = store.create(
            team=team,
            roles=role or [],
            name=name,
            expires_at=expires_at,
            ttl_days=ttl_days,
            budget=budget if any(v is not None for v in budget.values()) else None,
            by=cli_operator(),
        )
        _record(audit, "key.create", issued.key)
    _show_issued("Created", issued)


@keys_app.command("list")
def list_keys() -> None:
    """Every managed key (never its secret): active, expired and revoked."""
    with _keys() as (store, _):
        keys = store.list()
        now = store.now()
    table = Table("id", "prefix", "team", "name", "roles", "status", "expires", "created")
    for key in keys:
        table.add_row(
            key.id,
            f"{key.prefix}…",
            escape(key.team),
            escape(key.name or "-"),
            escape(", ".join(key.roles) or "-"),
            key.status(now),
            _when(key.expires_at),
            _when(key.created_at),
        )
    console.print(table)


@keys_app.command()
def rotate(
    key_id: Annotated[str, typer.Argument(help="The key's id, e.g. mk-3f9a0c1d2e4b.")],
) -> None:
    """A new secret for a key, printed once; the old one stops working at once."""
    with _keys() as (store, audit):
        issued = store.rotate(key_id)
        _record(audit, "key.rotate", issued.key)
    _show_issued("Rotated", issued)


@keys_app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, e.g. mk-3f9a0c1d2e4b.")],
) -> None:
    """Stop a key at once, on every server sharing the database."""
    with _keys() as (store, audit):
        key = store.revoke(key_id)
        _record(audit, "key.revoke", key)
    console.print(f"Revoked {key.id} ({escape(key.prefix)}…) of team {escape(key.team)}.")


def _show_issued(what: str, issued: IssuedKey) -> None:
    key = issued.key
    expires = f", expires {_when(key.expires_at)}" if key.expires_at else ""
    err.print(
        f"{what} {key.id} for team {escape(key.team)} "
        f"(roles: {escape(', '.join(key.roles) or 'none')}){expires}. "
        "The key follows; it is not shown again."
    )
    console.print(issued.secret, markup=False, highlight=False, soft_wrap=True)


def _record(audit: AuditLog, action: str, key: ManagedKey) -> None:
    actor = Actor(key_id="cli", team=None, identity=cli_operator())
    audit.record(actor=actor, action=action, target=key.id, details=key.audit_details())


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
