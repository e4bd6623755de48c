"""The ports ingestion depends on: where documents are recorded, where objects are kept.

The pipeline, registration and folder ingestion see only these Protocols; the
adapters (``ingest.registry.Registry`` and ``ingest.bucket_catalog.BucketCatalog`` on
SQLAlchemy, ``ingest.storage.LocalBucketStore``
on local folders) are chosen by the runtime, so an S3 store or another database plugs
in without touching the domain code. An import contract (``pyproject.toml``) keeps it so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from ingest.records import (
    Backlog,
    Bucket,
    CarriedObject,
    Document,
    IndexedCommit,
    RefreshCounts,
    RefreshFailure,
    RefreshRun,
    RefreshStatus,
    Registration,
    Schedule,
    ServedDocument,
)
from ingest.schedule_rules import ScheduleRule

# Whether a key is a registered document of the bucket being written (an object the
# bucket made, so the store may replace it).
Registered = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    path: Path
    size_bytes: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class ListedObject:
    """An object as the bucket's listing shows it, before a byte of it is read.

    ``tag`` changes whenever the content may have (an S3 ETag; mtime and size for a
    folder): a refresh compares tags first and hashes only the objects whose tag moved.
    """

    key: str
    size_bytes: int
    tag: str
    changed_at: datetime  # timezone-aware, UTC


class BucketStore(Protocol):
    """Where a bucket's objects and derived files (email attachments) live.

    ``write`` streams an object in and refuses (``PayloadTooLargeError``) past
    ``max_bytes``, a name that leaves the bucket (``InvalidInputError``/``ConflictError``)
    and replacing an object the bucket did not create (``ConflictError``); it never
    leaves a partial object where the bucket's listing could see it.
    """

    def check_source(self, raw: str) -> str:
        """The canonical form of a bucket ``source`` a user asked for, or InvalidInputError.

        Refuses, with one message whatever the reason (no existence oracle), a source
        the service may not read from: outside the configured roots, or its own data.
        """
        ...

    def path_for(self, bucket: str, source: str | None, key: str) -> Path:
        """A local file with the object's current bytes (a remote store downloads it)."""
        ...

    def list_objects(self, bucket: str, source: str | None) -> Iterator[ListedObject]:
        """Every object of the bucket, in key order; never a partial upload or hidden file.

        Keys are the keys ``write`` gives; ``DependencyUnavailableError`` when the
        store cannot be reached (a refresh must then delete nothing).
        """
        ...

    def derived_path(self, parent_id: str, key: str) -> Path: ...

    def write(
        self,
        bucket: str,
        source: str | None,
        name: str,
        stream: BinaryIO,
        *,
        max_bytes: int,
        registered: Registered | None = None,
    ) -> StoredObject: ...

    def delete_object(self, bucket: str, source: str | None, key: str) -> None:
        """Remove an object from the bucket (gone already is fine)."""
        ...

    def derived_key(self, filename: str) -> str:
        """The key :meth:`write_derived` will store ``filename`` under."""
        ...

    def write_derived(self, parent_id: str, filename: str, content: bytes) -> StoredObject: ...

    def delete_derived(self, parent_id: str) -> None: ...

    def delete_derived_object(self, parent_id: str, key: str) -> None:
        """Remove one file :meth:`write_derived` wrote; a missing one is no error."""
        ...


class TextRedaction(Protocol):
    def redact(self, text: str) -> str: ...


class PiiFinding(Protocol):
    @property
    def entity_type(self) -> str: ...


class PiiRedactor(Protocol):
    """Finds personal data and opens a redaction (``governance.pii.PiiDetector``)."""

    def find(self, text: str) -> Sequence[PiiFinding]: ...

    def redaction(self) -> TextRedaction: ...


class Buckets(Protocol):
    """The buckets: ``NotFoundError`` for an unknown one, ``ConflictError`` for a taken name."""

    def create_bucket(
        self,
        name: str,
        roles: Sequence[str],
        doc_type: str | None,
        source: str | None,
        max_lag_s: int | None = None,
        *,
        region: str | None = None,
        sensitivity: str | None = None,
        pii: str = "allow",
    ) -> Bucket: ...

    def get_bucket(self, name: str) -> Bucket: ...

    def find_bucket(self, name: str) -> Bucket | None: ...

    def list_buckets(self) -> list[Bucket]: ...


class DocumentRegistry(Protocol):
    """Documents: what exists, which version is served, to whom, what failed.

    Every method is one transaction. ``NotFoundError`` for an unknown document;
    ``mark_indexed`` raises
    ``NotFoundError`` when the document was deleted since it was taken and
    ``SupersededError`` when a newer version is served already. ``served`` is what
    retrieval's gate asks on every hit.
    """

    def register(
        self,
        *,
        bucket: str,
        key: str,
        content_hash: str,
        size_bytes: int,
        roles: Sequence[str],
        doc_type: str | None,
        title: str | None,
        parent_id: str | None = None,
        source_tag: str | None = None,
        changed_at: datetime | None = None,
        declared_type: str | None = None,
    ) -> Registration: ...

    def get(self, document_id: str) -> Document: ...

    def list_documents(
        self,
        *,
        status: str | None = None,
        bucket: str | None = None,
        limit: int = 100,
        offset: int = 0,
        readable_by: frozenset[str] | None = None,
    ) -> list[Document]:
        """One page in (bucket, key) order; ``readable_by`` filters before the page is cut."""
        ...

    def children(self, document_id: str) -> list[Document]: ...

    def mark_processing(self, document_id: str) -> Document: ...

    def next_version(self, document_id: str) -> int: ...

    def mark_indexed(
        self,
        document_id: str,
        *,
        version: int,
        content_hash: str,
        fingerprint: str,
        chunks: int,
        detected_type: str,
        fmt: str,
        title: str | None,
        parse_seconds: float | None,
        built_roles: Sequence[str],
        incarnation: str | None,
        carried: Sequence[CarriedObject] = (),
    ) -> IndexedCommit:
        """Serve ``version`` and register what it carried, in one commit."""
        ...

    def mark_unchanged(self, document_id: str) -> Document: ...

    def mark_failed(
        self, document_id: str, *, code: str, message: str, fmt: str | None = None
    ) -> Document: ...

    def requeue(self, document_id: str) -> Document: ...

    def delete(self, document_id: str) -> Document: ...

    def backlog(self, bucket: str) -> Backlog: ...

    def count_by_status(self) -> dict[str, int]:
        """How many documents have each status, over every bucket (absent: none)."""
        ...

    def served(self, document_ids: Iterable[str]) -> dict[str, ServedDocument]: ...


class IngestObserver(Protocol):
    """Told how each ingestion attempt ended (``observability.ingest_metrics`` counts it).

    Called once per attempt, by the pipeline, in the process that ran it: ``outcome`` is
    the pipeline's (indexed, unchanged, failed, deleted, superseded), ``format`` the
    parser's (None when unknown), ``error_code`` set only when failed, and ``stages`` the
    seconds spent in each stage the attempt went through (``parse``, ``embed``,
    ``write``; none when it stopped before writing). Must not raise.
    """

    def observed(
        self,
        *,
        outcome: str,
        format: str | None,
        error_code: str | None,
        stages: Mapping[str, float],
    ) -> None: ...


class RefreshLog(Protocol):
    """Refresh runs and the per-bucket lease that keeps them one at a time."""

    def request(self, bucket: str, trigger: str, now: datetime) -> tuple[RefreshRun, bool]: ...

    def get(self, run_id: str) -> RefreshRun: ...

    def list_runs(self, bucket: str, limit: int = 20) -> list[RefreshRun]: ...

    def last_finished(self, bucket: str) -> RefreshRun | None: ...

    def acquire(self, run_id: str, lease_s: int, now: datetime) -> bool: ...

    def renew(self, run_id: str, lease_s: int, now: datetime) -> bool: ...

    def progress(self, run_id: str, *, total: int, done: int, counts: RefreshCounts) -> None: ...

    def finish(
        self,
        run_id: str,
        *,
        status: RefreshStatus,
        now: datetime,
        counts: RefreshCounts | None = None,
        failures: Sequence[RefreshFailure] = (),
        error: str | None = None,
    ) -> RefreshRun: ...


class ScheduleBook(Protocol):
    """Bucket schedules; ``claim_due`` hands each firing to exactly one scheduler."""

    def put(self, bucket: str, rule: ScheduleRule, next_run_at: datetime) -> Schedule: ...

    def get(self, bucket: str) -> Schedule: ...

    def find(self, bucket: str) -> Schedule | None: ...

    def delete(self, bucket: str) -> None: ...

    def claim_due(
        self, now: datetime, next_for: Callable[[Schedule, datetime], datetime]
    ) -> list[Schedule]: ...
