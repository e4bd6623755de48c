"""``ragline eval pii FILE``: how much labelled PII the service's detector finds and invents.

Runs :class:`governance.pii.PiiDetector` with the service's settings
(``RAGLINE_PII__ENTITIES``, ``RAGLINE_PII__NAMES_AND_LOCATIONS``,
``RAGLINE_PII__MIN_SCORE``, ``RAGLINE_PII__SPACY_MODEL``) over every labelled snippet,
prints recall, precision and F1 per entity type with the support and the warm time
per snippet, and writes the JSON report. A found span counts when it overlaps a gold
span of the same type (:mod:`evals.pii_eval`). With ``--baseline`` it is a gate: any
metric worse than the baseline's by more than ``--tolerance`` exits 1, naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evals.pii_eval import EVAL_NAME, PiiEval, details, evaluate, file_digest, read_snippets
from evals.report import build_report
from governance.pii import PiiDetector
from kernel.errors import ConfigurationError, InvalidInputError
from kernel.settings import Settings, get_settings
from ragline.cli_database import fail
from ragline.eval_gate import BaselineOption, ToleranceOption, load_baseline, save, verdict

console = Console(soft_wrap=True)


def pii(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSONL of snippets: text and entities [{type, start, end}] (none: a hard"
            " negative).",
            show_default=False,
        ),
    ],
    report: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
        "eval-pii.json"
    ),
    baseline: BaselineOption = None,
    tolerance: ToleranceOption = 0.01,
) -> None:
    """Measure PII detection per entity type: recall, precision, F1 and time per snippet."""
    settings = _settings()
    before = load_baseline(baseline, tolerance)
    detector = PiiDetector(settings.pii)
    try:
        snippets = read_snippets(file)
        result = evaluate(snippets, detector.find, detector.entity_types)
    except (InvalidInputError, ConfigurationError) as exc:
        raise fail(exc.message) from None
    console.print(_table(file, result))
    current = build_report(
        EVAL_NAME,
        result.metrics(),
        settings={
            "file": str(file),
            "file_sha256": file_digest(file),
            "snippets": len(snippets),
            "detector": "governance.pii.PiiDetector (presidio + validated recognizers)",
            "match_rule": "a found span overlaps a gold span of the same type",
            "entities": list(detector.entity_types),
            "names_and_locations": settings.pii.names_and_locations,
            "min_score": settings.pii.min_score,
            "spacy_model": settings.pii.spacy_model,
        },
        details=details(result),
    )
    save(report, current)
    console.print(f"Report written to {escape(str(report))}")
    verdict(current, before, baseline, tolerance, console)


def _table(file: Path, result: PiiEval) -> Table:
    clean = (
        f"; hard negatives with nothing found: {result.clean_negatives}/{result.negatives}"
        if result.negatives
        else ""
    )
    table = Table(
        title=escape(f"PII detection on {file.name} (overlap of the same type counts)"),
        caption=f"{result.snippet_ms:.2f} ms per snippet warm, first call"
        f" {result.first_call_ms:.0f} ms{clean}",
    )
    table.add_column("entity", justify="left")
    for header in ("support", "found", "recall", "precision", "F1"):
        table.add_column(header, justify="right")
    for i, (name, counts) in enumerate((*result.groups.items(), *result.types.items())):
        if i == len(result.groups) and result.groups:
            table.add_section()
        table.add_row(
            escape(name),
            str(counts.support),
            str(counts.found),
            _number(counts.recall),
            _number(counts.precision),
            _number(counts.f1),
            style="bold" if name in result.groups else None,
        )
    return table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _settings() -> Settings:
    try:
        return get_settings()
    except (ValueError, ConfigurationError) as exc:
        raise fail(f"invalid configuration: {exc}") from None
