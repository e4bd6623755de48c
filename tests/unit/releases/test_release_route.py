"""A release's model route in routing: a tier for the default, or a pinned deployment."""

from __future__ import annotations

import pytest

from generation.routing import BucketPolicy, NoRouteError, RouteRequest, plan_route
from kernel.models_config import ModelsFile

pytestmark = pytest.mark.unit

MODELS = ModelsFile.model_validate(
    {
        "deployments": [
            {"name": "big-eu", "model": "openai/a", "tier": "frontier", "region": "eu"},
            {"name": "small-eu", "model": "openai/b", "tier": "fast", "region": "eu"},
            {"name": "big-us", "model": "openai/c", "tier": "frontier", "region": "us"},
        ],
        "routing": {"fallbacks": {"big-eu": ["small-eu"], "big-us": ["big-eu"]}},
    }
)


def test_a_tier_route_stands_in_for_the_default_tier() -> None:
    assert plan_route(MODELS, RouteRequest(10, route="fast")).chain == ("small-eu",)
    assert plan_route(MODELS, RouteRequest(10, route="frontier")).chain == ("big-eu", "small-eu")


def test_a_deployment_route_pins_its_chain() -> None:
    assert plan_route(MODELS, RouteRequest(10, route="big-us")).chain == ("big-us", "big-eu")


def test_residency_still_wins_over_a_pinned_deployment() -> None:
    eu = (BucketPolicy(region="eu"),)
    plan = plan_route(MODELS, RouteRequest(10, policies=eu, route="big-eu"))
    assert plan.chain == ("big-eu", "small-eu")
    with pytest.raises(NoRouteError, match="big-us"):
        plan_route(MODELS, RouteRequest(10, policies=eu, route="big-us"))


def test_a_budget_downgrade_still_wins_over_the_route() -> None:
    assert plan_route(MODELS, RouteRequest(10, downgrade=True, route="big-us")).chain == (
        "small-eu",
    )
