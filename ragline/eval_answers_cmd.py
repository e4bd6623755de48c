"""``ragline eval answers GOLDEN.jsonl``: golden questions through a scratch ragline's ``/ask``.

The golden documents go into their own data directory (a temporary one unless
``--data-dir`` names one), opened in embedded mode whatever the environment says
about servers (``ragline.eval_retrieval_cmd.scratch_settings``), so an eval never
writes a production index. The models, the retrieval and the answer settings come
from the environment: they are what is measured. A models file
(``RAGLINE_MODELS_FILE``) is kept, so generated answers are measured when one is
configured; without one the answers are extractive, as the service gives them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from answer.extractive import MIN_OVERLAP
from evals.answers_eval import BUCKETS_FILE, GoldenSet, evaluate_answers, load_golden
from evals.report import TIMING_SUFFIX
from kernel.errors import ConfigurationError, RaglineError
from kernel.settings import get_settings
from ragline.eval_gate import BaselineOption, ToleranceOption, fail, load_baseline, save, verdict
from ragline.eval_retrieval_cmd import RichProgress, scratch_dir, scratch_settings

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def answers(
    golden: Annotated[
        Path,
        typer.Argument(
            help="JSONL of questions: id, question, expected_source (file name or null),"
            " expected_terms, unanswerable, role_check?",
            show_default=False,
        ),
    ],
    docs: Annotated[
        Path | None,
        typer.Option(
            help=f"The folder holding {BUCKETS_FILE} and the documents it names"
            " (default: GOLDEN's folder)."
        ),
    ] = None,
    report: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
        "eval-answers.json"
    ),
    baseline: BaselineOption = None,
    tolerance: ToleranceOption = 0.01,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Scratch data directory to ingest into and keep (default: a temporary one). "
            "A second run on the same one skips unchanged documents; use it for evals only."
        ),
    ] = None,
) -> None:
    """Measure answers on a golden set: citations, answer terms, abstention, grounding, roles.

    The documents of DOCS/buckets.json are ingested through ragline's pipeline into a
    scratch data directory; every question is asked through the answer service with
    every golden role, and the role-checked ones again without the restricted roles.
    Prints the metrics and the failed questions, writes a JSON report; with
    --baseline, exits 1 on a regression.
    """
    before = load_baseline(baseline, tolerance)
    try:
        golden_set = load_golden(golden, docs if docs is not None else golden.parent)
        with scratch_dir(data_dir) as scratch:
            current = _run(golden_set, scratch, golden)
    except RaglineError as exc:
        raise fail(exc.message) from None
    save(report, current)
    console.print(_table(current["metrics"]))
    _print_failures(current["details"]["failures"])
    settings = current["settings"]
    console.print(
        f"{settings['questions']} questions ({settings['unanswerable']} unanswerable,"
        f" {settings['role_checked']} role-checked) over {settings['documents']} documents;"
        f" report: {escape(str(report))}"
    )
    verdict(current, before, baseline, tolerance, console)


def _run(golden_set: GoldenSet, data_dir: Path, golden: Path) -> dict[str, Any]:
    from ragline.runtime import open_runtime

    try:
        base = get_settings()
        settings = scratch_settings(base, data_dir).model_copy(
            update={"models_file": base.models_file}
        )
    except (ValueError, ConfigurationError) as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from None
    runtime = open_runtime(settings)
    try:
        with RichProgress() as progress:
            return evaluate_answers(
                golden_set,
                runtime.ingestion,
                runtime.answers,
                progress=progress,
                settings={
                    "golden": str(golden),
                    "top_k": settings.retrieval.top_k,
                    "min_relevance": settings.answer.min_relevance,
                    "min_overlap": MIN_OVERLAP,
                    "min_grounding": settings.answer.min_grounding,
                    "generates": runtime.answers.generates,
                },
            )
    finally:
        runtime.close()


def _table(metrics: dict[str, float]) -> Table:
    table = Table(title="Answers")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.1f}" if name.endswith(TIMING_SUFFIX) else f"{value:.3f}")
    return table


def _print_failures(failures: dict[str, list[str]]) -> None:
    if not failures:
        console.print("Every question passed.")
        return
    console.print(f"[bold]{len(failures)} failed question(s):[/]")
    for question_id, reasons in failures.items():
        console.print(f"  {escape(question_id)}: {escape('; '.join(reasons))}")
