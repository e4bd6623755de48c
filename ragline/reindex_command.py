"""What ``ragline reindex`` runs: a re-index in this process, or one followed on a server.

In this process it needs the index to itself (embedded mode: no ``ragline serve`` on
the same data directory; the server owns the index then); ``--server`` asks the
running server to re-index and follows its progress. Either way the terminal shows the
API's own shape (``ReindexOut``), as ``ragline refresh`` does for refreshes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from api.routes.reindex import ReindexOut, reindex_out
from ingest.reindex import ReindexPolicy, request_reindex, run_reindex
from ingest.reindex_log import ReindexRuns
from kernel.errors import (
    AuthenticationError,
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    RaglineError,
)
from kernel.settings import Settings
from ragline.remote_ingest import error_message
from ragline.runtime import open_runtime

OnProgress = Callable[[ReindexOut], None]


def reindex_here(
    settings: Settings, on_progress: OnProgress, *, max_failures: int = 0
) -> ReindexOut:
    """Re-index in this process; ``ConflictError`` if a re-index is running already."""
    try:
        runtime = open_runtime(settings)
    except DependencyUnavailableError as exc:
        raise DependencyUnavailableError(
            f"{exc.message}\nIf `ragline serve` is running on this data directory, it owns "
            "the index: re-index through it with --server URL --key KEY."
        ) from None
    try:
        runs = ReindexRuns(runtime.registry.engine)
        run, created = request_reindex(runs, "cli", datetime.now(UTC), max_failures=max_failures)
        if not created:
            raise ConflictError(f"a re-index is {run.status} already (re-index {run.id})")
        done = run_reindex(
            runtime.ingestion,
            runs,
            run.id,
            policy=ReindexPolicy(lease_s=settings.refresh.lease_s),
            on_progress=lambda r: on_progress(reindex_out(r)),
        )
        return reindex_out(done)
    finally:
        runtime.close()


class ReindexClient:
    """The same through a server's API, with an admin key."""

    def __init__(self, server: str, key: str) -> None:
        self._http = httpx.Client(
            base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=60
        )

    def __enter__(self) -> ReindexClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def reindex(
        self, on_progress: OnProgress, *, max_failures: int = 0, poll_s: float = 0.5
    ) -> ReindexOut:
        """Start a re-index (or join the one running) and follow it to its end."""
        body = {"max_failures": max_failures}
        run = ReindexOut.model_validate(self._call("POST", "/reindex", json=body))
        while run.status in ("queued", "running"):
            on_progress(run)
            time.sleep(poll_s)
            run = ReindexOut.model_validate(self._call("GET", f"/reindex/{run.reindex_id}"))
        on_progress(run)
        return run

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.TransportError:
            raise DependencyUnavailableError(
                f"cannot reach the server at {self._http.base_url}"
            ) from None
        if resp.status_code < 300:
            return resp.json()
        message = error_message(resp)
        if resp.status_code == 401:
            raise AuthenticationError(message)
        if resp.status_code == 403:
            raise PermissionDeniedError(message)
        if resp.status_code == 404:
            raise NotFoundError(message)
        raise RaglineError(message)
