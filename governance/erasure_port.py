"""Erasing what the audit log derived from a deleted document: the port the API names.

``governance.erasure.AnswerErasure`` is the adapter (it rewrites rows of the chain,
so the import contracts keep it out of the API, as they keep ``governance.audit_log``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from governance.audit_port import Actor


@dataclass(frozen=True, slots=True)
class ErasureResult:
    """What one erasure did; ``event_seq`` is the ``audit.erase`` row that proves it."""

    document_id: str
    # The answer records emptied of the document's texts by this erasure, by seq.
    erased_seqs: tuple[int, ...]
    event_seq: int
    attachment_ids: tuple[str, ...] = ()

    @property
    def erased(self) -> int:
        return len(self.erased_seqs)


class DocumentErasure(Protocol):
    """Empties the answer records citing a document of the texts derived from it."""

    def erase_document(
        self, document_id: str, *, actor: Actor, attachment_ids: Sequence[str] = ()
    ) -> ErasureResult:
        """Erase now, and append the ``audit.erase`` event naming what was erased.

        Idempotent: a record erased before is left as it is (a new event is still
        written, with nothing more erased). Raises ``DependencyUnavailableError``
        with the database down; then nothing was erased.
        """
        ...
