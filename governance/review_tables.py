"""The review queue's tables: one item per queued answer, one feedback per answer and key.

They live in the registry's database and are created by the migrations (revision
0006); these models must stay exactly what the migrations build (the schema test
compares them with Alembic's autogenerate). They have a base of their own so the
review room depends on nothing but the kernel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class ReviewBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {list[str]: JSON}


class ReviewItemRow(ReviewBase):
    """An answer waiting for (or given) a reviewer's decision; at most one per answer."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    answer_id: Mapped[str] = mapped_column(String(36), unique=True)
    # Why it was queued, in the order the reasons arrived: sample, low_grounding,
    # degraded, feedback.
    reasons: Mapped[list[str]] = mapped_column(JSON)
    grounding: Mapped[float | None] = mapped_column(Float, nullable=True)
    degraded: Mapped[bool] = mapped_column(Boolean)
    # open, approved, rejected or corrected.
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    corrected_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    expected_source: Mapped[str | None] = mapped_column(String(512), nullable=True)
    expected_terms: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class FeedbackRow(ReviewBase):
    """The asking key's rating of an answer; a new rating replaces it and is counted."""

    __tablename__ = "answer_feedback"

    answer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # How many earlier ratings this one replaced.
    replaced: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
