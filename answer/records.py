"""Answer records: what made each answer, for audit and evaluation.

The question text is kept out until PII redaction exists. Records live in the
registry's database (their own table), and move to the audit log in a later issue;
nothing but :class:`AnswerRecords` reads or writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, String
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from kernel.errors import NotFoundError


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


class AnswerRecords:
    """The ``AnswerLog`` of ``answer.service``, on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        _Base.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

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
    ) -> None:
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
                )
            )

    def get_answer(self, answer_id: str) -> AnswerRow:
        with self._sessions.begin() as s:
            row = s.get(AnswerRow, answer_id)
            if row is None:
                raise NotFoundError(f"answer '{answer_id}' not found")
            s.expunge(row)
            return row
