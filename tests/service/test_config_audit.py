"""A start with changed settings is an audit event naming what changed, never a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.audit_log import AuditLog
from governance.audit_port import AuditFilter
from ingest.registry import Registry
from ragline.config_audit import record_configuration
from ragline.schema import ensure_schema
from tests.conftest import make_settings

pytestmark = pytest.mark.service


def _config_events(audit: AuditLog) -> list[dict[str, object]]:
    page = audit.query(AuditFilter(action="config.change"), limit=100)
    return [e.details or {} for e in page.entries]


def test_only_a_changed_start_is_recorded_and_secrets_stay_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    ensure_schema(url, auto_upgrade=True)
    registry = Registry(url)
    try:
        audit = AuditLog(registry.engine)
        secret_db = "postgresql+psycopg://ragline:s3cret-pw@db.internal/ragline"
        first = make_settings(tmp_path / "data", database_url=secret_db)
        changed = make_settings(tmp_path / "data", database_url=secret_db, retrieval={"top_k": 9})

        assert record_configuration(audit, first) is not None
        assert record_configuration(audit, first) is None  # same settings: nothing new
        assert record_configuration(audit, changed) is not None

        events = _config_events(audit)
        assert len(events) == 2
        assert events[0]["changed"] == []
        assert events[1]["changed"] == ["retrieval.top_k"]
        stored = json.dumps(events)
        assert "s3cret-pw" not in stored
        assert "test-admin-key" not in stored  # the configured API keys
        assert events[1]["settings"]["retrieval.top_k"] == 9  # type: ignore[index]
        assert audit.verify().ok
    finally:
        registry.close()
