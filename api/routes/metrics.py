"""Prometheus metrics (``GET /metrics``) in the text exposition format.

Private by default: the scraper sends a key with the ``metrics`` (or ``admin``) role as
a bearer token, since series name teams, deployments and spend. With
``RAGLINE_METRICS__PUBLIC=true`` anyone who reaches the port may scrape.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials

from api.deps import ServicesDep, _bearer, get_principal
from kernel.errors import PermissionDeniedError
from kernel.settings import ADMIN_ROLE

router = APIRouter(tags=["metrics"])

METRICS_ROLE = "metrics"


def _may_scrape(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if services.settings.metrics.public:
        return
    principal = get_principal(request, credentials)
    if not (principal.has_role(METRICS_ROLE) or principal.has_role(ADMIN_ROLE)):
        raise PermissionDeniedError(f"this needs the '{METRICS_ROLE}' or '{ADMIN_ROLE}' role")


@router.get(
    "/metrics",
    summary="Prometheus metrics (a key with the 'metrics' or 'admin' role, unless public)",
    response_class=PlainTextResponse,
    dependencies=[Depends(_may_scrape)],
    responses={403: {"description": "The key lacks the 'metrics' or 'admin' role"}},
)
def metrics(services: ServicesDep) -> Response:
    payload, content_type = services.metrics.render()
    return Response(content=payload, media_type=content_type)
