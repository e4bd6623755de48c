"""Releases with staged rollout and gates (releases): bundles, their moves, their tallies.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage_percent", sa.Integer(), nullable=False),
        sa.Column("prompt_name", sa.String(length=64), nullable=False),
        sa.Column("prompt_version", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("eval", sa.JSON(), nullable=True),
    )
    op.create_index("ix_releases_status", "releases", ["status"])
    op.create_table(
        "release_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_percent", sa.Integer(), nullable=False),
        sa.Column("to_percent", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
    )
    op.create_index("ix_release_events_version", "release_events", ["version"])
    op.create_table(
        "release_tallies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("arm", sa.String(length=32), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("degraded", sa.Integer(), nullable=False),
        sa.Column("abstained", sa.Integer(), nullable=False),
        sa.Column("grounded", sa.Integer(), nullable=False),
        sa.Column("grounding_sum", sa.Float(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_buckets", sa.JSON(), nullable=False),
        sa.Column("flushed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_release_tallies_epoch", "release_tallies", ["epoch", "arm"])


def downgrade() -> None:
    op.drop_index("ix_release_tallies_epoch", table_name="release_tallies")
    op.drop_table("release_tallies")
    op.drop_index("ix_release_events_version", table_name="release_events")
    op.drop_table("release_events")
    op.drop_index("ix_releases_status", table_name="releases")
    op.drop_table("releases")
