"""``ragline eval retrieval DIR``: a BEIR folder through a scratch ragline, as a table and a report.

The corpus goes into its own data directory (a temporary one unless ``--data-dir``
names one), never into the one ``RAGLINE_DATA_DIR`` serves: the runtime is opened in
embedded mode on the local registry and the in-process index, whatever the
environment says about servers, so an eval can never write a production index. The
models and the retrieval settings (``RAGLINE_MODELS__*``, ``RAGLINE_RETRIEVAL__*``) do
come from the environment: they are what is being measured.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evals.beir import load_beir
from evals.retrieval_eval import EVAL_BUCKET, MODES, evaluate_retrieval
from kernel.errors import ConfigurationError, RaglineError
from kernel.settings import (
    BrokerSettings,
    BucketSettings,
    QdrantSettings,
    S3Settings,
    Settings,
    get_settings,
)
from ragline.cli_database import fail
from ragline.eval_gate import BaselineOption, ToleranceOption, load_baseline, save, verdict

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

#: Table columns: header, metric suffix, format.
_COLUMNS = (
    ("nDCG@10", "ndcg@10", "{:.3f}"),
    ("R@10", "recall@10", "{:.3f}"),
    ("R@100", "recall@100", "{:.3f}"),
    ("MRR@10", "mrr@10", "{:.3f}"),
    ("p50 ms", "latency_p50_ms", "{:.1f}"),
    ("p95 ms", "latency_p95_ms", "{:.1f}"),
)


def retrieval(
    directory: Annotated[
        Path,
        typer.Argument(help="A BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/*.tsv."),
    ],
    split: Annotated[
        str | None,
        typer.Option(
            help="The qrels file to use (qrels/NAME.tsv; default: test, or the only one)."
        ),
    ] = None,
    report: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
        "eval-retrieval.json"
    ),
    baseline: BaselineOption = None,
    tolerance: ToleranceOption = 0.01,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Scratch data directory to ingest into and keep (default: a temporary one). "
            "A second run on the same one skips unchanged passages; use it for evals only."
        ),
    ] = None,
    limit_queries: Annotated[
        int | None, typer.Option(help="Evaluate only the first N judged queries (by id).")
    ] = None,
) -> None:
    """Measure retrieval on a BEIR-format set: BM25, dense, hybrid and a rank_bm25 reference.

    The corpus is ingested through ragline's own pipeline into a scratch data directory
    (bucket `eval`, role `eval`); every judged query is run through the retriever on
    each side. Prints nDCG@10, Recall@10/100, MRR@10 and latency per mode and writes a
    JSON report; with --baseline, exits 1 on a regression.
    """
    before = load_baseline(baseline, tolerance)
    try:
        dataset = load_beir(directory, split)
        with scratch_dir(data_dir) as scratch:
            current = _run(dataset, scratch, directory, limit_queries)
    except RaglineError as exc:
        raise fail(exc.message) from None
    save(report, current)
    _print_table(current["metrics"])
    console.print(
        f"{current['settings']['queries']} queries over {current['settings']['passages']} "
        f"passages ({current['details']['failed_passages']} failed to ingest); "
        f"report: {report}"
    )
    verdict(current, before, baseline, tolerance, console)


def scratch_settings(base: Settings, data_dir: Path) -> Settings:
    """``base`` pointed at ``data_dir``, embedded, with every remote store switched off."""
    return base.model_copy(
        update={
            "mode": "embedded",
            "data_dir": data_dir,
            "database_url": None,
            "api_keys": SecretStr(""),
            "qdrant": QdrantSettings(),
            "broker": BrokerSettings(),
            "buckets": BucketSettings(),
            "s3": S3Settings(),
            "models_file": None,
        }
    )


def _run(dataset: Any, data_dir: Path, directory: Path, limit_queries: int | None) -> Any:
    from ragline.runtime import open_runtime

    try:
        settings = scratch_settings(get_settings(), data_dir)
    except (ValueError, ConfigurationError) as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from None
    runtime = open_runtime(settings)
    try:
        with RichProgress() as progress:
            return evaluate_retrieval(
                dataset,
                runtime.ingestion,
                runtime.retriever,
                limit_queries=limit_queries,
                progress=progress,
                settings={"dataset": str(directory), "bucket": EVAL_BUCKET},
            )
    finally:
        runtime.close()


@contextmanager
def scratch_dir(data_dir: Path | None) -> Iterator[Path]:
    if data_dir is not None:
        yield data_dir
        return
    with tempfile.TemporaryDirectory(prefix="ragline-eval-") as temporary:
        yield Path(temporary) / "data"


class RichProgress:
    """``evals.retrieval_eval.Progress`` as one rich bar per stage."""

    def __init__(self) -> None:
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def stage(self, description: str, total: int) -> None:
        self._task = self._bar.add_task(description, total=total)

    def advance(self) -> None:
        if self._task is not None:
            self._bar.advance(self._task)


def _print_table(found: dict[str, float]) -> None:
    table = Table(title="Retrieval")
    table.add_column("mode")
    for header, _, _ in _COLUMNS:
        table.add_column(header, justify="right")
    for mode in MODES:
        table.add_row(
            mode,
            *(
                fmt.format(found[f"{mode}.{suffix}"]) if f"{mode}.{suffix}" in found else "-"
                for _, suffix, fmt in _COLUMNS
            ),
        )
    console.print(table)
