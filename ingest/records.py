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
_DOC_NAMESPACE = uuid.UUID("6f1f3c2e-8f3a-4d7e-9a51-0c2b7d9e4a10")


def document_id_for(bucket: str, key: str) -> str:
    """Stable id: the same object in the same bucket is always the same document."""
    return str(uuid.uuid5(_DOC_NAMESPACE, f"{bucket}\x00{key}"))


def fingerprint(
    content_hash: str, roles: Iterable[str], doc_type: str | None, title: str | None
) -> str:
    """What the served chunks were built from: same fingerprint, nothing to redo."""
    basis = "\x00".join([content_hash, ",".join(sorted(roles)), doc_type or "", title or ""])
    return hashlib.sha256(basis.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    roles: tuple[str, ...]
    doc_type: str | None
    source: str | None


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
