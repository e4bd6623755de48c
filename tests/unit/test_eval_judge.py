"""The judge's pure parts: the models file it is routed on, its metrics, its report entries.

The judging itself (llama-index's evaluators through the gateway) is driven against an
OpenAI-compatible double in tests/e2e/test_cli_eval_answers_judge.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from evals.judge import Judged, add_verdicts, judge_metrics, judge_models
from generation.gateway import Generation
from generation.routing import BucketPolicy, RouteRequest, plan_route
from kernel.errors import InvalidInputError
from kernel.models_config import ModelsFile

pytestmark = pytest.mark.unit


def models() -> ModelsFile:
    return ModelsFile.model_validate(
        {
            "deployments": [
                {"name": "writer", "model": "openai/w", "tier": "fast"},
                {"name": "judge", "model": "openai/j", "tier": "frontier", "region": "us"},
                {"name": "judge-eu", "model": "openai/je", "tier": "frontier", "region": "eu"},
                {"name": "spare", "model": "openai/s", "tier": "fast"},
            ],
            "routing": {
                "default_tier": "fast",
                "fast_below_chars": 200,
                "bucket_tiers": {"legal": "fast"},
                "fallbacks": {"judge": ["judge-eu", "judge"], "writer": ["spare"]},
                "allowed_fails": 7,
            },
            "budgets": {"teams": {"ops": {"daily_hard_usd": 1.0}}},
        }
    )


def test_the_judge_models_file_holds_the_judge_and_its_fallbacks_routed_to_it() -> None:
    narrowed = judge_models(models(), "judge")

    assert [d.name for d in narrowed.deployments] == ["judge", "judge-eu"]
    assert narrowed.routing.fallbacks == {"judge": ["judge-eu"]}
    assert narrowed.routing.allowed_fails == 7  # the breaker's settings are kept
    assert narrowed.budgets.teams == {}
    # a short question of a bucket with its own tier still starts on the judge
    short = RouteRequest(question_chars=10, buckets=frozenset({"legal"}))
    assert plan_route(narrowed, short).chain == ("judge", "judge-eu")
    # residency holds: text pinned to eu reaches only the eu fallback
    pinned = RouteRequest(question_chars=10, policies=(BucketPolicy(region="eu"),))
    assert plan_route(narrowed, pinned).chain == ("judge-eu",)


def test_a_judge_without_fallbacks_is_alone() -> None:
    narrowed = judge_models(models(), "spare")
    assert [d.name for d in narrowed.deployments] == ["spare"]
    assert narrowed.routing.fallbacks == {}
    assert narrowed.routing.default_tier == "fast"


def test_an_unknown_judge_is_refused_naming_the_deployments() -> None:
    with pytest.raises(InvalidInputError) as caught:
        judge_models(models(), "gpt-judge")
    assert caught.value.message == (
        "--judge gpt-judge: the models file has no such deployment"
        " (it has writer, judge, judge-eu, spare)"
    )


def generation(deployment: str, prompt: int, completion: int, cost: float) -> Generation:
    return Generation("YES", deployment, "frontier", (), prompt, completion, cost)


def judged(
    qid: str,
    faithful: bool | None,
    relevant: bool | None,
    *generations: Generation,
    errors: dict[str, str] | None = None,
) -> Judged:
    return Judged(qid, faithful, relevant, {}, errors or {}, tuple(generations))


def test_judge_metrics_are_shares_of_yes_among_the_verdicts_had() -> None:
    rows = [
        judged("a", True, True),
        judged("b", False, True),
        judged("c", True, None, errors={"relevancy": "down"}),
        judged("d", None, None, errors={"faithfulness": "down", "relevancy": "down"}),
    ]
    assert judge_metrics(rows) == pytest.approx(
        {"judge.faithfulness": 2 / 3, "judge.relevancy": 1.0}
    )
    assert judge_metrics([judged("d", None, None)]) == {}
    assert judge_metrics([]) == {}


def test_verdicts_go_into_the_details_by_question_with_the_judges_bill() -> None:
    details: dict[str, Any] = {
        "questions": [{"id": "a"}, {"id": "b"}, {"id": "abstained"}],
        "failures": {"b": ["missing terms: x"]},
    }
    rows = {
        "a": judged("a", True, True, generation("judge", 100, 1, 0.01)),
        "b": judged(
            "b", False, False, generation("judge", 50, 1, 0.02), generation("judge-eu", 40, 2, 0.03)
        ),
    }

    add_verdicts(details, rows, "judge")

    by_id = {q["id"]: q for q in details["questions"]}
    assert by_id["a"]["judge"]["faithful"] is True
    assert by_id["b"]["judge"]["deployments"] == ["judge", "judge-eu"]
    assert by_id["b"]["judge"]["cost_usd"] == pytest.approx(0.05)
    assert "judge" not in by_id["abstained"]
    assert details["failures"] == {
        "b": [
            "missing terms: x",
            "judge: not supported by the cited text",
            "judge: does not respond to the question",
        ]
    }
    summary = details["judge"]
    assert summary["deployments_used"] == ["judge", "judge-eu"]
    assert (summary["judged"], summary["calls"]) == (2, 3)
    assert (summary["prompt_tokens"], summary["completion_tokens"]) == (190, 4)
    assert summary["cost_usd"] == pytest.approx(0.06)
    assert summary["errors"] == {}
