"""The ports ingestion depends on: where documents are recorded, where objects are kept.

The pipeline, registration and folder ingestion see only these Protocols; the
adapters (``ingest.registry.Registry`` and ``ingest.bucket_catalog.BucketCatalog`` on
SQLAlchemy, ``ingest.storage.LocalBucketStore``
on local folders) are chosen by the runtime, so an S3 store or another database plugs
in without touching the domain code. An import contract (``pyproject.toml``) keeps it so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from ingest.records import Bucket, Document, Registration, ServedDocument

# Whether a key is a registered document of the bucket being written (an object the
# bucket made, so the store may replace it).
Registered = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    path: Path
    size_bytes: int
    content_hash: str


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

    def path_for(self, bucket: str, source: str | None, key: str) -> Path: ...

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

    def write_derived(self, parent_id: str, filename: str, content: bytes) -> StoredObject: ...

    def delete_derived(self, parent_id: str) -> None: ...


class Buckets(Protocol):
    """The buckets: ``NotFoundError`` for an unknown one, ``ConflictError`` for a taken name."""

    def create_bucket(
        self, name: str, roles: Sequence[str], doc_type: str | None, source: str | None
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
    ) -> Document: ...

    def mark_unchanged(self, document_id: str) -> Document: ...

    def mark_failed(
        self, document_id: str, *, code: str, message: str, fmt: str | None = None
    ) -> Document: ...

    def requeue(self, document_id: str) -> Document: ...

    def delete(self, document_id: str) -> Document: ...

    def served(self, document_ids: Iterable[str]) -> dict[str, ServedDocument]: ...
