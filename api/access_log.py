"""One line per request on ``ragline.access``, and a request id to correlate it.

The line names the route template (never the raw path, which carries ids and names)
and the key's fingerprint (never the key); the query string is not logged at all.
An incoming ``X-Request-ID`` is kept when it is short and plain, so a proxy's id
follows the request; otherwise one is generated. Either way it is echoed back, and it
is the current request id (``observability.log_context``) for the request's duration:
every log line written while serving it, and every task it sends, carries it. With
tracing on, the request's span (named by the route template) is current meanwhile.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import PRINCIPAL_STATE_KEY
from api.deps import AppServices
from api.route_lookup import RouteLookup
from observability.log_context import request_id_scope
from observability.tracing import request_span
from retrieval.access import Principal

log = logging.getLogger("ragline.access")

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_STATE_KEY = "request_id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from(headers: Headers) -> str:
    incoming = headers.get(REQUEST_ID_HEADER)
    if incoming is not None and _SAFE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _observe(scope: Scope, route: str, status: int, seconds: float) -> None:
    """Count the request in the metrics and the latency objectives' window, once serving."""
    app_state = getattr(scope.get("app"), "state", None)
    services: AppServices | None = getattr(app_state, "services", None)
    if services is None:
        return
    services.metrics.observe_request(scope["method"], route, status, seconds)
    # Refusals (401, 403, 422, 429...) are quick and not the service the objective is
    # about: they would make a slow route look fast. Server errors count.
    if not 400 <= status < 500:
        services.latency.observe(route, seconds)


class AccessLog:
    def __init__(self, app: ASGIApp, routes: RouteLookup) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = Headers(scope=scope)
        request_id = request_id_from(incoming)
        state = scope.setdefault("state", {})
        state[REQUEST_ID_STATE_KEY] = request_id
        status = 500

        async def send_with_id(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
                headers = [h for h in msg.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                msg = {**msg, "headers": headers}
            await send(msg)

        method = scope["method"]
        with (
            request_id_scope(request_id),
            request_span(method, incoming, request_id) as span,
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = self.routes.template(scope)
                principal = state.get(PRINCIPAL_STATE_KEY)
                if span is not None:
                    span.finish(method, route, status)
                log.info(
                    "%s %s %d %.1fms key=%s request_id=%s",
                    method,
                    route,
                    status,
                    seconds * 1000,
                    principal.key_id if isinstance(principal, Principal) else "-",
                    request_id,
                )
                _observe(scope, route, status, seconds)
