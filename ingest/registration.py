"""Registering an object: the one way an upload, a folder walk or a refresh offers a file.

``accept_upload`` is the upload use case (the API's upload route and the CLI's folder
ingestion both call it); ``register_object`` is the part every source shares;
``retry_document`` queues a failed (or any) document again.

Registration is where access changes: the registry records the new roles in the same
transaction that queues the document, and any narrowing reaches the chunks already
served before the caller returns, not after the queue gets to the document (a slow
file ahead of it, or a new file that fails to parse, must not keep old roles alive).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import BinaryIO

from chunkers.registry import known_doc_type
from ingest.pipeline import IngestionDeps, apply_narrowed_roles
from ingest.ports import DocumentRegistry, Registered
from ingest.records import Bucket, Document, Registration, document_id_for
from kernel.errors import DependencyUnavailableError, NotFoundError

log = logging.getLogger(__name__)


def register_object(
    deps: IngestionDeps,
    *,
    bucket: str,
    key: str,
    content_hash: str,
    size_bytes: int,
    roles: Sequence[str],
    doc_type: str | None,
    title: str | None,
    source_tag: str | None = None,
    changed_at: datetime | None = None,
) -> Registration:
    """Record the object and apply any narrowing of roles to its served chunks.

    Raises :class:`InvalidInputError` for an unknown ``doc_type``.

    If the index cannot be reached for the narrowing, the registration still stands:
    retrieval checks the registry's roles on every hit, so nothing leaks meanwhile, and
    the next ingestion of the document rewrites its chunks with the new roles.
    """
    registration = deps.registry.register(
        bucket=bucket,
        key=key,
        content_hash=content_hash,
        size_bytes=size_bytes,
        roles=roles,
        doc_type=known_doc_type(doc_type),
        title=title,
        source_tag=source_tag,
        changed_at=changed_at,
    )
    if registration.roles_changed:
        try:
            apply_narrowed_roles(deps, registration.roles_changed)
        except DependencyUnavailableError:
            log.warning(
                "document %s: roles narrowed in the registry; the index payload will follow "
                "on re-ingestion",
                registration.document.id,
            )
    return registration


def accept_upload(
    deps: IngestionDeps,
    bucket: Bucket,
    name: str,
    stream: BinaryIO,
    *,
    roles: Sequence[str] | None,
    doc_type: str | None,
    title: str | None,
    max_bytes: int,
) -> Registration:
    """Store an object in its bucket, then register it under the given or the bucket's roles.

    The type is checked before a byte is copied, the name by the store; the store refuses an
    object over ``max_bytes``, a path leaving the bucket, or a file it did not create.
    """
    chosen_type = known_doc_type(doc_type) or bucket.doc_type
    stored = deps.store.write(
        bucket.name,
        bucket.source,
        name,
        stream,
        max_bytes=max_bytes,
        registered=_registered_in(deps.registry, bucket.name),
    )
    return register_object(
        deps,
        bucket=bucket.name,
        key=stored.key,
        content_hash=stored.content_hash,
        size_bytes=stored.size_bytes,
        roles=roles or bucket.roles,
        doc_type=chosen_type,
        title=title.strip() if title and title.strip() else None,
    )


def retry_document(
    registry: DocumentRegistry, submit: Callable[[str], None], document_id: str
) -> Document:
    """Queue a document for ingestion again.

    It is recorded as queued before the send, so a send lost to a broker outage is
    re-sent by the scheduler's sweep rather than forgotten.
    """
    doc = registry.requeue(document_id)
    submit(doc.id)
    return doc


def _registered_in(registry: DocumentRegistry, bucket: str) -> Registered:
    """Whether a key is a registered document of ``bucket``: an object the bucket made."""

    def registered(key: str) -> bool:
        try:
            registry.get(document_id_for(bucket, key))
        except NotFoundError:
            return False
        return True

    return registered
