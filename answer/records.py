"""Answer records: what made each answer, for audit and evaluation.

The question text is kept out until PII redaction exists. Records live in the
registry's database (their own table), and move to the audit log in a later issue;
nothing but :class:`AnswerRecords` reads or writes them.

With the database down, ``/ask`` still answers (the retrieval gate answers from
memory, ``retrieval.served_memory``); an answer whose record cannot be written is
given all the same, and the miss is logged (ids only) and counted in
:attr:`AnswerRecords.unrecorded`: losing an audit line during an outage is better
than refusing every answer for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, String
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from kernel.errors import DependencyUnavailableError, NotFoundError

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class _Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class AnswerRow(_Base):
    __tablename__ = "answers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    retrieval: Mapped[dict[str, Any]] = mapped_column(JSON)
    chunk_ids: Mapped[list[str]] = mapped_column(JSON)
    cited_chunk_ids: Mapped[list[str]] = mapped_column(JSON)
    grounding: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # Generated answers: prompt version, deployment (and those that failed), usage, cost.
    generation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class AnswerRecords:
    """The ``AnswerLog`` of ``answer.service``, on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        _Base.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
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
    ) -> None:
        """Write the record; with the database down, log and count the miss instead of raising."""
        try:
            with self._sessions.begin() as s:
                s.add(
                    AnswerRow(
                        id=answer_id,
                        key_id=key_id,
                        model=model,
                        retrieval=retrieval,
                        chunk_ids=list(chunk_ids),
                        cited_chunk_ids=list(cited_chunk_ids),
                        grounding=grounding,
                        latency_ms=latency_ms,
                        generation=generation,
                    )
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

    def get_answer(self, answer_id: str) -> AnswerRow:
        with self._sessions.begin() as s:
            row = s.get(AnswerRow, answer_id)
            if row is None:
                raise NotFoundError(f"answer '{answer_id}' not found")
            s.expunge(row)
            return row
