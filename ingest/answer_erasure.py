"""Erasing a removed document from the answer records, whoever removed it.

A user's ``DELETE /documents/{id}`` and a refresh that finds the object gone end the
same way for the audit log: the answer records citing the document (and its
attachments) lose the texts derived from it (``governance.erasure``). The removal has
happened by then, so with the database down the erasure is logged as pending, with
the exact command that completes it, rather than undoing or failing the removal.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from governance.audit_port import Actor
from governance.erasure_port import DocumentErasure
from ingest.ports import DocumentRegistry
from kernel.errors import DependencyUnavailableError

log = logging.getLogger(__name__)


def attachment_ids(registry: DocumentRegistry, document_id: str) -> list[str]:
    """Every attachment below a document, depth first: known only until it is deleted."""
    found: list[str] = []
    for child in registry.children(document_id):
        found += [child.id, *attachment_ids(registry, child.id)]
    return found


def erase_answer_records(
    erasure: DocumentErasure, document_id: str, attachments: Sequence[str], actor: Actor
) -> None:
    """Erase now; with the database down, log the erasure as pending (ids only)."""
    try:
        erasure.erase_document(document_id, actor=actor, attachment_ids=attachments)
    except DependencyUnavailableError:
        extra = "".join(f" --attachment {a}" for a in attachments)
        log.warning(
            "erasure of the answer records citing document %s is pending: the database is "
            "unavailable; run `ragline audit erase --document %s%s`",
            document_id,
            document_id,
            extra,
        )
