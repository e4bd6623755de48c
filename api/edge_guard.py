"""Authenticate before a body is read; refuse a body past its limit as soon as it is known.

FastAPI resolves a route's body before its dependencies, so a key checked in a
dependency comes too late: an unauthenticated caller could make the server spool a
huge upload or hold a huge JSON body in memory. This pure ASGI middleware runs first:
unknown keys get 401 without a byte of the body read; a declared ``Content-Length``
over the route's limit gets 413 at once; a streamed (chunked) body is counted as it
arrives and cut off with 413 past the limit. Role checks stay in ``api/deps.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import PRINCIPAL_STATE_KEY, KeyRing
from api.errors import error_body
from api.route_lookup import RouteLookup
from api.routes.console import is_asset_path
from kernel.errors import (
    AuthenticationError,
    DependencyUnavailableError,
    PayloadTooLargeError,
)
from kernel.settings import LimitSettings

# "/" is the web console's page; its scripts and styles (is_asset_path) hold no data either.
PUBLIC_PATHS = frozenset(
    {"/", "/health", "/ready", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)
UPLOAD_ROUTES = frozenset({"/buckets/{name}/documents"})
# Served without a key when RAGLINE_METRICS__PUBLIC is true (Prometheus scrapes it).
METRICS_PATH = "/metrics"
# Form fields and part headers around the file; generous, the file limit is the real one.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class EdgeConfig:
    """What the guard needs, built once in the lifespan from the services."""

    keyring: KeyRing
    upload_bytes: int
    json_bytes: int
    upload_mb: float
    json_kb: int
    public_metrics: bool = False

    @classmethod
    def build(
        cls, keyring: KeyRing, limits: LimitSettings, *, public_metrics: bool = False
    ) -> EdgeConfig:
        return cls(
            keyring=keyring,
            upload_bytes=int(limits.max_upload_mb * 1_000_000) + MULTIPART_OVERHEAD,
            json_bytes=limits.max_json_kb * 1024,
            upload_mb=limits.max_upload_mb,
            json_kb=limits.max_json_kb,
            public_metrics=public_metrics,
        )

    def limit_for(self, template: str) -> tuple[int, str]:
        if template in UPLOAD_ROUTES:
            return self.upload_bytes, f"the upload is over the {self.upload_mb:g} MB limit"
        return self.json_bytes, f"the request body is over the {self.json_kb} KB limit"


class _BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive``; an HTTPException so FastAPI's body parsing passes it on."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="request body too large")


class EdgeGuard:
    def __init__(self, app: ASGIApp, routes: RouteLookup) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if scope["type"] != "http" or path in PUBLIC_PATHS or is_asset_path(path):
            await self.app(scope, receive, send)
            return
        config: EdgeConfig = scope["app"].state.edge
        if config.public_metrics and scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            principal = await config.keyring.authenticate(headers.get("authorization"))
        except AuthenticationError as exc:
            await _send_error(send, 401, exc.code, exc.message, {"WWW-Authenticate": "Bearer"})
            return
        except DependencyUnavailableError as exc:  # a managed key or a token, unverifiable now
            retry = {"Retry-After": str(exc.retry_after_s)}
            await _send_error(send, 503, exc.code, exc.message, retry)
            return
        scope.setdefault("state", {})[PRINCIPAL_STATE_KEY] = principal
        limit, message = config.limit_for(self.routes.template(scope))
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            await _send_error(send, 413, PayloadTooLargeError.code, message)
            return
        await _LimitedCall(self.app, limit, message)(scope, receive, send)


class _LimitedCall:
    """One request whose body is counted; past the limit its answer is replaced by a 413."""

    def __init__(self, app: ASGIApp, limit: int, message: str) -> None:
        self.app = app
        self.limit = limit
        self.message = message
        self.received = 0
        self.exceeded = False
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def limited_receive() -> Message:
            if self.exceeded:
                raise _BodyTooLarge
            msg = await receive()
            if msg["type"] == "http.request":
                self.received += len(msg.get("body", b""))
                if self.received > self.limit:
                    self.exceeded = True
                    raise _BodyTooLarge
            return msg

        async def guarded_send(msg: Message) -> None:
            if self.exceeded:
                # Whatever the app made of the cut-off body (a 400, a 500) is not the answer.
                if msg["type"] == "http.response.start" and not self.started:
                    self.started = True
                    await _send_error(send, 413, PayloadTooLargeError.code, self.message)
                return
            if msg["type"] == "http.response.start":
                self.started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            if not self.started:
                self.started = True
                await _send_error(send, 413, PayloadTooLargeError.code, self.message)


def _content_length(headers: Headers) -> int | None:
    raw = headers.get("content-length")
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw.strip())


async def _send_error(
    send: Send, status: int, code: str, message: str, extra: dict[str, str] | None = None
) -> None:
    body = json.dumps(error_body(code, message)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 413:
        headers.append((b"connection", b"close"))
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
