"""A bucket's personal-data policy: "redact" replaces PII by placeholders before indexing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("buckets") as batch:
        batch.add_column(
            sa.Column("pii", sa.String(length=16), nullable=False, server_default="allow")
        )


def downgrade() -> None:
    with op.batch_alter_table("buckets") as batch:
        batch.drop_column("pii")
