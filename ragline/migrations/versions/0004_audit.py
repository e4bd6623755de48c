"""The audit log (governance.audit_log): a hash-chained, append-only record of who did what.

Answer records move into it: every row of ``answers`` becomes a ``kind="answer"``
row of the chain (oldest first), and ``answers`` is dropped. The chain's recipe
(``governance.audit_hashing``) is spelled out again here, since revisions never
import the models; the audit tests verify the chain this revision writes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_GENESIS = "0" * 64
_TEXT_FIELDS = ("question", "answer", "citations")

_answers = sa.table(
    "answers",
    sa.column("id", sa.String()),
    sa.column("key_id", sa.String()),
    sa.column("model", sa.String()),
    sa.column("retrieval", sa.JSON()),
    sa.column("chunk_ids", sa.JSON()),
    sa.column("cited_chunk_ids", sa.JSON()),
    sa.column("grounding", sa.Float()),
    sa.column("latency_ms", sa.Float()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("generation", sa.JSON()),
)


def _json(value: object) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _digest(ts: datetime, key_id: str, target: str, details: dict[str, Any]) -> str:
    sealed = dict(details)
    for name in _TEXT_FIELDS:
        if sealed.get(name) is not None:
            sealed[name] = {"sha256": hashlib.sha256(_json(sealed[name])).hexdigest()}
    content = {
        "ts": ts.isoformat(timespec="microseconds"),
        "kind": "answer",
        "action": "answer",
        "key_id": key_id,
        "team": None,
        "identity": None,
        "target": target,
        "details": sealed,
    }
    return hashlib.sha256(_json(content)).hexdigest()


def upgrade() -> None:
    audit_log = op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("identity", sa.String(length=128), nullable=True),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])
    op.create_index("ix_audit_log_kind_ts", "audit_log", ["kind", "ts"])
    op.create_index("ix_audit_log_target", "audit_log", ["target"])
    op.create_index("ix_audit_log_hash", "audit_log", ["hash"])
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
    )

    bind = op.get_bind()
    rows = bind.execute(sa.select(_answers).order_by(_answers.c.created_at, _answers.c.id)).all()
    prev, seq, chained = _GENESIS, 0, []
    for row in rows:
        ts = _utc(row.created_at)
        details = json.loads(
            _json(
                {
                    "model": row.model,
                    "retrieval": row.retrieval,
                    "chunk_ids": row.chunk_ids,
                    "cited_chunk_ids": row.cited_chunk_ids,
                    "grounding": row.grounding,
                    "latency_ms": row.latency_ms,
                    "generation": row.generation,
                    "question": None,
                    "answer": None,
                    "citations": None,
                    "degraded": False,
                }
            )
        )
        digest = _digest(ts, row.key_id, row.id, details)
        link = hashlib.sha256((prev + digest).encode("ascii")).hexdigest()
        seq += 1
        chained.append(
            {
                "seq": seq,
                "ts": ts,
                "kind": "answer",
                "action": "answer",
                "key_id": row.key_id,
                "team": None,
                "identity": None,
                "target": row.id,
                "details": details,
                "digest": digest,
                "prev_hash": prev,
                "hash": link,
                "purged_at": None,
            }
        )
        prev = link
    if chained:
        op.bulk_insert(audit_log, chained)
        op.bulk_insert(audit_head, [{"id": 1, "seq": seq, "hash": prev}])
    op.drop_table("answers")


def downgrade() -> None:
    answers = op.create_table(
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
        sa.Column("generation", sa.JSON(), nullable=True),
    )
    log = sa.table(
        "audit_log",
        sa.column("seq", sa.BigInteger()),
        sa.column("ts", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String()),
        sa.column("key_id", sa.String()),
        sa.column("target", sa.String()),
        sa.column("details", sa.JSON()),
        sa.column("purged_at", sa.DateTime(timezone=True)),
    )
    records = op.get_bind().execute(
        sa.select(log).where(log.c.kind == "answer", log.c.purged_at.is_(None))
    )
    kept: dict[str, dict[str, Any]] = {}
    for row in records:
        d = row.details or {}
        kept[row.target] = {
            "id": row.target,
            "key_id": (row.key_id or "")[:32],
            "model": d.get("model", ""),
            "retrieval": d.get("retrieval", {}),
            "chunk_ids": d.get("chunk_ids", []),
            "cited_chunk_ids": d.get("cited_chunk_ids", []),
            "grounding": d.get("grounding", 0.0),
            "latency_ms": d.get("latency_ms", 0.0),
            "created_at": row.ts,
            "generation": d.get("generation"),
        }
    if kept:
        op.bulk_insert(answers, list(kept.values()))
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_hash", table_name="audit_log")
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_index("ix_audit_log_kind_ts", table_name="audit_log")
    op.drop_index("ix_audit_log_ts", table_name="audit_log")
    op.drop_table("audit_log")
