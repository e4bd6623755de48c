"""The configured database, opened for one CLI command that works on it directly.

Commands such as ``ragline prompts``, ``keys``, ``review`` and ``audit`` are an
operator's tools on this machine: they do not go through the API, so they open the
registry database the server uses (migrating it in embedded mode, as the server
would) and turn every failure into one line on stderr and exit status 1.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from ingest.parsing.scratch import private_dir
from kernel.errors import ConfigurationError, RaglineError
from kernel.settings import Settings, get_settings
from ragline.schema import ensure_schema

_err = Console(stderr=True, soft_wrap=True)


@contextmanager
def configured_database() -> Iterator[tuple[Engine, Settings]]:
    """The engine and settings; a ragline error or an unusable database exits 1 in one line."""
    settings = cli_settings()
    url = settings.registry_url
    where = make_url(url).render_as_string(hide_password=True)
    if settings.database_url is None:
        try:
            private_dir(settings.data_dir)  # the embedded registry's folder, as the server makes it
        except OSError as exc:
            raise fail(f"cannot use the data directory {settings.data_dir}: {exc}") from None
    try:
        ensure_schema(url, auto_upgrade=settings.mode == "embedded")
        engine = create_engine(
            url, connect_args={"timeout": 30} if url.startswith("sqlite") else {}
        )
        try:
            yield engine, settings
        finally:
            engine.dispose()
    except RaglineError as exc:
        raise fail(exc.message) from None
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        raise fail(f"cannot use the database {where}: {reason}") from None


def cli_settings() -> Settings:
    try:
        settings = get_settings()
        make_url(settings.registry_url)
        return settings
    except (ValueError, ConfigurationError, ArgumentError) as exc:
        raise fail(f"invalid configuration: {exc}") from None


def fail(message: str) -> typer.Exit:
    """Print ``message`` as the command's error and give the exit to raise."""
    _err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(1)


def cli_operator() -> str:
    """Who ran the command, as change histories and the audit log keep it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name: a container without a passwd entry
        return "cli"
