"""`ragline eval answers --judge` charges its judge to the usage ledger `ragline cost` reads.

The golden subset and the writer and judge doubles are those of
tests/e2e/test_cli_eval_answers_judge.py (two answered questions, so four judge calls),
with a third double, ``backup``, as the judge's fallback. The eval answers in a scratch
data directory, but the judge's lines go to the configured one (``RAGLINE_DATA_DIR``'s
real SQLite registry), where an answer of team ``search`` was already recorded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from sqlalchemy import create_engine
from typer.testing import CliRunner, Result

import ragline.runtime
from kernel.settings import get_settings
from ragline.cost_cli import cost
from ragline.eval_answers_cmd import answers
from ragline.schema import ensure_schema
from tests.e2e.test_cli_eval_answers import GOLDEN, QUESTIONS
from tests.e2e.test_cli_eval_answers_judge import SUBSET, _judge, _writer
from tests.llm_double import ChatDouble, serve
from usage.ledger import UsageEvent, UsageLedger

pytestmark = pytest.mark.e2e

PRICES = {"writer": (0.0, 0.0), "judge": (1.0, 2.0), "backup": (3.0, 5.0)}
SINCE = datetime.now(UTC) - timedelta(hours=1)


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    eval_app = typer.Typer()
    eval_app.command("answers")(answers)

    @eval_app.command("other")  # a second command, so "answers" is a subcommand as in ragline
    def _other() -> None: ...

    app.add_typer(eval_app, name="eval")
    app.command("cost")(cost)
    return app


@pytest.fixture(scope="module")
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("writer", "judge", "backup") as started:
        started["writer"].reply = _writer
        started["judge"].reply = _judge
        started["backup"].reply = _judge
        yield started


def _models_file(path: Path, doubles: dict[str, ChatDouble], budgets: dict[str, Any]) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "deployments": [
                    {
                        "name": name,
                        "model": f"openai/{name}-model",
                        "api_base": doubles[name].api_base,
                        "api_key_env": "DOUBLE_KEY",
                        "tier": "frontier" if name == "writer" else "fast",
                        "input_price_per_mtok": PRICES[name][0],
                        "output_price_per_mtok": PRICES[name][1],
                        "timeout_s": 5,
                    }
                    for name in ("writer", "judge", "backup")
                ],
                "routing": {
                    "default_tier": "frontier",
                    "allowed_fails": 1000,
                    "fallbacks": {"judge": ["backup"]},
                },
                "budgets": budgets,
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def root(
    tmp_path_factory: pytest.TempPathFactory, embedder: Any, doubles: dict[str, ChatDouble]
) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("eval-judge-ledger")
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    (root / "questions.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows if row["id"] in SUBSET)
    )
    _models_file(root / "models.yaml", doubles, {})
    # any spend reaches team capped's daily limit: its first judge call is its last
    _models_file(root / "capped.yaml", doubles, {"teams": {"capped": {"daily_hard_usd": 0.000001}}})
    served = root / "served"
    served.mkdir()
    url = f"sqlite:///{served / 'registry.db'}"
    ensure_schema(url, auto_upgrade=True)
    engine = create_engine(url)
    UsageLedger(engine).record(
        UsageEvent(
            answer_id="an-answer",
            key_id="k-search",
            key_name="ci-bot",
            team="search",
            deployment="writer",
            prompt_tokens=1000,
            completion_tokens=100,
            cost_usd=0.25,
            created_at=datetime.now(UTC),
        )
    )
    engine.dispose()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOUBLE_KEY", "sk-double-not-a-secret")
        patch.setattr(
            ragline.runtime,
            "open_runtime",
            functools.partial(ragline.runtime.open_runtime, dense=embedder),
        )
        yield root


def _invoke(root: Path, *args: str, models: str = "models.yaml") -> Result:
    get_settings.cache_clear()
    environment = {
        "RAGLINE_DATA_DIR": str(root / "served"),
        "RAGLINE_DATABASE_URL": None,
        "RAGLINE_MODE": None,
        "RAGLINE_MODELS_FILE": str(root / models),
        "COLUMNS": "300",
    }
    try:
        return CliRunner().invoke(_app(), list(args), env=environment)
    finally:
        get_settings.cache_clear()


def _judged(root: Path, report: str, *extra: str, models: str = "models.yaml") -> Result:
    return _invoke(
        root, "eval", "answers", str(root / "questions.jsonl"), "--docs", str(GOLDEN),
        "--report", str(root / report), "--data-dir", str(root / "kept"),
        "--judge", "judge", *extra, models=models,
    )  # fmt: skip


def _lines(root: Path, key_id: str) -> list[UsageEvent]:
    engine = create_engine(f"sqlite:///{root / 'served' / 'registry.db'}")
    try:
        return [e for e in UsageLedger(engine).events(SINCE) if e.key_id == key_id]
    finally:
        engine.dispose()


def _report(root: Path, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((root / name).read_text())
    return loaded


def test_each_judge_call_is_a_ledger_line_and_cost_shows_team_eval(
    root: Path, doubles: dict[str, ChatDouble]
) -> None:
    doubles["judge"].clear()
    result = _judged(root, "judged.json")

    assert result.exit_code == 0, result.output
    judge = _report(root, "judged.json")["details"]["judge"]
    ledger = judge["ledger"]
    assert (ledger["team"], ledger["key_name"]) == ("eval", "eval-judge")
    assert ledger["key_id"].startswith("eval:")
    assert (ledger["recorded"], ledger["unrecorded"], ledger["budget_stopped"]) == (4, 0, None)
    lines = _lines(root, ledger["key_id"])
    assert judge["calls"] == 4 == len(lines) == len(doubles["judge"].received())
    assert {(line.team, line.deployment, line.key_name) for line in lines} == {
        ("eval", "judge", "eval-judge")
    }
    assert sum(line.cost_usd for line in lines) == pytest.approx(judge["cost_usd"])
    assert sum(line.prompt_tokens for line in lines) == judge["prompt_tokens"]
    assert sum(line.completion_tokens for line in lines) == judge["completion_tokens"] == 4
    assert f"Charged to team eval (key {ledger['key_id']}) in the usage ledger: 4 line(s)." in (
        result.stdout
    )

    # `ragline cost` shows the eval's spend next to the answers'
    shown = _invoke(root, "cost", "--json", "--days", "1")
    assert shown.exit_code == 0, shown.output
    rows = {(r["team"], r["deployment"]): r for r in json.loads(shown.stdout)["rows"]}
    assert set(rows) == {("eval", "judge"), ("search", "writer")}
    assert rows[("eval", "judge")]["requests"] == 4
    assert rows[("eval", "judge")]["cost_per_day_usd"] == pytest.approx(judge["cost_usd"])
    assert rows[("search", "writer")]["cost_per_day_usd"] == pytest.approx(0.25)


def test_a_judge_that_fails_over_is_charged_as_the_fallback_and_a_down_one_not_at_all(
    root: Path, doubles: dict[str, ChatDouble]
) -> None:
    doubles["judge"].status = 500
    try:
        result = _judged(root, "fallback.json", "--team", "qa")
        doubles["backup"].status = 500
        down = _judged(root, "down.json", "--team", "qa")
    finally:
        doubles["judge"].status = doubles["backup"].status = 200

    assert result.exit_code == 0, result.output
    judge = _report(root, "fallback.json")["details"]["judge"]
    assert judge["deployments_used"] == ["backup"]
    lines = _lines(root, judge["ledger"]["key_id"])
    assert len(lines) == judge["calls"] == 4
    assert {(line.team, line.deployment) for line in lines} == {("qa", "backup")}
    assert sum(line.cost_usd for line in lines) == pytest.approx(judge["cost_usd"])

    assert down.exit_code == 0, down.output
    judge = _report(root, "down.json")["details"]["judge"]
    assert judge["calls"] == 0 and len(judge["errors"]) == 2
    assert judge["ledger"]["recorded"] == 0
    assert _lines(root, judge["ledger"]["key_id"]) == []


def test_a_team_at_its_hard_limit_stops_the_judge_then_refuses_to_start_it(
    root: Path, doubles: dict[str, ChatDouble]
) -> None:
    doubles["judge"].clear()
    result = _judged(root, "capped.json", "--team", "capped", models="capped.yaml")

    assert result.exit_code == 0, result.output
    judge = _report(root, "capped.json")["details"]["judge"]
    stopped = judge["ledger"]["budget_stopped"]
    assert stopped.startswith("team 'capped' has spent $") and "daily budget" in stopped
    assert judge["calls"] == judge["ledger"]["recorded"] == 1
    assert len(doubles["judge"].received()) == 1
    assert len(_lines(root, judge["ledger"]["key_id"])) == 1
    reasons = [r for q in judge["errors"].values() for r in q.values()]
    assert len(reasons) == 3 and all(r == f"the judge stopped: {stopped}" for r in reasons)
    assert "The judge stopped: team 'capped' has spent" in result.stdout

    again = _judged(root, "capped-again.json", "--team", "capped", models="capped.yaml")
    assert again.exit_code == 1
    assert again.stderr.strip().startswith(
        "error: the judge was not started: team 'capped' has spent $"
    )
    assert not (root / "capped-again.json").exists()
    assert len(doubles["judge"].received()) == 1
