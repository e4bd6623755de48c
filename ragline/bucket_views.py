"""What ``ragline buckets`` and ``ragline refresh`` read: from the database, or a server.

Both commands work on this machine's data directory (reading the registry needs no
model and no index, so they run beside ``ragline serve``) or, with ``--server``,
through a running server's API. Either way they produce the API's own shapes
(``api.schemas``), so the terminal shows exactly what ``GET /buckets/{name}`` shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.routes.refresh import bucket_detail, refresh_out
from api.schemas import BucketDetail, RefreshOut
from ingest.bucket_catalog import BucketCatalog
from ingest.refresh import RefreshPolicy, ingest_inline, request_refresh, run_refresh
from ingest.refresh_log import RefreshRuns
from ingest.schedule_book import ScheduleBook
from kernel.errors import (
    RaglineError,
)
from kernel.settings import Settings
from ragline.admin_client import AdminClient, open_index_owner
from ragline.runtime import open_registry

OnProgress = Callable[[RefreshOut], None]


def local_buckets(settings: Settings) -> list[BucketDetail]:
    registry = open_registry(settings)
    try:
        engine = registry.engine
        catalog = BucketCatalog(engine)
        return [
            bucket_detail(
                b,
                settings,
                registry,
                RefreshRuns(engine),
                ScheduleBook(engine),
                datetime.now(UTC),
            )
            for b in catalog.list_buckets()
        ]
    finally:
        registry.close()


def refresh_here(settings: Settings, name: str, on_progress: OnProgress) -> RefreshOut:
    """Refresh in this process: it must be able to open the index (no server holds it)."""

    runtime = open_index_owner(settings, "refresh")
    try:
        deps = runtime.ingestion
        run, created = request_refresh(
            deps.buckets, runtime.refresh_runs, name, "cli", datetime.now(UTC)
        )
        if not created:
            raise RaglineError(f"bucket '{name}' is being refreshed already (refresh {run.id})")
        done = run_refresh(
            deps,
            runtime.refresh_runs,
            run.id,
            submit=ingest_inline(deps),
            policy=RefreshPolicy(lease_s=settings.refresh.lease_s),
            on_progress=lambda r: on_progress(refresh_out(r)),
        )
        return refresh_out(done)
    finally:
        runtime.close()


class BucketsClient(AdminClient):
    """The same views through a server's API, with an admin key."""

    def buckets(self) -> list[BucketDetail]:
        names = [b["name"] for b in self._get("/buckets")]
        return [BucketDetail.model_validate(self._get(f"/buckets/{n}")) for n in names]

    def refresh(self, name: str, on_progress: OnProgress, *, poll_s: float = 0.5) -> RefreshOut:
        run = RefreshOut.model_validate(self._call("POST", f"/buckets/{name}/refresh"))
        return self.follow(
            run,
            lambda r: RefreshOut.model_validate(
                self._get(f"/buckets/{name}/refreshes/{r.refresh_id}")
            ),
            on_progress,
            poll_s,
        )

    def _get(self, path: str) -> Any:
        return self._call("GET", path)
