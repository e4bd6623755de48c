"""The LiteLLM gateway against OpenAI-compatible doubles on loopback (tests/llm_double.py).

Real LiteLLM Router, real HTTP; only the models are fake. What is asserted is what
reached each server: which deployment was called, in which order, and which never.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from generation.gateway import GenerationFailedError
from generation.litellm_gateway import LiteLLMGateway
from generation.routing import BucketPolicy, RouteRequest
from kernel.errors import ConfigurationError
from kernel.models_config import ModelsFile
from tests.llm_double import ChatDouble, serve

pytestmark = pytest.mark.service

MESSAGES = [
    {"role": "system", "content": "Answer from the sources."},
    {
        "role": "user",
        "content": "How many days?\n\n[1] Handbook\nStaff get 25 days of leave. More.",
    },
]
ENV = {"DOUBLE_KEY": "sk-double-not-a-secret"}


def _models(doubles: dict[str, ChatDouble], **routing: Any) -> ModelsFile:
    regions = {"primary": "eu", "backup": "eu", "faraway": "us"}
    tiers = {"primary": "frontier", "backup": "fast", "faraway": "frontier"}
    return ModelsFile.model_validate(
        {
            "deployments": [
                {
                    "name": name,
                    "model": f"openai/{name}-model",
                    "api_base": double.api_base,
                    "api_key_env": "DOUBLE_KEY",
                    "tier": tiers[name],
                    "region": regions[name],
                    "input_price_per_mtok": 1.0,
                    "output_price_per_mtok": 2.0,
                    "timeout_s": 2,
                }
                for name, double in doubles.items()
            ],
            "routing": {
                "default_tier": "frontier",
                "fallbacks": {"primary": ["backup", "faraway"]},
                **routing,
            },
        }
    )


@pytest.fixture
def doubles() -> Iterator[dict[str, ChatDouble]]:
    with serve("primary", "backup", "faraway") as started:
        yield started


def _hits(doubles: dict[str, ChatDouble]) -> dict[str, int]:
    return {name: len(d.received()) for name, d in doubles.items()}


def test_the_primary_answers_with_tokens_and_cost_from_the_models_file(
    doubles: dict[str, ChatDouble],
) -> None:
    gateway = LiteLLMGateway(_models(doubles), ENV)
    result = gateway.generate(MESSAGES, RouteRequest(question_chars=14))
    assert result.text == "Staff get 25 days of leave. [1]"
    assert result.deployment == "primary"
    assert result.failed == ()
    assert result.prompt_tokens > 0 and result.completion_tokens == 7
    expected = (result.prompt_tokens * 1.0 + result.completion_tokens * 2.0) / 1_000_000
    assert result.cost_usd == pytest.approx(expected)
    sent = doubles["primary"].received()[0]
    assert sent["messages"] == MESSAGES
    assert _hits(doubles) == {"primary": 1, "backup": 0, "faraway": 0}


@pytest.mark.parametrize("status", [500, 429])
def test_a_failing_primary_falls_back_in_order(doubles: dict[str, ChatDouble], status: int) -> None:
    doubles["primary"].status = status
    gateway = LiteLLMGateway(_models(doubles, allowed_fails=100), ENV)
    result = gateway.generate(MESSAGES, RouteRequest(question_chars=14))
    assert result.deployment == "backup"
    assert result.failed == ("primary",)
    assert _hits(doubles) == {"primary": 1, "backup": 1, "faraway": 0}


def test_a_killed_primary_falls_back_and_with_both_killed_generation_fails(
    doubles: dict[str, ChatDouble],
) -> None:
    gateway = LiteLLMGateway(_models(doubles), ENV)
    doubles["primary"].kill()
    result = gateway.generate(MESSAGES, RouteRequest(question_chars=14))
    assert (result.deployment, result.failed) == ("backup", ("primary",))
    doubles["backup"].kill()
    doubles["faraway"].kill()
    with pytest.raises(GenerationFailedError, match="primary, backup, faraway"):
        gateway.generate(MESSAGES, RouteRequest(question_chars=14))


def test_a_dead_primary_is_skipped_once_its_breaker_opens(
    doubles: dict[str, ChatDouble],
) -> None:
    gateway = LiteLLMGateway(_models(doubles, allowed_fails=1, cooldown_s=600), ENV)
    doubles["primary"].kill()
    tried = [gateway.generate(MESSAGES, RouteRequest(question_chars=14)) for _ in range(4)]
    assert [r.deployment for r in tried] == ["backup"] * 4
    # Two failures in a row (allowed_fails=1) and the primary is no longer tried at all.
    assert [r.failed for r in tried] == [("primary",), ("primary",), (), ()]
    doubles["backup"].kill()
    doubles["faraway"].kill()
    for _ in range(2):
        with pytest.raises(GenerationFailedError):
            gateway.generate(MESSAGES, RouteRequest(question_chars=14))
    with pytest.raises(GenerationFailedError, match="cooling down"):
        gateway.generate(MESSAGES, RouteRequest(question_chars=14))


def test_a_timeout_falls_back(doubles: dict[str, ChatDouble]) -> None:
    doubles["primary"].delay_s = 4  # the deployment's timeout is 2 s
    gateway = LiteLLMGateway(_models(doubles, allowed_fails=100), ENV)
    result = gateway.generate(MESSAGES, RouteRequest(question_chars=14))
    assert result.deployment == "backup"
    assert result.failed == ("primary",)


def test_the_circuit_breaker_stops_calling_a_failing_deployment(
    doubles: dict[str, ChatDouble],
) -> None:
    doubles["primary"].status = 500
    gateway = LiteLLMGateway(_models(doubles, allowed_fails=1, cooldown_s=600), ENV)
    for _ in range(5):
        assert gateway.generate(MESSAGES, RouteRequest(question_chars=14)).deployment == "backup"
    # Two failures in a minute (allowed_fails=1) and the primary is cooled down.
    assert _hits(doubles)["primary"] == 2
    assert _hits(doubles)["backup"] == 5


def test_every_deployment_failing_is_one_error_with_a_safe_reason(
    doubles: dict[str, ChatDouble],
) -> None:
    for double in doubles.values():
        double.status = 500
    gateway = LiteLLMGateway(_models(doubles, allowed_fails=100), ENV)
    with pytest.raises(GenerationFailedError) as caught:
        gateway.generate(MESSAGES, RouteRequest(question_chars=14))
    assert caught.value.failed == ("primary", "backup", "faraway")
    assert "primary, backup, faraway" in caught.value.reason
    assert "sk-double" not in caught.value.reason and "127.0.0.1" not in caught.value.reason


def test_residency_keeps_eu_text_off_us_deployments_even_when_eu_is_down(
    doubles: dict[str, ChatDouble],
) -> None:
    doubles["primary"].status = 500
    doubles["backup"].status = 500
    gateway = LiteLLMGateway(_models(doubles, allowed_fails=100), ENV)
    eu = RouteRequest(question_chars=14, policies=(BucketPolicy(region="eu"),))
    with pytest.raises(GenerationFailedError):
        gateway.generate(MESSAGES, eu)
    assert _hits(doubles) == {"primary": 1, "backup": 1, "faraway": 0}


def test_a_us_pinned_request_goes_only_to_the_us_deployment(
    doubles: dict[str, ChatDouble],
) -> None:
    gateway = LiteLLMGateway(_models(doubles), ENV)
    us = RouteRequest(question_chars=14, policies=(BucketPolicy(region="us"),))
    assert gateway.generate(MESSAGES, us).deployment == "faraway"
    mixed = RouteRequest(
        question_chars=14, policies=(BucketPolicy(region="us"), BucketPolicy(region="eu"))
    )
    with pytest.raises(GenerationFailedError, match="different regions"):
        gateway.generate(MESSAGES, mixed)
    assert _hits(doubles) == {"primary": 0, "backup": 0, "faraway": 1}


def test_streaming_hands_over_tokens_and_falls_back_before_the_first(
    doubles: dict[str, ChatDouble],
) -> None:
    doubles["primary"].status = 500
    gateway = LiteLLMGateway(_models(doubles, allowed_fails=100), ENV)
    pieces: list[str] = []
    result = gateway.generate(MESSAGES, RouteRequest(question_chars=14), on_token=pieces.append)
    assert len(pieces) > 3
    assert "".join(pieces) == result.text == "Staff get 25 days of leave. [1]"
    assert result.deployment == "backup"
    assert result.completion_tokens == 7


def test_downgrade_and_short_questions_start_on_the_fast_tier(
    doubles: dict[str, ChatDouble],
) -> None:
    gateway = LiteLLMGateway(_models(doubles, fast_below_chars=20), ENV)
    assert gateway.generate(MESSAGES, RouteRequest(question_chars=10)).deployment == "backup"
    assert gateway.generate(MESSAGES, RouteRequest(question_chars=50)).deployment == "primary"
    downgraded = RouteRequest(question_chars=50, downgrade=True)
    assert gateway.generate(MESSAGES, downgraded).deployment == "backup"


def test_a_missing_key_variable_is_refused_at_start_naming_the_variable(
    doubles: dict[str, ChatDouble],
) -> None:
    with pytest.raises(ConfigurationError, match="DOUBLE_KEY"):
        LiteLLMGateway(_models(doubles), {})
