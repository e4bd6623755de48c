"""How far a bucket's index lags behind the bucket, against the bucket's SLA.

The lag is the age of the oldest change the bucket has that search does not show yet
(0 when everything registered is indexed). A change is seen when a refresh lists it
or an upload registers it, so the time since the last finished refresh is reported
beside it: together they bound what a user can be missing. A function over the
ports, called per request, so the metrics layer can call it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingest.ports import DocumentRegistry, RefreshLog
from ingest.records import Bucket


@dataclass(frozen=True, slots=True)
class Freshness:
    lag_s: float
    max_lag_s: int
    over_sla: bool
    pending: int
    failed: int
    last_refresh_at: datetime | None


def bucket_freshness(
    registry: DocumentRegistry,
    runs: RefreshLog,
    bucket: Bucket,
    *,
    default_max_lag_s: int,
    now: datetime,
) -> Freshness:
    backlog = registry.backlog(bucket.name)
    lag = (
        max(0.0, (now - backlog.oldest_change).total_seconds())
        if backlog.oldest_change is not None
        else 0.0
    )
    max_lag = bucket.max_lag_s or default_max_lag_s
    last = runs.last_finished(bucket.name)
    return Freshness(
        lag_s=round(lag, 3),
        max_lag_s=max_lag,
        over_sla=lag > max_lag,
        pending=backlog.pending,
        failed=backlog.failed,
        last_refresh_at=last.finished_at if last else None,
    )
