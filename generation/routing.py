"""Which deployment a request starts on, and where it may fall back to.

Pure policy over the models file, so that the rules (tier per request, data
residency) are tested without a model and the gateway stays a thin adapter:

- the tier: the default, the fast tier for short questions, a bucket's own tier or
  its sensitivity's, and the fast tier when a budget says downgrade;
- residency: when any source comes from a bucket with a ``region``, only deployments
  of that region may receive the prompt, fallbacks included. Sources from buckets of
  two different regions can go to no deployment at all: the answer is extractive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kernel.models_config import TIERS, Deployment, ModelsFile, Tier


@dataclass(frozen=True, slots=True)
class BucketPolicy:
    """What a bucket says about the models its text may reach."""

    region: str | None = None
    sensitivity: str | None = None


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """The facts about one request that routing rules look at."""

    question_chars: int
    buckets: frozenset[str] = frozenset()
    policies: tuple[BucketPolicy, ...] = ()
    # A budget's hard limit with `on_hard_limit: downgrade`.
    downgrade: bool = False
    # A release's model route (``releases``): a tier, which stands in for the default
    # tier, or a deployment, whose chain (it, then its fallbacks) is used; None: the
    # rules above. A budget's downgrade still wins, and so does residency.
    route: str | None = None


@dataclass(frozen=True, slots=True)
class RoutePlan:
    tier: Tier
    # Deployments in the order they are tried: the first, then its fallbacks.
    chain: tuple[str, ...]
    region: str | None


class NoRouteError(Exception):
    """No configured deployment may answer this request (residency or an empty tier)."""


def choose_tier(models: ModelsFile, request: RouteRequest) -> Tier:
    routing = models.routing
    if request.downgrade:
        return "fast"
    tiers: list[Tier] = [
        routing.bucket_tiers[b] for b in request.buckets if b in routing.bucket_tiers
    ]
    tiers += [
        routing.sensitivity_tiers[p.sensitivity]
        for p in request.policies
        if p.sensitivity and p.sensitivity in routing.sensitivity_tiers
    ]
    if tiers:
        # A bucket that asks for the frontier tier wins over one content with fast.
        return "frontier" if "frontier" in tiers else "fast"
    if request.route in TIERS:
        return "fast" if request.route == "fast" else "frontier"
    if routing.fast_below_chars and request.question_chars < routing.fast_below_chars:
        return "fast"
    return routing.default_tier


def required_region(policies: Iterable[BucketPolicy]) -> str | None:
    regions = {p.region for p in policies if p.region}
    if len(regions) > 1:
        raise NoRouteError(
            "the sources come from buckets pinned to different regions "
            f"({', '.join(sorted(regions))}): no single deployment may receive them"
        )
    return next(iter(regions), None)


def plan_route(models: ModelsFile, request: RouteRequest) -> RoutePlan:
    """The chain of deployments for ``request``; :class:`NoRouteError` when there is none."""
    tier = choose_tier(models, request)
    region = required_region(request.policies)

    def allowed(d: Deployment) -> bool:
        return region is None or d.region == region

    eligible = [d for d in models.deployments if allowed(d)]
    if not eligible:
        raise NoRouteError(f"no deployment is configured in region {region}")
    # The first of the tier; with none of the tier allowed, the first allowed at all.
    first = next((d for d in eligible if d.tier == tier), eligible[0])
    if request.route is not None and request.route not in TIERS and not request.downgrade:
        pinned = next((d for d in eligible if d.name == request.route), None)
        if pinned is None:
            raise NoRouteError(f"the release's deployment {request.route} may not answer this")
        first = pinned
    chain = [first.name]
    for name in models.routing.fallbacks.get(first.name, []):
        if name not in chain and allowed(models.deployment(name)):
            chain.append(name)
    return RoutePlan(tier=tier, chain=tuple(chain), region=region)
