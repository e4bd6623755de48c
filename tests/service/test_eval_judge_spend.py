"""The judge's gateway charges the usage ledger: real LiteLLM, real SQLite, doubled models.

``ChargedGateway`` wraps the LiteLLM gateway over two OpenAI-compatible doubles on
loopback (``judge`` falling back to ``backup``), and writes to a real SQLite ledger.
What is asserted is the ledger's lines against what reached each double.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from evals.judge_spend import ChargedGateway, EvalPayer, judge_budgets
from generation.gateway import GenerationFailedError
from generation.litellm_gateway import LiteLLMGateway
from generation.routing import RouteRequest
from kernel.errors import BudgetExceededError
from kernel.models_config import ModelsFile
from tests.llm_double import ChatDouble, serve
from usage.budgets import BudgetGuard
from usage.ledger import UsageEvent, UsageLedger

pytestmark = pytest.mark.service

ENV = {"DOUBLE_KEY": "sk-double-not-a-secret"}
PROMPT = [{"role": "user", "content": "Is the answer supported by the context? YES or NO."}]
ROUTE = RouteRequest(question_chars=20)
HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


def _models(doubles: dict[str, ChatDouble], budgets: dict[str, Any] | None = None) -> ModelsFile:
    prices = {"judge": (1.0, 2.0), "backup": (3.0, 5.0)}
    return ModelsFile.model_validate(
        {
            "deployments": [
                {
                    "name": name,
                    "model": f"openai/{name}-model",
                    "api_base": double.api_base,
                    "api_key_env": "DOUBLE_KEY",
                    "tier": "frontier",
                    "input_price_per_mtok": prices[name][0],
                    "output_price_per_mtok": prices[name][1],
                    "timeout_s": 2,
                }
                for name, double in doubles.items()
            ],
            "routing": {"fallbacks": {"judge": ["backup"]}, "allowed_fails": 1000},
            "budgets": budgets or {},
        }
    )


@pytest.fixture
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("judge", "backup") as started:
        for double in started.values():
            double.reply = lambda _messages: "YES"
        yield started


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[UsageLedger]:
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield UsageLedger(engine)
    engine.dispose()


def _charged(
    doubles: dict[str, ChatDouble],
    ledger: UsageLedger,
    team: str = "eval",
    budgets: dict[str, Any] | None = None,
) -> ChargedGateway:
    models = _models(doubles, budgets)
    guard = BudgetGuard(ledger, judge_budgets(models.budgets))
    return ChargedGateway(LiteLLMGateway(models, ENV), ledger, guard, EvalPayer.for_run(team))


def _hits(doubles: dict[str, ChatDouble]) -> dict[str, int]:
    return {name: len(d.received()) for name, d in doubles.items()}


def test_every_answered_call_is_one_ledger_line_charged_to_the_eval_run(
    doubles: dict[str, ChatDouble], ledger: UsageLedger
) -> None:
    gateway = _charged(doubles, ledger)
    made = [gateway.generate(PROMPT, ROUTE) for _ in range(3)]

    lines = ledger.events(HOUR_AGO)
    assert len(lines) == 3 == len({line.answer_id for line in lines})
    assert {(line.team, line.key_id, line.key_name) for line in lines} == {
        ("eval", gateway.payer.key_id, "eval-judge")
    }
    assert gateway.payer.key_id.startswith("eval:") and len(gateway.payer.key_id) == 17
    assert [line.deployment for line in lines] == ["judge"] * 3
    assert sorted(line.cost_usd for line in lines) == sorted(g.cost_usd for g in made)
    assert sum(line.prompt_tokens for line in lines) == sum(g.prompt_tokens for g in made)
    assert all(line.cost_usd > 0 for line in lines)
    assert ledger.spent(team="eval", since=HOUR_AGO) == pytest.approx(sum(g.cost_usd for g in made))
    summary = gateway.summary()
    assert (summary["recorded"], summary["unrecorded"], summary["budget_stopped"]) == (3, 0, None)


def test_a_fallback_is_charged_as_the_deployment_that_answered(
    doubles: dict[str, ChatDouble], ledger: UsageLedger
) -> None:
    doubles["judge"].status = 500
    gateway = _charged(doubles, ledger, team="qa")

    made = gateway.generate(PROMPT, ROUTE)

    assert (made.deployment, made.failed) == ("backup", ("judge",))
    [line] = ledger.events(HOUR_AGO)
    assert (line.team, line.deployment) == ("qa", "backup")
    assert line.cost_usd == pytest.approx(
        (made.prompt_tokens * 3.0 + made.completion_tokens * 5.0) / 1_000_000
    )


def test_a_call_that_reached_no_model_records_nothing(
    doubles: dict[str, ChatDouble], ledger: UsageLedger
) -> None:
    doubles["judge"].status = 500
    doubles["backup"].status = 429
    gateway = _charged(doubles, ledger)

    with pytest.raises(GenerationFailedError, match="judge, backup"):
        gateway.generate(PROMPT, ROUTE)

    assert ledger.events(HOUR_AGO) == []
    assert gateway.summary()["recorded"] == 0


@pytest.mark.parametrize("on_hard_limit", ["refuse", "downgrade"])
def test_a_hard_limit_stops_the_judge_before_the_next_call_reaches_a_model(
    doubles: dict[str, ChatDouble], ledger: UsageLedger, on_hard_limit: str
) -> None:
    # Any spend reaches the limit: the first call is made, the second is not.
    budgets = {"on_hard_limit": on_hard_limit, "teams": {"eval": {"daily_hard_usd": 1e-9}}}
    gateway = _charged(doubles, ledger, budgets=budgets)
    gateway.preflight()  # nothing spent yet
    gateway.generate(PROMPT, ROUTE)

    with pytest.raises(GenerationFailedError) as refused:
        gateway.generate(PROMPT, ROUTE)
    with pytest.raises(GenerationFailedError):
        gateway.generate(PROMPT, ROUTE)

    # a downgrade would change the judge: the judge stops either way
    assert refused.value.reason.startswith("the judge stopped: team 'eval' has spent $")
    assert "daily budget; resets at 00:00 UTC" in refused.value.reason
    assert "fast tier" not in refused.value.reason
    assert _hits(doubles) == {"judge": 1, "backup": 0}
    assert len(ledger.events(HOUR_AGO)) == 1
    assert gateway.summary()["budget_stopped"] == refused.value.reason.removeprefix(
        "the judge stopped: "
    )
    # the next run is refused before it starts; another team is not
    with pytest.raises(BudgetExceededError, match=r"^the judge was not started: team 'eval'"):
        _charged(doubles, ledger, budgets=budgets).preflight()
    _charged(doubles, ledger, team="other", budgets=budgets).preflight()


def test_a_soft_limit_warns_and_judges_on(
    doubles: dict[str, ChatDouble], ledger: UsageLedger
) -> None:
    ledger.record(
        UsageEvent(
            answer_id="earlier-answer",
            key_id="k1",
            key_name=None,
            team="eval",
            deployment="judge",
            prompt_tokens=10,
            completion_tokens=1,
            cost_usd=0.5,
            created_at=datetime.now(UTC),
        )
    )
    gateway = _charged(doubles, ledger, budgets={"teams": {"eval": {"daily_soft_usd": 0.25}}})

    gateway.generate(PROMPT, ROUTE)
    gateway.generate(PROMPT, ROUTE)

    summary = gateway.summary()
    assert summary["budget_stopped"] is None and summary["recorded"] == 2
    assert len(summary["budget_warnings"]) == 1
    assert summary["budget_warnings"][0].startswith("team 'eval' has spent $0.50 of its $0.25")
