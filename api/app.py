"""The FastAPI application. Routes are HTTP only; everything they use arrives ready-made.

``build_app`` takes a context manager that opens the services (``ragline.service``
in production, a test fixture in tests) so the API never decides how the process
is wired.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager

from fastapi import FastAPI

from api.deps import AppServices
from api.errors import install_error_handlers
from api.routes import ask, buckets, documents, health

OpenServices = Callable[[], AbstractContextManager[AppServices]]


def build_app(open_services: OpenServices) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_services() as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="ragline",
        version="0.1.0",
        summary="Cited, grounded answers from your documents, inside each caller's roles.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (health, ask, buckets, documents):
        app.include_router(module.router)
    return app
