"""The audit log's tables: the hash-chained rows, and the chain's head.

They live in the registry's database and are created by the migrations (revision
0004); these models must stay exactly what the migrations build (the schema test
compares them with Alembic's autogenerate). They have a base of their own so the
governance room depends on nothing but the kernel.

A row's ``digest`` is the SHA-256 of its canonical content and ``hash`` chains it:
``sha256(prev_hash + digest)``. Retention may empty a row's content (``purged_at``
set) yet keep ``digest`` and ``hash``, so the chain still links across it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class AuditBase(DeclarativeBase):
    pass


class AuditRow(AuditBase):
    """One appended entry: an event, or an answer record (``kind``)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_ts", "ts"),
        Index("ix_audit_log_kind_ts", "kind", "ts"),
        Index("ix_audit_log_target", "target"),
        Index("ix_audit_log_hash", "hash"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))  # "event" or "answer"
    action: Mapped[str] = mapped_column(String(64))
    # The actor (key fingerprint, team, name) and what was acted on; NULL once purged.
    key_id: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    identity: Mapped[str | None] = mapped_column(String(128))
    target: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditHeadRow(AuditBase):
    """The last appended row (one row, id 1): appends read and move it under the chain lock,
    and verify compares it with the last row, so deleting the newest rows shows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
