"""The managed keys' table, exactly as revision 0005 creates it (``ragline/migrations``).

On a base of its own, as the usage and prompt tables are: ``governance.keys`` is its
only reader and writer, and the schema test compares this model with the revisions.
A key's secret is never stored, only its SHA-256 (``secret_hash``, unique, which is
how a request finds its key) and a short display prefix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class KeyBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        list[str]: JSON,
        dict[str, float]: JSON,
    }


class ApiKeyRow(KeyBase):
    """One managed key: who it belongs to, what it may see, and whether it still works."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_secret_hash", "secret_hash", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(JSON)
    # Spend limits in US dollars ({"daily_hard_usd": 5.0, ...}); None: none set.
    budget: Mapped[dict[str, float] | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
