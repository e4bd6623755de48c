"""The release tables, exactly as revision 0008 creates them (``ragline/migrations``).

``releases`` holds each release's immutable bundle and its moving status and stage;
``release_events`` every move (who, from what percent to what, and why);
``release_tallies`` the answers each release gave, as counters one process wrote for
one stage at a time (insert-only: a flush is one row, so replicas never contend).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class ReleaseBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[int]: JSON,
    }


class ReleaseRow(ReleaseBase):
    __tablename__ = "releases"
    __table_args__ = (Index("ix_releases_status", "status"),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    stage_percent: Mapped[int] = mapped_column(Integer)
    prompt_name: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stage_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    eval: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReleaseEventRow(ReleaseBase):
    __tablename__ = "release_events"
    __table_args__ = (Index("ix_release_events_version", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_percent: Mapped[int] = mapped_column(Integer)
    to_percent: Mapped[int] = mapped_column(Integer)
    by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReleaseTallyRow(ReleaseBase):
    __tablename__ = "release_tallies"
    __table_args__ = (Index("ix_release_tallies_epoch", "epoch", "arm"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The stage the answers were given in ("rel-4@25"), and who gave them: a release
    # id, or "baseline" (the service's own settings, before any release is current).
    epoch: Mapped[str] = mapped_column(String(32))
    arm: Mapped[str] = mapped_column(String(32))
    requests: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    degraded: Mapped[int] = mapped_column(Integer)
    abstained: Mapped[int] = mapped_column(Integer)
    grounded: Mapped[int] = mapped_column(Integer)
    grounding_sum: Mapped[float] = mapped_column(Float)
    cost_usd: Mapped[float] = mapped_column(Float)
    latency_buckets: Mapped[list[int]] = mapped_column(JSON)
    flushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
