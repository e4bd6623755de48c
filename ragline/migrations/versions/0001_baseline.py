"""Baseline: the schema as ragline had it when migrations began.

Revision ID: 0001
Revises:
Create Date: 2026-12-01

Every table of ``ingest.registry_tables`` and ``answer.records`` at that point, spelled
out instead of imported: later model changes come as new revisions, and this one
keeps describing the baseline. A database made before migrations existed is adopted
at this revision by ``ragline.schema`` (missing tables and columns added, then stamped).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "buckets",
        sa.Column("name", sa.String(length=128), primary_key=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_lag_s", sa.Integer(), nullable=True),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column(
            "bucket",
            sa.String(length=128),
            sa.ForeignKey("buckets.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("parsed_title", sa.Text(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=True),
        sa.Column("detected_type", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=32), nullable=True),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("indexed_hash", sa.String(length=64), nullable=True),
        sa.Column("indexed_version", sa.Integer(), nullable=False),
        sa.Column("indexed_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("parse_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("served_roles", sa.JSON(), nullable=True),
        sa.Column("incarnation", sa.String(length=36), nullable=True),
        sa.Column("source_tag", sa.String(length=128), nullable=True),
        sa.Column("source_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("bucket", "key"),
    )
    op.create_table(
        "version_counters",
        sa.Column("document_id", sa.String(length=36), primary_key=True),
        sa.Column("last_version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "refresh_runs",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column(
            "bucket",
            sa.String(length=128),
            sa.ForeignKey("buckets.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_refresh_runs_bucket", "refresh_runs", ["bucket"])
    op.create_table(
        "refresh_leases",
        sa.Column(
            "bucket",
            sa.String(length=128),
            sa.ForeignKey("buckets.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "bucket_schedules",
        sa.Column(
            "bucket",
            sa.String(length=128),
            sa.ForeignKey("buckets.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("every_s", sa.Integer(), nullable=True),
        sa.Column("cron", sa.String(length=128), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "answers",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("retrieval", sa.JSON(), nullable=False),
        sa.Column("chunk_ids", sa.JSON(), nullable=False),
        sa.Column("cited_chunk_ids", sa.JSON(), nullable=False),
        sa.Column("grounding", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "answers",
        "bucket_schedules",
        "refresh_leases",
        "refresh_runs",
        "version_counters",
        "documents",
        "buckets",
    ):
        op.drop_table(table)
