"""What ``ragline reindex`` runs: a re-index in this process, or one followed on a server.

In this process it needs the index to itself (embedded mode: no ``ragline serve`` on
the same data directory; the server owns the index then); ``--server`` asks the
running server to re-index and follows its progress. Either way the terminal shows the
API's own shape (``ReindexOut``), as ``ragline refresh`` does for refreshes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from api.routes.reindex import ReindexOut, reindex_out
from ingest.reindex import ReindexPolicy, request_reindex, run_reindex
from ingest.reindex_log import ReindexRuns
from kernel.errors import (
    ConflictError,
)
from kernel.settings import Settings
from ragline.admin_client import AdminClient, open_index_owner

OnProgress = Callable[[ReindexOut], None]


def reindex_here(
    settings: Settings, on_progress: OnProgress, *, max_failures: int = 0
) -> ReindexOut:
    """Re-index in this process; ``ConflictError`` if a re-index is running already."""
    runtime = open_index_owner(settings, "re-index")
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


class ReindexClient(AdminClient):
    """The same through a server's API, with an admin key."""

    def reindex(
        self, on_progress: OnProgress, *, max_failures: int = 0, poll_s: float = 0.5
    ) -> ReindexOut:
        """Start a re-index (or join the one running) and follow it to its end."""
        body = {"max_failures": max_failures}
        run = ReindexOut.model_validate(self._call("POST", "/reindex", json=body))
        return self.follow(
            run,
            lambda r: ReindexOut.model_validate(self._call("GET", f"/reindex/{r.reindex_id}")),
            on_progress,
            poll_s,
        )
