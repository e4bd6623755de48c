"""``ragline eval answers GOLDEN.jsonl``: golden questions through a scratch ragline's ``/ask``.

The golden documents go into their own data directory (a temporary one unless
``--data-dir`` names one), opened in embedded mode whatever the environment says
about servers (``ragline.eval_retrieval_cmd.scratch_settings``), so an eval never
writes a production index. The models, the retrieval and the answer settings come
from the environment: they are what is measured. A models file
(``RAGLINE_MODELS_FILE``) is kept, so generated answers are measured when one is
configured; without one the answers are extractive, as the service gives them.

``--judge DEPLOYMENT`` adds LLM-as-judge verdicts (:mod:`evals.judge`): a named
deployment of the models file, through its own gateway built on
:func:`evals.judge.judge_models`. It is named, not taken from the routing default,
because a judge is the instrument: scores compare only between runs by the same judge,
and the routing default is the model that wrote the answers, grading itself. The
judge's calls are charged to ``--team`` (``eval``) in the configured usage ledger,
under that team's budget (``ragline.eval_judge_ledger``, ``evals.judge_spend``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from answer.extractive import MIN_OVERLAP
from evals.answers_eval import BUCKETS_FILE, GoldenSet, evaluate_answers, load_golden
from evals.judge import AnswerJudge, judge_models
from evals.judge_spend import EVAL_TEAM, ChargedGateway
from evals.report import TIMING_SUFFIX
from kernel.errors import ConfigurationError, InvalidInputError, RaglineError
from kernel.models_config import ModelsFile, load_models_file
from kernel.settings import Settings, get_settings
from ragline.cli_database import fail
from ragline.eval_gate import BaselineOption, ToleranceOption, load_baseline, save, verdict
from ragline.eval_judge_ledger import charged_judge_gateway
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
    judge: Annotated[
        str | None,
        typer.Option(
            metavar="DEPLOYMENT",
            help="Also score each answer's faithfulness and relevancy with this deployment"
            " of the models file (RAGLINE_MODELS_FILE) as the judge, through the gateway.",
            show_default=False,
        ),
    ] = None,
    team: Annotated[
        str,
        typer.Option(
            help="The team the judge's calls are charged to in the usage ledger"
            " (ragline cost, budgets).",
        ),
    ] = EVAL_TEAM,
) -> None:
    """Measure answers on a golden set: citations, answer terms, abstention, grounding, roles.

    The documents of DOCS/buckets.json are ingested through ragline's pipeline into a
    scratch data directory; every question is asked through the answer service with
    every golden role, and the role-checked ones again without the restricted roles.
    Prints the metrics and the failed questions, writes a JSON report; with
    --baseline, exits 1 on a regression.

    With --judge DEPLOYMENT, a judge model also says of each answered question whether
    the answer is supported by what it cites and responds to the question (llama-index's
    faithfulness and relevancy evaluators). The judge is a deployment you name, not the
    routing default: scores compare only between runs by the same judge, and the
    default is the model that wrote the answers. A question the judge cannot score
    (provider down) is listed with the reason; the run still ends with a report.
    """
    before = load_baseline(baseline, tolerance)
    try:
        golden_set = load_golden(golden, docs if docs is not None else golden.parent)
        judge_file = _judge_models(judge) if judge is not None else None
        with _charged(judge_file, team) as charged, scratch_dir(data_dir) as scratch:
            current = _run(golden_set, scratch, golden, judge_file, charged)
            if charged is not None and "judge" in current["details"]:
                current["details"]["judge"]["ledger"] = charged.summary()
    except RaglineError as exc:
        raise fail(exc.message) from None
    save(report, current)
    console.print(_table(current["metrics"]))
    _print_failures(current["details"]["failures"])
    if "judge" in current["details"]:
        _print_judge(current["details"]["judge"])
    settings = current["settings"]
    console.print(
        f"{settings['questions']} questions ({settings['unanswerable']} unanswerable,"
        f" {settings['role_checked']} role-checked) over {settings['documents']} documents;"
        f" report: {escape(str(report))}"
    )
    verdict(current, before, baseline, tolerance, console)


def _base_settings() -> Settings:
    try:
        return get_settings()
    except (ValueError, ConfigurationError) as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from None


def _judge_models(deployment: str) -> ModelsFile:
    """The judge's models file, checked before any work: a bad name should not cost a run."""
    models_file = _base_settings().models_file
    if models_file is None:
        raise InvalidInputError(
            "--judge needs a models file: set RAGLINE_MODELS_FILE to one naming the judge"
        )
    return judge_models(load_models_file(models_file), deployment)


def _charged(
    judge_file: ModelsFile | None, team: str
) -> AbstractContextManager[ChargedGateway | None]:
    """The judge's gateway, charged to ``team`` in the configured ledger; None without a judge."""
    if judge_file is None:
        return nullcontext()
    return charged_judge_gateway(judge_file, team)


def _run(
    golden_set: GoldenSet,
    data_dir: Path,
    golden: Path,
    judge_file: ModelsFile | None,
    charged: ChargedGateway | None,
) -> dict[str, Any]:
    from ragline.runtime import open_runtime

    base = _base_settings()
    try:
        settings = scratch_settings(base, data_dir).model_copy(
            update={"models_file": base.models_file}
        )
    except (ValueError, ConfigurationError) as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from None
    runtime = open_runtime(settings)
    try:
        judge = None
        if judge_file is not None and charged is not None:
            # Generating: the models file that names the judge is configured.
            assert runtime.generating is not None
            judge = AnswerJudge(
                charged,
                runtime.generating.deps.bucket_policies,
                judge_file.deployments[0],
            )
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
                judge=judge,
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


def _print_judge(summary: dict[str, Any]) -> None:
    errors: dict[str, dict[str, str]] = summary["errors"]
    console.print(
        f"Judged by {escape(summary['deployment'])}: {summary['judged']} answered question(s),"
        f" {summary['calls']} call(s), {summary['prompt_tokens']} + {summary['completion_tokens']}"
        f" tokens, ${summary['cost_usd']:.6f}."
    )
    if (ledger := summary.get("ledger")) is not None:
        console.print(
            f"Charged to team {escape(ledger['team'])} (key {escape(ledger['key_id'])})"
            f" in the usage ledger: {ledger['recorded']} line(s)."
        )
        if ledger["budget_stopped"]:
            console.print(f"[yellow]The judge stopped: {escape(ledger['budget_stopped'])}.[/]")
        for warning in ledger["budget_warnings"]:
            console.print(f"[yellow]Budget warning: {escape(warning)}.[/]")
        if ledger["unrecorded"]:
            console.print(
                f"[yellow]{ledger['unrecorded']} line(s) were not recorded:"
                " the database was unavailable.[/]"
            )
    if set(summary["deployments_used"]) - {summary["deployment"]}:
        used = ", ".join(summary["deployments_used"])
        console.print(f"[yellow]Some verdicts came from fallbacks ({escape(used)}).[/]")
    if errors:
        console.print(f"[bold]The judge could not score {len(errors)} question(s):[/]")
        for question_id, reasons in errors.items():
            text = "; ".join(f"{aspect}: {reason}" for aspect, reason in reasons.items())
            console.print(f"  {escape(question_id)}: {escape(text)}")
