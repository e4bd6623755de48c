"""The usage room's tables: one row per generated answer, one per budget alert.

They live in the registry's database and are created by the migrations (revision
0003); these models must stay exactly what the migrations build (the schema test
compares them with Alembic's autogenerate). They have a base of their own so the
usage room depends on nothing but the kernel.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UsageBase(DeclarativeBase):
    pass


class UsageEventRow(UsageBase):
    """What one generated answer cost, and who it is charged to."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_team_created_at", "team", "created_at"),
        Index("ix_usage_events_key_id_created_at", "key_id", "created_at"),
    )

    answer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    key_name: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    deployment: Mapped[str] = mapped_column(String(64))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BudgetAlertRow(UsageBase):
    """A limit reached, once per subject, period and kind (the unique constraint)."""

    __tablename__ = "budget_alerts"
    __table_args__ = (UniqueConstraint("scope", "subject", "period", "period_start", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(8))  # "team" or "key"
    subject: Mapped[str] = mapped_column(String(64))  # the team, or the key's name
    period: Mapped[str] = mapped_column(String(8))  # "day" or "month"
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(8))  # "soft" or "hard"
    limit_usd: Mapped[float] = mapped_column(Float)
    spent_usd: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
