"""`ragline eval grounding` as CI runs it: the project's golden set, a report, a baseline gate.

The command runs in this process through typer's runner, registered on a small app
the way ``ragline/cli.py`` registers it under ``eval``, with its settings read from
the environment as on a real shell. The input is the project's own labelled set,
``evals/golden/grounding.jsonl``, scored with the service's real grounding check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from kernel.settings import get_settings
from ragline.eval_grounding_cmd import grounding

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).resolve().parents[2] / "evals" / "golden" / "grounding.jsonl"
PERTURBATIONS = {
    "wrong_number",
    "wrong_entity",
    "negation_flip",
    "unsupported_addition",
    "partially_supported",
    "summary",
}


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    eval_app = typer.Typer()
    eval_app.command("grounding")(grounding)

    @eval_app.command("other")  # a second command, so "grounding" is a subcommand as in ragline
    def _other() -> None: ...

    app.add_typer(eval_app, name="eval")
    return app


def run(tmp_path: Path, *args: str, **env: str) -> Result:
    get_settings.cache_clear()  # each command reads the environment, as a new process would
    environment = {
        "RAGLINE_DATA_DIR": str(tmp_path / "data"),
        "RAGLINE_ANSWER__MIN_GROUNDING": None,
        "RAGLINE_ANSWER__MIN_SUPPORT": None,
        "COLUMNS": "200",
        **env,
    }
    try:
        return CliRunner().invoke(_app(), ["eval", "grounding", *args], env=environment)
    finally:
        get_settings.cache_clear()


def rows(output: str) -> dict[str, list[str]]:
    """The cells of every table line of ``output`` (header included), keyed by the first cell."""
    found = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if len(cells) == 4:
            found[cells[0]] = cells[1:]
    return found


def test_the_golden_set_gives_a_report_and_a_table(tmp_path: Path) -> None:
    report_path = tmp_path / "out" / "grounding.json"
    result = run(tmp_path, str(GOLDEN), "--report", str(report_path))
    assert result.exit_code == 0, result.output

    report: dict[str, Any] = json.loads(report_path.read_text())
    assert report["eval"] == "grounding"
    metrics = report["metrics"]
    assert set(metrics) == {"all.auroc", "all.balanced_accuracy", "all.scoring_ms"} | {
        f"{p}.auroc" for p in PERTURBATIONS
    }
    for name, value in metrics.items():
        if not name.endswith("_ms"):
            assert 0.0 <= value <= 1.0, name
    assert metrics["all.scoring_ms"] > 0
    assert report["settings"]["threshold"] == 0.5  # the default RAGLINE_ANSWER__MIN_GROUNDING
    groups = report["details"]["groups"]
    assert groups["all"]["n"] >= 40
    assert groups["all"]["n"] == sum(groups[p]["n"] for p in PERTURBATIONS)
    assert all(groups[p]["supported"] and groups[p]["hallucinated"] for p in PERTURBATIONS)

    table = rows(result.stdout)
    assert set(table) == {"answers", "all"} | PERTURBATIONS
    assert table["answers"] == ["n", "AUROC", "balanced acc."]
    assert table["all"] == [
        str(groups["all"]["n"]),
        f"{metrics['all.auroc']:.3f}",
        f"{metrics['all.balanced_accuracy']:.3f}",
    ]
    assert table["wrong_number"][1] == f"{metrics['wrong_number.auroc']:.3f}"


def test_the_threshold_comes_from_the_settings_and_the_option_overrides_it(
    tmp_path: Path,
) -> None:
    configured = run(
        tmp_path, str(GOLDEN), "--report", str(tmp_path / "a.json"),
        RAGLINE_ANSWER__MIN_GROUNDING="0",
    )  # fmt: skip
    assert configured.exit_code == 0, configured.output
    by_settings = json.loads((tmp_path / "a.json").read_text())
    assert by_settings["settings"]["threshold"] == 0.0
    # at 0 every answer counts as supported: all supported found, no hallucination caught
    assert by_settings["metrics"]["all.balanced_accuracy"] == 0.5

    overridden = run(
        tmp_path, str(GOLDEN), "--report", str(tmp_path / "b.json"), "--threshold", "0.75",
        RAGLINE_ANSWER__MIN_GROUNDING="0",
    )  # fmt: skip
    assert overridden.exit_code == 0, overridden.output
    by_option = json.loads((tmp_path / "b.json").read_text())
    assert by_option["settings"]["threshold"] == 0.75
    assert by_option["metrics"]["all.balanced_accuracy"] != 0.5
    assert by_option["metrics"]["all.auroc"] == by_settings["metrics"]["all.auroc"]


def test_a_baseline_above_what_is_reached_fails_naming_the_metric(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    assert run(tmp_path, str(GOLDEN), "--report", str(first)).exit_code == 0
    baseline: dict[str, Any] = json.loads(first.read_text())

    same = run(
        tmp_path, str(GOLDEN), "--report", str(tmp_path / "same.json"), "--baseline", str(first)
    )
    assert same.exit_code == 0, same.output
    assert "No regression" in same.stdout

    reached = baseline["metrics"]["all.auroc"]
    baseline["metrics"]["all.auroc"] = reached + 0.5
    baseline["metrics"]["all.scoring_ms"] = 0.0  # timings are never gated
    higher = tmp_path / "higher.json"
    higher.write_text(json.dumps(baseline))
    worse = run(
        tmp_path, str(GOLDEN), "--report", str(tmp_path / "worse.json"), "--baseline", str(higher)
    )
    assert worse.exit_code == 1
    assert "1 regression(s)" in worse.stderr
    assert f"all.auroc: {reached:.4f} against the baseline's {reached + 0.5:.4f}" in worse.stderr
    assert "scoring_ms" not in worse.stderr
    assert (tmp_path / "worse.json").is_file()  # the report is written either way

    tolerant = run(
        tmp_path, str(GOLDEN), "--report", str(tmp_path / "t.json"),
        "--baseline", str(higher), "--tolerance", "0.6",
    )  # fmt: skip
    assert tolerant.exit_code == 0, tolerant.output


def test_a_baseline_of_another_eval_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "retrieval.json"
    other.write_text(json.dumps({"eval": "retrieval", "metrics": {"hybrid.ndcg@10": 0.8}}))
    result = run(
        tmp_path, str(GOLDEN), "--report", str(tmp_path / "r.json"), "--baseline", str(other)
    )
    assert result.exit_code == 1
    assert "error: the baseline is a report of `retrieval`, not `grounding`" in result.stderr


def test_a_bad_row_fails_with_its_line_and_writes_no_report(tmp_path: Path) -> None:
    good = GOLDEN.read_text().splitlines()[0]
    bad = json.dumps({"source": "The fee is 40 EUR.", "answer": "40 EUR.", "label": "yes"})
    data = tmp_path / "bad.jsonl"
    data.write_text(f"{good}\n{good}\n{bad}\n")
    report = tmp_path / "r.json"
    result = run(tmp_path, str(data), "--report", str(report))
    assert result.exit_code == 1
    assert f"error: {data} line 3: `label` must be 1 (supported) or 0" in result.stderr
    assert not report.exists()


def test_a_missing_file_fails_with_a_one_line_reason(tmp_path: Path) -> None:
    result = run(tmp_path, str(tmp_path / "absent.jsonl"), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'absent.jsonl'} does not exist"
