"""``ragline eval grounding FILE``: how well the grounding score tells supported from invented.

Scores every labelled answer of FILE with the service's grounding check and the
service's settings (``RAGLINE_ANSWER__MIN_SUPPORT``; the threshold defaults to
``RAGLINE_ANSWER__MIN_GROUNDING``, the score below which the service acts on an
answer), prints AUROC and balanced accuracy overall and per perturbation, and writes
the JSON report. With ``--baseline`` it is a gate: any metric worse than the
baseline's by more than ``--tolerance`` exits 1, naming the metric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evals.grounding_eval import (
    EVAL_NAME,
    GroundingEval,
    ServiceGrounding,
    details,
    evaluate,
    file_digest,
    read_labelled,
)
from evals.report import build_report
from kernel.errors import ConfigurationError, InvalidInputError
from kernel.settings import Settings, get_settings
from ragline.cli_database import fail
from ragline.eval_gate import BaselineOption, ToleranceOption, load_baseline, save, verdict

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def grounding(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSONL of pairs (knowledge, question, right_answer, hallucinated_answer)"
            " or labelled rows (source, question?, answer, label 1|0); perturbation optional.",
            show_default=False,
        ),
    ],
    report: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
        "eval-grounding.json"
    ),
    baseline: BaselineOption = None,
    tolerance: ToleranceOption = 0.01,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Score at or above which an answer counts as supported"
            " (default: RAGLINE_ANSWER__MIN_GROUNDING).",
        ),
    ] = None,
) -> None:
    """Measure how well the grounding score separates supported from hallucinated answers."""
    settings = _settings()
    cut = settings.answer.min_grounding if threshold is None else threshold
    before = load_baseline(baseline, tolerance)
    try:
        answers = read_labelled(file)
        result = evaluate(answers, ServiceGrounding(settings.answer.min_support), threshold=cut)
    except InvalidInputError as exc:
        raise fail(exc.message) from None
    console.print(_table(file, result))
    current = build_report(
        EVAL_NAME,
        result.metrics(),
        settings={
            "file": str(file),
            "file_sha256": file_digest(file),
            "scorer": "service grounding (answer.grounding.ground)",
            "threshold": cut,
            "min_support": settings.answer.min_support,
        },
        details=details(answers, result),
    )
    save(report, current)
    console.print(f"Report written to {escape(str(report))}")
    verdict(current, before, baseline, tolerance, console)


def _table(file: Path, result: GroundingEval) -> Table:
    table = Table(
        title=escape(f"Grounding on {file.name} (threshold {result.threshold:g})"),
        caption=f"{result.scoring_ms:.2f} ms per answer",
    )
    table.add_column("answers", justify="left")
    for header in ("n", "AUROC", "balanced acc."):
        table.add_column(header, justify="right")
    for i, group in enumerate(result.groups):
        table.add_row(
            escape(group.name),
            str(group.n),
            _number(group.auroc),
            _number(group.balanced_accuracy),
            style="bold" if i == 0 else None,
        )
        if i == 0 and len(result.groups) > 1:
            table.add_section()
    return table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _settings() -> Settings:
    try:
        return get_settings()
    except (ValueError, ConfigurationError) as exc:
        raise fail(f"invalid configuration: {exc}") from None
