"""The prompt tables, exactly as revision 0003 creates them (``ragline/migrations``).

On their own declarative base, as the answer records are: the prompt book is the only
reader and writer, and the schema test compares these models with the revisions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PromptBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, int]: JSON}


class PromptVersionRow(PromptBase):
    """One version of a prompt: written once, never updated or deleted."""

    __tablename__ = "prompt_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    system: Mapped[str] = mapped_column(Text)
    user: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PromptLabelRow(PromptBase):
    """Where a label of a prompt points now."""

    __tablename__ = "prompt_labels"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PromptLabelMoveRow(PromptBase):
    """Every move of a label, oldest first by ``id``: the history rollbacks read."""

    __tablename__ = "prompt_label_moves"
    __table_args__ = (Index("ix_prompt_label_moves_name_label", "name", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))
    from_version: Mapped[int | None] = mapped_column(Integer)
    to_version: Mapped[int] = mapped_column(Integer)
    moved_by: Mapped[str | None] = mapped_column(String(64))
    moved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PromptSplitRow(PromptBase):
    """A traffic split of a prompt between labels: ``{label: percent}``, summing to 100."""

    __tablename__ = "prompt_splits"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    weights: Mapped[dict[str, int]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
