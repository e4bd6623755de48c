"""`ragline cost` as finance runs it: a month of generated answers priced from recent usage.

The command runs in this process through typer's runner, registered on a small app
the way ``ragline/cli.py`` registers it, with its settings read from the
environment as on a real shell. The usage is written to the embedded registry by
the ledger, as answers would write it. Ten observed days: team ``search`` made three
answers on ``mini`` ($0.50, $1.00, $1.50), team ``legal`` one on ``big`` ($2.00);
an answer older than the window ($100) must not count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import create_engine
from typer.testing import CliRunner, Result

from kernel.settings import get_settings
from ragline.cost_cli import cost
from ragline.schema import ensure_schema
from usage.ledger import UsageEvent, UsageLedger

pytestmark = pytest.mark.e2e

MODELS_YAML = """\
deployments:
  - name: mini
    model: openai/gpt-4o-mini
    tier: fast
    input_price_per_mtok: 0.15
    output_price_per_mtok: 0.60
  - name: big
    model: openai/gpt-4o
    input_price_per_mtok: 2.50
    output_price_per_mtok: 10.0
  - name: backup
    model: openai/backup
    input_price_per_mtok: 3.0
    output_price_per_mtok: 15.0
"""


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("cost")(cost)

    @app.command("version")  # a second command, so "cost" is a subcommand as in ragline
    def _version() -> None: ...

    return app


class Shell:
    def __init__(self, data_dir: Path, models_file: Path | None) -> None:
        self.env = {
            "RAGLINE_DATA_DIR": str(data_dir),
            "RAGLINE_DATABASE_URL": None,
            "RAGLINE_MODE": None,
            "RAGLINE_MODELS_FILE": str(models_file) if models_file else None,
            "COLUMNS": "400",
        }

    def __call__(self, *args: str) -> Result:
        get_settings.cache_clear()  # each command reads the environment, as a new process would
        try:
            return CliRunner().invoke(_app(), ["cost", *args], env=self.env)
        finally:
            get_settings.cache_clear()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def models_file(tmp_path: Path) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(MODELS_YAML)
    return path


@pytest.fixture
def shell(data_dir: Path, models_file: Path) -> Shell:
    return Shell(data_dir, models_file)


@pytest.fixture
def usage(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{data_dir / 'registry.db'}"
    ensure_schema(url, auto_upgrade=True)
    engine = create_engine(url)
    ledger = UsageLedger(engine)
    now = datetime.now(UTC)
    for n, (team, deployment, prompt, completion, cost_usd, age) in enumerate(
        [
            ("search", "mini", 1000, 200, 0.50, timedelta(hours=1)),
            ("search", "mini", 2000, 400, 1.00, timedelta(days=2)),
            ("search", "mini", 3000, 600, 1.50, timedelta(days=3)),
            ("legal", "big", 10_000, 1000, 2.00, timedelta(days=5)),
            ("legal", "big", 50_000, 5000, 100.0, timedelta(days=20)),  # outside 10 days
        ]
    ):
        ledger.record(
            UsageEvent(
                answer_id=f"answer-{n}",
                key_id="key-0123456789ab",
                key_name=None,
                team=team,
                deployment=deployment,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=cost_usd,
                created_at=now - age,
            )
        )
    engine.dispose()
    yield


def rows(output: str) -> list[list[str]]:
    """The cells of every line of a Rich table in ``output``."""
    return [
        [cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
        for line in output.splitlines()
        if line.strip().startswith(("│", "┃"))
    ]


def numbers(row: dict[str, Any]) -> list[Any]:
    keys = (
        "team",
        "deployment",
        "requests",
        "requests_per_day",
        "avg_prompt_tokens",
        "avg_completion_tokens",
        "cost_per_request_usd",
        "cost_per_day_usd",
        "cost_per_month_usd",
        "cost_per_month_buffered_usd",
    )
    return [row[k] if isinstance(row[k], str) else pytest.approx(row[k]) for k in keys]


@pytest.mark.usefixtures("usage")
def test_the_table_shows_each_team_and_model_and_the_totals(shell: Shell) -> None:
    result = shell("--days", "10")

    assert result.exit_code == 0, result.output
    assert "Projected cost from the last 10 days" in result.stdout
    table = rows(result.stdout)
    assert table == [
        [
            "team",
            "model",
            "requests/day",
            "avg tokens in",
            "avg tokens out",
            "$/request",
            "$/day",
            "$/month",
            "$/month +30%",
        ],
        ["legal", "big", "0.1", "10,000", "1,000", "$2.00", "$0.20", "$6.00", "$7.80"],
        ["search", "mini", "0.3", "2,000", "400", "$1.00", "$0.30", "$9.00", "$11.70"],
        ["all", "all", "0.4", "4,000", "550", "$1.25", "$0.50", "$15.00", "$19.50"],
    ]


@pytest.mark.usefixtures("usage")
def test_json_gives_the_report_as_data(shell: Shell) -> None:
    result = shell("--days", "10", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["days"] == 10
    assert report["buffer"] == 0.3
    assert report["repriced_at"] is None
    assert [numbers(r) for r in report["rows"]] == [
        ["legal", "big", 1, 0.1, 10_000, 1000, 2.00, 0.20, 6.00, 7.80],
        ["search", "mini", 3, 0.3, 2000, 400, 1.00, 0.30, 9.00, 11.70],
    ]
    assert numbers(report["total"]) == ["all", "all", 4, 0.4, 4000, 550, 1.25, 0.50, 15.0, 19.5]


@pytest.mark.usefixtures("usage")
def test_the_window_is_the_days_asked_for(shell: Shell) -> None:
    report = json.loads(shell("--days", "30", "--json").stdout)

    legal = next(r for r in report["rows"] if r["team"] == "legal")
    assert legal["requests"] == 2
    assert legal["cost_per_day_usd"] == pytest.approx(102.0 / 30)


@pytest.mark.usefixtures("usage")
def test_what_if_prices_the_same_traffic_at_another_model(shell: Shell) -> None:
    table = shell("--days", "10", "--what-if-model", "backup")
    data = shell("--days", "10", "--what-if-model", "backup", "--json")

    assert table.exit_code == 0, table.output
    assert "priced at backup" in table.stdout
    # legal: 10,000 x $3/M + 1,000 x $15/M = $0.045 a request, one request in 10 days.
    assert rows(table.stdout)[1][:7] == [
        "legal",
        "big -> backup",
        "0.1",
        "10,000",
        "1,000",
        "$0.045",
        "$0.0045",
    ]
    report = json.loads(data.stdout)
    assert report["repriced_at"] == "backup"
    assert [numbers(r) for r in report["rows"]] == [
        ["legal", "big -> backup", 1, 0.1, 10_000, 1000, 0.045, 0.0045, 0.135, 0.1755],
        ["search", "mini -> backup", 3, 0.3, 2000, 400, 0.012, 0.0036, 0.108, 0.1404],
    ]


@pytest.mark.usefixtures("usage")
def test_an_unknown_model_is_refused_with_the_names_it_could_be(shell: Shell) -> None:
    result = shell("--what-if-model", "gpt-5")

    assert result.exit_code == 1
    assert "unknown model 'gpt-5'; the models file has: mini, big, backup" in " ".join(
        result.stderr.split()
    )
    assert result.stdout == ""


def test_what_if_without_a_models_file_says_what_to_set(data_dir: Path) -> None:
    result = Shell(data_dir, None)("--what-if-model", "backup")

    assert result.exit_code == 1
    assert "RAGLINE_MODELS_FILE" in result.stderr


def test_with_no_usage_yet_it_says_so(shell: Shell, data_dir: Path) -> None:
    plainly = "No usage recorded in the last 30 days: no generated answers to project from."
    result = shell()  # no registry at all yet

    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.split()) == plainly
    assert not data_dir.exists()  # a report creates nothing

    data_dir.mkdir(parents=True)
    ensure_schema(f"sqlite:///{data_dir / 'registry.db'}", auto_upgrade=True)
    result = shell()  # a registry, no generated answer yet

    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.split()) == plainly
    assert json.loads(shell("--json").stdout)["rows"] == []
