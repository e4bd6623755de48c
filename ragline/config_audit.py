"""Configuration changes are audit events: each process that starts with settings
different from the last recorded ones records what changed.

Settings live in the environment and files, not behind an API, so the change is
seen where it takes effect: at start-up. Secrets never enter the record (``SecretStr``
values dump as asterisks; a database URL loses its password).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from governance.audit_log import AuditLog
from governance.audit_port import SYSTEM_ACTOR
from kernel.errors import DependencyUnavailableError
from kernel.settings import Settings

ACTION = "config.change"
TARGET = "settings"


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The effective settings as flat ``section.field`` pairs, safe to keep for a year."""
    dumped = settings.model_dump(mode="json")
    if settings.database_url:
        dumped["database_url"] = make_url(settings.database_url).render_as_string(
            hide_password=True
        )
    return dict(_flat(dumped))


def record_configuration(audit: AuditLog, settings: Settings) -> str | None:
    """Record the settings when they differ from the last record; the new row's hash."""
    snapshot = settings_snapshot(settings)
    try:
        last = audit.find(kind="event", target=TARGET)
        before = (last.details or {}).get("settings") if last is not None else None
        if before == snapshot:
            return None
        changed = sorted(
            key
            for key in set(snapshot) | set(before or {})
            if (before or {}).get(key) != snapshot.get(key)
        )
        return audit.record(
            actor=SYSTEM_ACTOR,
            action=ACTION,
            target=TARGET,
            details={"changed": changed if before is not None else [], "settings": snapshot},
        )
    except DependencyUnavailableError:
        return None  # the database is down at start-up: the next start records it


def _flat(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [
            pair for key, inner in sorted(value.items()) for pair in _flat(inner, f"{prefix}{key}.")
        ]
    return [(prefix.rstrip("."), value)]
