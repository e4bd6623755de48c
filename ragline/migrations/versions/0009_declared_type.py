"""A document's declared content type (an email attachment's Content-Type), for detection.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable, no default: documents registered before it declared nothing.
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("declared_type", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("declared_type")
