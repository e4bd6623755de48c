"""`ragline eval retrieval DIR` as a user runs it: the table, the report, the baseline gate.

The command is registered on a Typer app here the way ``ragline.cli`` registers it
(``eval_app.command("retrieval")(retrieval)``) and driven through Click's runner, in
this process, on the tiny BEIR set of ``tests/service/test_eval_retrieval.py``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evals.report import read_report
from kernel.settings import get_settings
from ragline.eval_retrieval_cmd import retrieval
from tests.service.test_eval_retrieval import QUERIES, write_beir

pytestmark = pytest.mark.e2e


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    eval_app = typer.Typer()
    eval_app.command("retrieval")(retrieval)
    app.add_typer(eval_app, name="eval")
    return app


@pytest.fixture
def served_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The data directory the environment names: the eval must never write there."""
    served = tmp_path / "served"
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(served))
    get_settings.cache_clear()
    yield served
    get_settings.cache_clear()


def test_eval_writes_the_report_then_gates_on_a_baseline(
    tmp_path: Path, served_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_beir(tmp_path / "tiny")
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))
    report = tmp_path / "out" / "eval.json"
    runner = CliRunner()

    first = runner.invoke(_app(), ["eval", "retrieval", str(folder), "--report", str(report)])

    assert first.exit_code == 0, first.output
    for header in ("nDCG@10", "R@10", "R@100", "MRR@10", "p50 ms", "p95 ms"):
        assert header in first.output
    for mode in ("bm25", "dense", "hybrid", "rank_bm25"):
        assert mode in first.output
    written = read_report(report)
    assert written["eval"] == "retrieval"
    assert written["settings"]["queries"] == len(QUERIES)
    assert written["metrics"]["hybrid.recall@10"] == 1.0
    assert not served_dir.exists()
    # The temporary data directory is gone (torch may leave a cache of its own there).
    assert [p for p in scratch_root.iterdir() if p.name.startswith("ragline-eval-")] == []

    baseline = json.loads(report.read_text())
    baseline["metrics"]["hybrid.ndcg@10"] += 0.5
    baseline["metrics"]["dense.latency_p95_ms"] = 0.0  # timings are never gated
    baseline_path = tmp_path / "baseline.json"
    baseline_path.write_text(json.dumps(baseline))
    kept = tmp_path / "kept"

    gated = runner.invoke(
        _app(),
        [
            "eval", "retrieval", str(folder), "--report", str(report),
            "--baseline", str(baseline_path), "--data-dir", str(kept),
        ],
    )  # fmt: skip

    assert gated.exit_code == 1, gated.output
    assert "1 regression(s)" in gated.output
    assert "hybrid.ndcg@10" in gated.output
    assert "latency" not in gated.output.split("regression(s)")[1]
    assert (kept / "registry.db").is_file()  # --data-dir keeps the scratch index

    within = runner.invoke(
        _app(),
        [
            "eval", "retrieval", str(folder), "--report", str(tmp_path / "again.json"),
            "--baseline", str(report), "--data-dir", str(kept),
        ],
    )  # fmt: skip
    assert within.exit_code == 0, within.output


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda tmp: [str(tmp / "missing")], "is not a folder"),
        (lambda tmp: [str(tmp / "tiny"), "--split", "dev"], "no split 'dev'"),
        (
            lambda tmp: [str(tmp / "tiny"), "--baseline", str(tmp / "tiny" / "corpus.jsonl")],
            "cannot be read",
        ),
        (lambda tmp: [str(tmp / "tiny"), "--tolerance", "-1"], "--tolerance must be >= 0"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_1(
    tmp_path: Path, served_dir: Path, make_args: object, message: str
) -> None:
    write_beir(tmp_path / "tiny")
    args = make_args(tmp_path)  # type: ignore[operator]
    result = CliRunner().invoke(_app(), ["eval", "retrieval", *args])
    assert result.exit_code == 1
    assert "error:" in result.output and message in result.output
    assert not served_dir.exists()
