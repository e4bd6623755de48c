"""Registering an object: the one way an upload, a folder walk or a refresh offers a file.

Registration is where access changes: the registry records the new roles in the same
transaction that queues the document, and any narrowing reaches the chunks already
served before the caller returns, not after the queue gets to the document (a slow
file ahead of it, or a new file that fails to parse, must not keep old roles alive).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from chunkers.registry import known_doc_type
from ingest.pipeline import IngestionDeps, apply_narrowed_roles
from ingest.registry import Registration
from ragline.errors import DependencyUnavailableError

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
