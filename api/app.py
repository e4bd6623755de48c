"""The FastAPI application. Routes are HTTP only; everything they use arrives ready-made.

``build_app`` takes a context manager that opens the services (``ragline.service``
in production, a test fixture in tests) so the API never decides how the process
is wired.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.access_log import AccessLog
from api.auth import KeyRing
from api.deps import AppServices
from api.edge_guard import EdgeConfig, EdgeGuard
from api.error_responses import install_error_responses
from api.errors import install_error_handlers
from api.fingerprint import load_fingerprint_secret
from api.route_lookup import RouteLookup
from api.routes import (
    ask,
    audit,
    buckets,
    budgets,
    console,
    documents,
    feedback,
    health,
    keys,
    metrics,
    prompts,
    refresh,
    reindex,
    releases,
    review,
    slo,
)

OpenServices = Callable[[], AbstractContextManager[AppServices]]


def build_app(open_services: OpenServices) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_services() as services:
            settings = services.settings
            keyring = KeyRing(
                services.keys,
                load_fingerprint_secret(settings),
                managed=services.managed_keys,
                tokens=services.tokens,
            )
            app.state.edge = EdgeConfig.build(
                keyring, settings.limits, public_metrics=settings.metrics.public
            )
            app.state.services = services
            yield

    app = FastAPI(
        title="ragline",
        version="0.1.0",
        summary="Cited, grounded answers from your documents, inside each caller's roles.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    api_routes: list[APIRoute] = []
    for module in (
        health,
        ask,
        buckets,
        refresh,
        reindex,
        documents,
        budgets,
        prompts,
        releases,
        keys,
        feedback,
        review,
        audit,
        metrics,
        slo,
    ):
        app.include_router(module.router)
        api_routes += [r for r in module.router.routes if isinstance(r, APIRoute)]
    install_error_responses(app, api_routes)
    # The web console's page and files: not in the OpenAPI spec (not JSON), no key needed.
    app.include_router(console.router)
    routes = RouteLookup(api_routes)
    # Added last runs first: the access log wraps the guard, so refusals are logged too.
    app.add_middleware(EdgeGuard, routes=routes)
    app.add_middleware(AccessLog, routes=routes)
    return app
