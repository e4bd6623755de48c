"""What every ``ragline eval`` command shares: its gate options, the report, the verdict.

One place decides how a report is written, how a baseline is compared and how a
regression or a bad input ends the command (``error: ...``, exit 1), so the three
instruments gate alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from evals.report import read_report, regressions, write_report
from kernel.errors import InvalidInputError
from ragline.cli_database import fail

err = Console(stderr=True, soft_wrap=True)

BaselineOption = Annotated[
    Path | None,
    typer.Option(help="A previous report: exit 1 if a metric fell below it by > tolerance."),
]
ToleranceOption = Annotated[
    float, typer.Option(help="How far a metric may fall below the baseline.")
]


def load_baseline(baseline: Path | None, tolerance: float) -> dict[str, Any] | None:
    """Check the gate before any work: a bad baseline should not cost a whole eval run."""
    if tolerance < 0:
        raise fail("--tolerance must be >= 0")
    try:
        return read_report(baseline) if baseline is not None else None
    except InvalidInputError as exc:
        raise fail(exc.message) from None


def save(path: Path, report: Mapping[str, Any]) -> None:
    try:
        write_report(path, report)
    except OSError as exc:
        raise fail(f"cannot write the report {path}: {exc.strerror or exc}") from None


def verdict(
    current: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    baseline: Path | None,
    tolerance: float,
    console: Console,
) -> None:
    """Exit 1 naming every regression against the baseline; say so when there is none."""
    if before is None:
        return
    try:
        found = regressions(current, before, tolerance)
    except InvalidInputError as exc:
        raise fail(exc.message) from None
    if found:
        err.print(
            f"[bold red]error:[/] {len(found)} regression(s) against {escape(str(baseline))}:"
        )
        for regression in found:
            err.print(f"  {escape(regression.describe())}")
        raise typer.Exit(1)
    console.print(f"No regression against {escape(str(baseline))} (tolerance {tolerance:g}).")
