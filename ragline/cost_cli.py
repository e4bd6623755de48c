"""``ragline cost``: what a month of generated answers will cost, at recent traffic.

Reads the usage ledger straight from the database (``RAGLINE_DATABASE_URL``, or the
embedded registry under ``RAGLINE_DATA_DIR``), so finance can run it beside a live
server; nothing else is opened. ``--what-if-model NAME`` prices the same traffic at
another deployment of the models file (``RAGLINE_MODELS_FILE``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from kernel.errors import ConfigurationError, DependencyUnavailableError
from kernel.models_config import Deployment, load_models_file
from kernel.settings import Settings, get_settings
from ragline.cli_database import fail
from ragline.schema import ensure_schema
from usage.budgets import usd
from usage.ledger import UsageEvent, UsageLedger
from usage.projection import CostReport, CostRow, project

console = Console(soft_wrap=True)


def cost(
    days: Annotated[
        int, typer.Option(min=1, help="Project from the usage of the last DAYS days.")
    ] = 30,
    what_if_model: Annotated[
        str | None,
        typer.Option(
            "--what-if-model",
            help="Price the same traffic at this deployment of the models file instead.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Project the monthly cost of generated answers per team and model, from recent usage."""
    settings = _settings()
    reprice = _deployment(settings, what_if_model) if what_if_model else None
    report = project(_recent_usage(settings, days), days=days, reprice=reprice)
    if json_out:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    elif not report.rows:
        console.print(
            f"No usage recorded in the last {days} days: no generated answers to project from."
        )
    else:
        console.print(_table(report))


def _settings() -> Settings:
    try:
        return get_settings()
    except (ValueError, ConfigurationError) as exc:
        raise fail(f"invalid configuration: {exc}") from None


def _deployment(settings: Settings, name: str) -> Deployment:
    if settings.models_file is None:
        raise fail("--what-if-model needs a models file: set RAGLINE_MODELS_FILE")
    try:
        models = load_models_file(settings.models_file)
    except ConfigurationError as exc:
        raise fail(exc.message) from None
    try:
        return models.deployment(name)
    except KeyError:
        known = ", ".join(d.name for d in models.deployments)
        raise fail(f"unknown model '{name}'; the models file has: {known}") from None


def _recent_usage(settings: Settings, days: int) -> list[UsageEvent]:
    url = settings.registry_url
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise fail(f"invalid configuration: {exc}") from None
    where = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return []  # no registry yet: nothing answered, and a report creates nothing
    try:
        ensure_schema(url, auto_upgrade=settings.mode == "embedded")
        engine = create_engine(url)
        try:
            since = datetime.now(UTC) - timedelta(days=days)
            return UsageLedger(engine).events(since)
        finally:
            engine.dispose()
    except ConfigurationError as exc:
        raise fail(exc.message) from None
    except (OperationalError, DependencyUnavailableError) as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig).strip().splitlines()[0] if orig else "unreachable"
        raise fail(f"cannot read usage from the database {where}: {reason}") from None


def _table(report: CostReport) -> Table:
    what_if = f", priced at {report.repriced_at}" if report.repriced_at else ""
    table = Table(
        title=f"Projected cost from the last {report.days} days{what_if}",
        show_footer=False,
    )
    buffered = f"$/month +{report.buffer:.0%}"
    headers = ("team", "model", "requests/day", "avg tokens in", "avg tokens out")
    for header in headers:
        table.add_column(header, justify="left" if header in ("team", "model") else "right")
    for header in ("$/request", "$/day", "$/month", buffered):
        table.add_column(header, justify="right")
    for row in report.rows:
        table.add_row(*_cells(row))
    table.add_section()
    table.add_row(*_cells(report.total), style="bold")
    return table


def _cells(row: CostRow) -> tuple[str, ...]:
    return (
        row.team,
        row.deployment,
        f"{row.requests_per_day:,.1f}",
        f"{row.avg_prompt_tokens:,.0f}",
        f"{row.avg_completion_tokens:,.0f}",
        usd(row.cost_per_request_usd),
        usd(row.cost_per_day_usd),
        usd(row.cost_per_month_usd),
        usd(row.cost_per_month_buffered_usd),
    )
