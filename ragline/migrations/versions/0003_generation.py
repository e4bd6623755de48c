"""Generated answers: versioned prompts, usage and budgets, bucket residency.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "prompt_versions",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("system", sa.Text(), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "prompt_labels",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("label", sa.String(length=64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "prompt_label_moves",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("moved_by", sa.String(length=64), nullable=True),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_prompt_label_moves_name_label", "prompt_label_moves", ["name", "label"])
    op.create_table(
        "prompt_splits",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "usage_events",
        sa.Column("answer_id", sa.String(length=36), primary_key=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_name", sa.String(length=64), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("deployment", sa.String(length=64), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_usage_events_team_created_at", "usage_events", ["team", "created_at"])
    op.create_index("ix_usage_events_key_id_created_at", "usage_events", ["key_id", "created_at"])
    op.create_table(
        "budget_alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("limit_usd", sa.Float(), nullable=False),
        sa.Column("spent_usd", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("scope", "subject", "period", "period_start", "kind"),
    )
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("generation", sa.JSON(), nullable=True))
    with op.batch_alter_table("buckets") as batch:
        batch.add_column(sa.Column("region", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("sensitivity", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("buckets") as batch:
        batch.drop_column("sensitivity")
        batch.drop_column("region")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("generation")
    op.drop_table("budget_alerts")
    op.drop_index("ix_usage_events_key_id_created_at", table_name="usage_events")
    op.drop_index("ix_usage_events_team_created_at", table_name="usage_events")
    op.drop_table("usage_events")
    op.drop_table("prompt_splits")
    op.drop_index("ix_prompt_label_moves_name_label", table_name="prompt_label_moves")
    op.drop_table("prompt_label_moves")
    op.drop_table("prompt_labels")
    op.drop_table("prompt_versions")
