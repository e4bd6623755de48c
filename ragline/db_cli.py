"""``ragline db``: see and migrate the relational schema (registry, buckets, answers).

The database is ``RAGLINE_DATABASE_URL`` (PostgreSQL in distributed mode) or, without
it, the embedded SQLite registry under ``RAGLINE_DATA_DIR``. Embedded mode migrates
by itself at start-up; distributed mode refuses to start behind head, and an operator
runs ``ragline db upgrade`` once per release (safe to run from several places at once).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from kernel.errors import ConfigurationError
from kernel.settings import get_settings
from ragline import schema
from ragline.cli_database import fail

db_app = typer.Typer(
    help="The relational database: show its schema revision, migrate it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)


@db_app.command()
def upgrade() -> None:
    """Create the schema, or migrate it to this ragline's revision (idempotent)."""
    url, where = _database()
    with _errors(where):
        before = schema.current_revision(url)
        schema.upgrade(url)
        after = schema.current_revision(url)
    if before == after:
        console.print(f"Database {where} is at {after} (head): nothing to do.")
    else:
        start = before or "no revision"
        console.print(f"Database {where} upgraded from {start} to {after} (head).")


@db_app.command()
def current() -> None:
    """Show the database's schema revision and the one this ragline needs."""
    url, where = _database()
    with _errors(where):
        revision = schema.current_revision(url)
    head = schema.head_revision()
    if revision == head:
        console.print(f"Database {where} is at {revision} (head).")
    else:
        console.print(
            f"Database {where} is at {revision or 'no revision'}; this ragline needs "
            f"{head}: run `ragline db upgrade`."
        )


def _database() -> tuple[str, str]:
    """The database URL, and how to show it (never with its password)."""
    try:
        url = get_settings().registry_url
        return url, make_url(url).render_as_string(hide_password=True)
    except (ValueError, ConfigurationError, ArgumentError) as exc:
        raise fail(f"invalid configuration: {exc}") from None


@contextmanager
def _errors(where: str) -> Iterator[None]:
    """Turn what the database answers into one line and exit status 1."""
    try:
        yield
    except ConfigurationError as exc:
        raise fail(exc.message) from None
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        raise fail(f"cannot use the database {where}: {reason}") from None
