"""Latency objectives and how this process meets them (``GET /slo``), for any key.

Observed latencies are over this API process's last ``RAGLINE_METRICS__WINDOW_S``
seconds (``observability.latency_slo``); with several replicas each answers for itself,
and Prometheus (``ragline_latency_*``) shows them all.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import PrincipalDep, ServicesDep

router = APIRouter(tags=["metrics"])


class QuantileOut(BaseModel):
    objective: float  # seconds
    observed: float | None  # seconds; null while the window holds no request of the route
    met: bool | None  # null with no data
    samples: int  # requests of the route in the window


class SloOut(BaseModel):
    window_s: int
    # {"/ask": {"p95": {...}, "p99": {...}}}
    routes: dict[str, dict[str, QuantileOut]]


@router.get("/slo", summary="Latency objectives per route, met or not over the recent window")
def slo(services: ServicesDep, _: PrincipalDep) -> SloOut:
    report = services.latency.report()
    return SloOut(
        window_s=services.settings.metrics.window_s,
        routes={
            route: {
                name: QuantileOut(
                    objective=q.objective, observed=q.observed, met=q.met, samples=q.samples
                )
                for name, q in quantiles.items()
            }
            for route, quantiles in report.items()
        },
    )
