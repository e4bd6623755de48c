"""What the CLI's long jobs share: an admin HTTP client, and opening the index here.

``ragline refresh`` and ``ragline reindex`` either work in this process (which must
be able to open the index) or follow a run on a server (``--server URL --key KEY``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol, Self, TypeVar

import httpx

from kernel.errors import (
    AuthenticationError,
    DependencyUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    RaglineError,
)
from kernel.settings import Settings
from ragline.remote_ingest import error_message
from ragline.runtime import Runtime, open_runtime


class _Run(Protocol):
    @property
    def status(self) -> str: ...


RunT = TypeVar("RunT", bound=_Run)


def open_index_owner(settings: Settings, job: str) -> Runtime:
    """The runtime for a job run here; if a server holds the index, say how to go through it."""
    try:
        return open_runtime(settings)
    except DependencyUnavailableError as exc:
        raise DependencyUnavailableError(
            f"{exc.message}\nIf `ragline serve` is running on this data directory, it owns "
            f"the index: {job} through it with --server URL --key KEY."
        ) from None


class AdminClient:
    """A server's API with an admin key; errors come back as ragline's own."""

    def __init__(self, server: str, key: str) -> None:
        self._http = httpx.Client(
            base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=60
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def follow(
        self,
        run: RunT,
        fetch: Callable[[RunT], RunT],
        on_progress: Callable[[RunT], None],
        poll_s: float,
    ) -> RunT:
        """Poll a queued or running job until it ends, reporting each state."""
        while run.status in ("queued", "running"):
            on_progress(run)
            time.sleep(poll_s)
            run = fetch(run)
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
