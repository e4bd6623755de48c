"""Answer records in the audit log: what made each answer, for audit and evaluation.

The ``AnswerLog`` of ``answer.service``: each answer is one ``kind="answer"`` row
whose target is the answer's id and whose details say which model, retrieval
settings and chunks made it, how grounded it was, and (already PII-redacted by the
caller) the question, the answer and its citations. With ``question_text_days`` at
0 the question is dropped before it is written; retention strips it later otherwise.
Deleting a document erases the question, the answer and the document's title, source
and section from the records citing it (``governance.erasure``); they read as None.

With the database down, ``/ask`` still answers (the retrieval gate answers from
memory); an answer whose record cannot be written is given all the same, and the
miss is logged (ids only) and counted in :attr:`AuditedAnswers.unrecorded`: losing
an audit line during an outage is better than refusing every answer for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance.audit_hashing import is_stripped
from governance.audit_log import Actor, AuditLog
from governance.erasure import citation_entries
from kernel.errors import DependencyUnavailableError, NotFoundError
from kernel.settings import AuditSettings

log = logging.getLogger(__name__)

ANSWER_ACTION = "answer"


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    answer_id: str
    key_id: str
    team: str | None
    identity: str | None
    model: str
    retrieval: dict[str, Any]
    chunk_ids: list[str]
    cited_chunk_ids: list[str]
    grounding: float
    latency_ms: float
    generation: dict[str, Any] | None
    # None when never stored (question_text_days = 0, or no PII screen), stripped by
    # retention (the question) or erased with a document they cite (governance.erasure).
    question: str | None
    answer: str | None
    # Erased with a document: its entries keep their ids, not its title, source, section.
    citations: list[dict[str, Any]] | None
    degraded: bool
    created_at: datetime


class AuditedAnswers:
    """Answer records written to, and read back from, the audit log."""

    def __init__(self, audit_log: AuditLog, settings: AuditSettings) -> None:
        self._audit = audit_log
        self._settings = settings
        self._lock = threading.Lock()
        self._unrecorded = 0

    @property
    def unrecorded(self) -> int:
        """Answers given since start-up whose record could not be written (database down)."""
        return self._unrecorded

    def record_answer(
        self,
        *,
        answer_id: str,
        key_id: str,
        model: str,
        retrieval: dict[str, Any],
        chunk_ids: Sequence[str],
        cited_chunk_ids: Sequence[str],
        grounding: float,
        latency_ms: float,
        generation: dict[str, Any] | None = None,
        team: str | None = None,
        identity: str | None = None,
        question: str | None = None,
        answer: str | None = None,
        citations: list[dict[str, Any]] | None = None,
        degraded: bool = False,
    ) -> None:
        """Write the record; with the database down, log and count the miss instead of raising."""
        keep_question = self._settings.question_text_days > 0
        details: dict[str, object] = {
            "model": model,
            "retrieval": retrieval,
            "chunk_ids": list(chunk_ids),
            "cited_chunk_ids": list(cited_chunk_ids),
            "grounding": grounding,
            "latency_ms": latency_ms,
            "generation": generation,
            "question": question if keep_question else None,
            "answer": answer,
            "citations": citations,
            "degraded": degraded,
        }
        try:
            self._audit.record(
                actor=Actor(key_id=key_id, team=team, identity=identity),
                action=ANSWER_ACTION,
                target=answer_id,
                details=details,
                kind="answer",
            )
        except DependencyUnavailableError:
            with self._lock:
                self._unrecorded += 1
                missed = self._unrecorded
            # Ids only: the question and answer texts never go to the log.
            log.warning(
                "answer %s was given but not recorded: the database is unavailable "
                "(%d unrecorded since start-up)",
                answer_id,
                missed,
            )

    def get_answer(self, answer_id: str) -> AnswerRecord:
        """The record of ``answer_id``; :class:`NotFoundError` if never recorded or purged."""
        found = self._audit.find(kind="answer", target=answer_id)
        if found is None or found.purged or found.details is None:
            raise NotFoundError(f"answer '{answer_id}' not found")
        d = found.details
        question, answer = d.get("question"), d.get("answer")
        return AnswerRecord(
            answer_id=answer_id,
            key_id=found.key_id or "",
            team=found.team,
            identity=found.identity,
            model=d["model"],
            retrieval=d["retrieval"],
            chunk_ids=list(d["chunk_ids"]),
            cited_chunk_ids=list(d["cited_chunk_ids"]),
            grounding=float(d["grounding"]),
            latency_ms=float(d["latency_ms"]),
            generation=d.get("generation"),
            question=None if is_stripped(question) else question,
            answer=None if is_stripped(answer) else answer,
            citations=citation_entries(d.get("citations")),
            degraded=bool(d.get("degraded", False)),
            created_at=found.ts,
        )
