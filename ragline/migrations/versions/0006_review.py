"""The review queue and answer feedback (governance.review).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("answer_id", sa.String(length=36), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("grounding", sa.Float(), nullable=True),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("corrected_answer", sa.Text(), nullable=True),
        sa.Column("expected_source", sa.String(length=512), nullable=True),
        sa.Column("expected_terms", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("answer_id"),
    )
    op.create_index("ix_review_items_status_created_at", "review_items", ["status", "created_at"])
    op.create_table(
        "answer_feedback",
        sa.Column("answer_id", sa.String(length=36), primary_key=True),
        sa.Column("key_id", sa.String(length=32), primary_key=True),
        sa.Column("rating", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("replaced", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("answer_feedback")
    op.drop_index("ix_review_items_status_created_at", table_name="review_items")
    op.drop_table("review_items")
