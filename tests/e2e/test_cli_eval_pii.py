"""`ragline eval pii` as CI runs it: the project's golden set, a report, a baseline gate.

The command runs in this process through typer's runner, registered on a small app
the way ``ragline/eval_cli.py`` registers it, with its settings read from the
environment as on a real shell. The golden set runs once with the real spaCy model;
the gate and input checks run on small files with names off, which needs no model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from kernel.settings import get_settings
from ragline.eval_pii_cmd import pii

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).resolve().parents[2] / "evals" / "golden" / "pii.jsonl"
STRUCTURED = ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "ES_NIF")
NAMES_OFF = {"RAGLINE_PII__NAMES_AND_LOCATIONS": "false"}


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    eval_app = typer.Typer()
    eval_app.command("pii")(pii)

    @eval_app.command("other")  # a second command, so "pii" is a subcommand as in ragline
    def _other() -> None: ...

    app.add_typer(eval_app, name="eval")
    return app


def run(tmp_path: Path, *args: str, **env: str) -> Result:
    get_settings.cache_clear()  # each command reads the environment, as a new process would
    environment: dict[str, str | None] = {
        "RAGLINE_DATA_DIR": str(tmp_path / "data"),
        "RAGLINE_PII__NAMES_AND_LOCATIONS": None,
        "RAGLINE_PII__ENTITIES": None,
        "RAGLINE_PII__MIN_SCORE": None,
        "COLUMNS": "200",
        **env,
    }
    try:
        return CliRunner().invoke(_app(), ["eval", "pii", *args], env=environment)
    finally:
        get_settings.cache_clear()


def rows(output: str) -> dict[str, list[str]]:
    """The cells of every table line of ``output`` (header included), keyed by the first cell."""
    found = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if len(cells) == 6:
            found[cells[0]] = cells[1:]
    return found


def small_set(tmp_path: Path) -> Path:
    lines = [
        {"text": "mail a@b.com now", "entities": [{"type": "EMAIL", "start": 5, "end": 12}]},
        {
            "text": "call +1 646 813 2290 or Anna",
            "entities": [
                {"type": "PHONE", "start": 5, "end": 20, "text": "+1 646 813 2290"},
                {"type": "PERSON", "start": 24, "end": 28},
            ],
        },
        {"text": "Order #4815162342 shipped", "entities": []},
        {"text": "ISBN 978-0-306-40615-7", "entities": []},
    ]
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_the_golden_set_meets_the_goals_and_gives_a_report_and_a_table(tmp_path: Path) -> None:
    report_path = tmp_path / "out" / "pii.json"
    result = run(tmp_path, str(GOLDEN), "--report", str(report_path))
    assert result.exit_code == 0, result.output

    report: dict[str, Any] = json.loads(report_path.read_text())
    assert report["eval"] == "pii"
    assert report["settings"]["match_rule"] == "a found span overlaps a gold span of the same type"
    assert report["settings"]["snippets"] >= 300
    metrics = report["metrics"]
    assert metrics["structured.recall"] >= 0.97
    assert metrics["structured.precision"] >= 0.95
    for kind in (*STRUCTURED, "PERSON", "LOCATION", "names"):
        assert {f"{kind}.recall", f"{kind}.precision", f"{kind}.f1"} <= set(metrics)
    assert metrics["all.snippet_ms"] > 0
    assert 0.9 <= metrics["hard_negatives.clean_rate"] <= 1.0
    counts = report["details"]["counts"]
    assert counts["structured"]["support"] == sum(counts[t]["support"] for t in STRUCTURED)
    assert report["details"]["hard_negatives"]["snippets"] >= 100

    table = rows(result.stdout)
    assert table["entity"] == ["support", "found", "recall", "precision", "F1"]
    assert set(table) == {"entity", "structured", "names", *STRUCTURED, "PERSON", "LOCATION"}
    assert table["EMAIL"][0] == str(counts["EMAIL"]["support"])
    assert table["PERSON"][2] == f"{metrics['PERSON.recall']:.3f}"
    assert "ms per snippet warm" in result.stdout


def test_names_off_scores_only_the_structured_types(tmp_path: Path) -> None:
    report_path = tmp_path / "r.json"
    result = run(tmp_path, str(small_set(tmp_path)), "--report", str(report_path), **NAMES_OFF)
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["settings"]["entities"] == list(STRUCTURED)
    assert "PERSON.recall" not in report["metrics"]
    assert report["metrics"]["structured.recall"] == 1.0
    assert report["metrics"]["structured.precision"] == 1.0
    assert report["metrics"]["hard_negatives.clean_rate"] == 1.0
    assert report["details"]["counts"]["PHONE"] == {
        "support": 1, "recalled": 1, "found": 1, "correct": 1,
    }  # fmt: skip


def test_a_baseline_above_what_is_reached_fails_naming_the_metric(tmp_path: Path) -> None:
    data = small_set(tmp_path)
    first = tmp_path / "first.json"
    assert run(tmp_path, str(data), "--report", str(first), **NAMES_OFF).exit_code == 0
    same = run(
        tmp_path, str(data), "--report", str(tmp_path / "s.json"), "--baseline", str(first),
        "--tolerance", "0.01", **NAMES_OFF,
    )  # fmt: skip
    assert same.exit_code == 0, same.output
    assert "No regression" in same.stdout

    baseline: dict[str, Any] = json.loads(first.read_text())
    baseline["metrics"]["EMAIL.f1"] = 1.5
    baseline["metrics"]["all.snippet_ms"] = 0.0  # timings are never gated
    higher = tmp_path / "higher.json"
    higher.write_text(json.dumps(baseline))
    worse = run(
        tmp_path, str(data), "--report", str(tmp_path / "w.json"), "--baseline", str(higher),
        **NAMES_OFF,
    )  # fmt: skip
    assert worse.exit_code == 1
    assert "1 regression(s)" in worse.stderr
    assert "EMAIL.f1: 1.0000 against the baseline's 1.5000" in worse.stderr
    assert (tmp_path / "w.json").is_file()


def test_a_bad_span_fails_with_its_line_and_writes_no_report(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    good = json.dumps({"text": "a@b.com", "entities": [{"type": "EMAIL", "start": 0, "end": 7}]})
    bad = json.dumps(
        {"text": "a@b.com", "entities": [{"type": "EMAIL", "start": 0, "end": 7, "text": "a@b"}]}
    )
    data.write_text(f"{good}\n\n{bad}\n")
    report = tmp_path / "r.json"
    result = run(tmp_path, str(data), "--report", str(report), **NAMES_OFF)
    assert result.exit_code == 1
    assert f"error: {data} line 3, entity 1: `text` is 'a@b' but the span holds" in result.stderr
    assert not report.exists()


def test_a_missing_file_fails_with_a_one_line_reason(tmp_path: Path) -> None:
    result = run(tmp_path, str(tmp_path / "absent.jsonl"), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'absent.jsonl'} does not exist"
