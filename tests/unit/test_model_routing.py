"""Routing rules over the models file: the tier a request starts on, and its chain."""

from __future__ import annotations

from typing import Any

import pytest

from generation.routing import BucketPolicy, NoRouteError, RouteRequest, plan_route
from kernel.models_config import ModelsFile


def _models(**routing: Any) -> ModelsFile:
    return ModelsFile.model_validate(
        {
            "deployments": [
                {"name": "big-eu", "model": "openai/a", "tier": "frontier", "region": "eu"},
                {"name": "small-eu", "model": "openai/b", "tier": "fast", "region": "eu"},
                {"name": "big-us", "model": "openai/c", "tier": "frontier", "region": "us"},
                {"name": "small-us", "model": "openai/d", "tier": "fast", "region": "us"},
            ],
            "routing": {
                "fallbacks": {
                    "big-eu": ["small-eu", "big-us"],
                    "small-eu": ["big-eu", "small-us"],
                    "big-us": ["small-us", "big-eu"],
                },
                **routing,
            },
        }
    )


def test_the_default_tier_and_its_fallbacks() -> None:
    plan = plan_route(_models(), RouteRequest(question_chars=80))
    assert (plan.tier, plan.chain) == ("frontier", ("big-eu", "small-eu", "big-us"))


def test_a_bucket_or_its_sensitivity_picks_the_tier_and_frontier_wins_a_tie() -> None:
    models = _models(
        bucket_tiers={"faq": "fast", "legal": "frontier"}, sensitivity_tiers={"restricted": "fast"}
    )
    assert plan_route(models, RouteRequest(80, buckets=frozenset({"faq"}))).tier == "fast"
    restricted = RouteRequest(80, policies=(BucketPolicy(sensitivity="restricted"),))
    assert plan_route(models, restricted).chain[0] == "small-eu"
    both = RouteRequest(80, buckets=frozenset({"faq", "legal"}))
    assert plan_route(models, both).tier == "frontier"


def test_residency_filters_the_start_and_every_fallback() -> None:
    plan = plan_route(_models(), RouteRequest(80, policies=(BucketPolicy(region="us"),)))
    assert plan.chain == ("big-us", "small-us")
    assert plan.region == "us"
    eu_fast = RouteRequest(10, policies=(BucketPolicy(region="eu"),), downgrade=True)
    assert plan_route(_models(), eu_fast).chain == ("small-eu", "big-eu")


def test_no_deployment_in_the_region_is_no_route() -> None:
    with pytest.raises(NoRouteError, match="region apac"):
        plan_route(_models(), RouteRequest(80, policies=(BucketPolicy(region="apac"),)))
