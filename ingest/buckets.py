"""Creating a bucket through the API: the checks a user's request must pass.

An operator's ``ragline ingest PATH`` names folders on their own machine and creates
its bucket directly; a request from the network may only name a source the store
accepts (``BucketStore.check_source``: inside an allowed root, never the service's
own data).
"""

from __future__ import annotations

from collections.abc import Sequence

from chunkers.registry import known_doc_type
from ingest.pipeline import IngestionDeps
from ingest.records import Bucket
from kernel.errors import InvalidInputError


def create_bucket(
    deps: IngestionDeps,
    name: str,
    roles: Sequence[str],
    doc_type: str | None,
    source: str | None,
    max_lag_s: int | None = None,
    *,
    region: str | None = None,
    sensitivity: str | None = None,
    pii: str = "allow",
) -> Bucket:
    """Raises InvalidInputError (no roles, unknown type, refused source), ConflictError."""
    cleaned = sorted({r.strip() for r in roles if r.strip()})
    if not cleaned:
        raise InvalidInputError("a bucket needs at least one role")
    checked_type = known_doc_type(doc_type)
    checked_source = None if source is None else deps.store.check_source(source)
    return deps.buckets.create_bucket(
        name,
        cleaned,
        checked_type,
        checked_source,
        max_lag_s,
        region=region,
        sensitivity=sensitivity,
        pii=pii,
    )
