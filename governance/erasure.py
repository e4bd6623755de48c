"""Erasure: a deleted document's words leave the answer records that cite it, provably.

An answer record keeps the (redacted) question and answer texts and its citations'
titles, sources and sections; an extractive answer quotes the document verbatim.
Deleting the document must take those along, and the log must still verify. So an
erasure, in one transaction under the chain lock (``governance.audit_chain``):

1. finds the answer records whose citations name the document (or one of its
   attachments). Only citations carry document ids: ``chunk_ids`` and
   ``cited_chunk_ids`` are opaque (``uuid5`` of document, version and index);
2. empties each one's question and answer texts and, in the entries citing the
   document, the title, source and section, keeping every id (chunk, document,
   page). Each text stays as its digest, as retention strips a question
   (``governance.audit_hashing``), so the row's digest and the chain still hold;
3. appends one ``audit.erase`` event naming the document, the erased rows' seqs,
   their count, and a seal of each row as left (the digest of its details).

``governance.audit_verify`` accepts an erased row only when the newest erase event
naming it seals exactly what the row holds, so a row erased and edited afterwards,
or a text emptied by hand, still shows as edited.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.engine import Connection

from governance.audit_chain import locked_chain
from governance.audit_hashing import is_stripped, text_digest
from governance.audit_log import AuditLog
from governance.audit_port import Actor
from governance.audit_tables import AuditRow
from governance.audit_verify import ERASE_ACTION, seal
from governance.erasure_port import ErasureResult

# What a citation entry says about its document beyond ids: erased with the document.
CITATION_TEXTS = ("title", "source", "section")
_PAGE = 500


def erase_document(
    audit_log: AuditLog,
    document_id: str,
    *,
    actor: Actor,
    attachment_ids: Sequence[str] = (),
) -> ErasureResult:
    """Erase the answer records citing ``document_id`` (or its attachments); see the module.

    Raises ``DependencyUnavailableError`` with the database down (nothing erased).
    """
    ids = tuple(dict.fromkeys((document_id, *attachment_ids)))
    erased: list[int] = []
    sealed: list[str] = []
    audit_log.settle()  # records of answers already given are written first, then erased
    with locked_chain(audit_log.engine) as chain:
        for seq, details in _citing(chain.conn, ids):
            after = erased_details(details, ids)
            if after is None:
                continue
            chain.conn.execute(update(AuditRow).where(AuditRow.seq == seq).values(details=after))
            erased.append(seq)
            sealed.append(seal(after))
        head = chain.append(
            ts=datetime.now(UTC),
            kind="event",
            action=ERASE_ACTION,
            key_id=actor.key_id,
            team=actor.team,
            identity=actor.identity,
            target=document_id,
            details={
                "document_id": document_id,
                "attachment_ids": list(ids[1:]),
                "erased": len(erased),
                "erased_seqs": erased,
                "sealed": sealed,
            },
        )
    return ErasureResult(document_id, tuple(erased), head.seq, ids[1:])


class AnswerErasure:
    """The ``DocumentErasure`` port (``governance.erasure_port``) on the audit log."""

    def __init__(self, audit_log: AuditLog) -> None:
        self._audit = audit_log

    def erase_document(
        self, document_id: str, *, actor: Actor, attachment_ids: Sequence[str] = ()
    ) -> ErasureResult:
        return erase_document(self._audit, document_id, actor=actor, attachment_ids=attachment_ids)


def citation_entries(value: object) -> list[dict[str, Any]] | None:
    """An answer record's citation entries, erased or not; None once stripped whole."""
    if isinstance(value, list):
        return value
    if is_stripped(value) and isinstance(value, dict) and isinstance(value.get("entries"), list):
        entries: list[dict[str, Any]] = value["entries"]
        return entries
    return None


def erased_details(details: dict[str, Any], ids: Sequence[str]) -> dict[str, Any] | None:
    """The details with what ``ids`` gave them erased; None if none of it is left to erase."""
    citations = details.get("citations")
    entries = citation_entries(citations)
    if entries is None or not any(_cites(e, ids) for e in entries):
        return None
    after = dict(details)
    for name in ("question", "answer"):
        text = after.get(name)
        if text is not None and not is_stripped(text):
            after[name] = {"stripped": True, "erased": True, "sha256": text_digest(text)}
    after["citations"] = {
        "stripped": True,
        "erased": True,
        # The digest of the citations as recorded (kept by a second erasure too).
        "sha256": text_digest(citations),
        "entries": [
            {**e, **dict.fromkeys(CITATION_TEXTS)} if _cites(e, ids) else e for e in entries
        ],
    }
    return None if after == details else after


def _cites(entry: object, ids: Sequence[str]) -> bool:
    return isinstance(entry, dict) and entry.get("document_id") in ids


def _citing(conn: Connection, ids: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Live answer records whose details mention one of ``ids`` (a text match first,
    so the scan reads only candidates; :func:`erased_details` decides), oldest first."""
    mentions = or_(*(cast(AuditRow.details, Text).contains(i, autoescape=True) for i in ids))
    after = 0
    while True:
        rows = conn.execute(
            select(AuditRow.seq, AuditRow.details)
            .where(
                AuditRow.kind == "answer",
                AuditRow.purged_at.is_(None),
                AuditRow.seq > after,
                mentions,
            )
            .order_by(AuditRow.seq)
            .limit(_PAGE)
        ).all()
        for seq, details in rows:
            if isinstance(details, dict):
                yield int(seq), details
        if len(rows) < _PAGE:
            return
        after = int(rows[-1].seq)
