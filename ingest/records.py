"""What the registry knows, as plain values: buckets, documents, registrations.

These travel between the registry adapter and everything that uses it (the pipeline,
the API, the workers); nothing here knows how they are stored.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

DocumentStatus = Literal["queued", "processing", "indexed", "failed"]
RefreshStatus = Literal["queued", "running", "finished", "failed", "skipped"]
RefreshTrigger = Literal["cli", "api", "schedule"]
_DOC_NAMESPACE = uuid.UUID("6f1f3c2e-8f3a-4d7e-9a51-0c2b7d9e4a10")


def document_id_for(bucket: str, key: str) -> str:
    """Stable id: the same object in the same bucket is always the same document."""
    return str(uuid.uuid5(_DOC_NAMESPACE, f"{bucket}\x00{key}"))


def fingerprint(
    content_hash: str,
    roles: Iterable[str],
    doc_type: str | None,
    title: str | None,
    declared_type: str | None = None,
) -> str:
    """What the served chunks were built from: same fingerprint, nothing to redo.

    The declared content type joins the basis only when there is one, so documents
    without one (every document from before it was kept) keep their fingerprints.
    """
    parts = [content_hash, ",".join(sorted(roles)), doc_type or "", title or ""]
    if declared_type:
        parts.append(declared_type)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    roles: tuple[str, ...]
    doc_type: str | None
    source: str | None
    max_lag_s: int | None = None
    # Data residency: its text only reaches model deployments of this region.
    region: str | None = None
    # A label routing rules may map to a model tier (models file `sensitivity_tiers`).
    sensitivity: str | None = None
    # "redact": personal data is replaced by placeholders before anything is indexed.
    pii: str = "allow"


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    bucket: str
    key: str
    title: str | None
    parsed_title: str | None
    roles: tuple[str, ...]
    doc_type: str | None
    detected_type: str | None
    format: str | None
    parent_id: str | None
    status: DocumentStatus
    content_hash: str | None
    indexed_hash: str | None
    indexed_version: int
    indexed_fingerprint: str | None
    chunks: int
    size_bytes: int
    error_code: str | None
    error: str | None
    attempts: int
    parse_seconds: float | None
    updated_at: datetime
    indexed_at: datetime | None
    served_roles: tuple[str, ...] = ()
    incarnation: str | None = None
    source_tag: str | None = None
    source_changed_at: datetime | None = None
    # The content type its container declared (an email attachment's Content-Type,
    # with charset): evidence for detection, weighed against the bytes at each parse.
    declared_type: str | None = None

    def listable_by(self, roles: frozenset[str]) -> bool:
        """Whether a caller holding ``roles`` may know this document exists: its current
        roles, which whoever uploaded it granted to its key, even before its content is
        served under them. A document read out of a container (an attachment, an
        archive member) never holds roles its container's served version does not
        reach (``Registry`` narrows them at once and widens them only when a container
        version built under the wider roles commits), since its existence and its name
        come from content."""
        return bool(roles & set(self.roles))

    def content_readable_by(self, roles: frozenset[str]) -> bool:
        """Whether a caller holding ``roles`` may see what was read from the content
        (the title parsed off it, its detected type, its format, its chunk count): the
        served version's roles, as for its text."""
        return bool(roles & set(self.served_roles))


@dataclass(frozen=True, slots=True)
class ServedDocument:
    """What retrieval may show of a document right now: one version, to these roles."""

    version: int
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class Registration:
    """Outcome of offering an object to the registry: queue it, or nothing to do."""

    document: Document
    needs_ingest: bool
    # Documents whose roles this registration changed (the document and its
    # attachments): the caller applies the change to their chunks in the index.
    roles_changed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CarriedObject:
    """An attachment or archive member, already stored, to register with its container.

    ``key`` is its key under the container's derived folder; ``declared_type`` the
    content type the container declared for it (normalised, or None).
    """

    key: str
    content_hash: str
    size_bytes: int
    title: str | None
    declared_type: str | None


@dataclass(frozen=True, slots=True)
class IndexedCommit:
    """A served version and the registrations of what it carried, made in one commit.

    So a client that sees the container ``indexed`` sees its children listed too, and
    a crash cannot leave a served container whose children were never registered.
    The container is the truth about what it carries, as a bucket is about its objects.
    """

    document: Document
    carried: tuple[Registration, ...] = ()
    # What an earlier version carried and this one does not, deleted in the same commit
    # (with what they carried); the caller removes their chunks and files.
    dropped: tuple[Document, ...] = ()


@dataclass(frozen=True, slots=True)
class RefreshCounts:
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class RefreshFailure:
    key: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class RefreshRun:
    """One reconciliation of a bucket with its index, as recorded."""

    id: str
    bucket: str
    trigger: str
    status: RefreshStatus
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    total: int
    done: int
    counts: RefreshCounts
    failures: tuple[RefreshFailure, ...]
    error: str | None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a bucket refreshes by itself: ``every_s`` seconds, or on ``cron`` in ``timezone``."""

    bucket: str
    every_s: int | None
    cron: str | None
    timezone: str
    next_run_at: datetime


@dataclass(frozen=True, slots=True)
class Backlog:
    """A bucket's documents not yet searchable as they are now."""

    pending: int  # queued or being processed
    oldest_change: datetime | None  # when the oldest pending one changed in the bucket
    failed: int  # their last ingestion failed: the served version (if any) is older
