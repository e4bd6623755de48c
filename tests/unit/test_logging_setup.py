"""One call configures a process's logging: format, level, masking, and no duplicates."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import signals

from kernel.settings import Settings
from observability.log_context import request_id_scope
from ragline.log_masking import known_secrets
from ragline.logging_setup import ConsoleHandler, configure_logging, ensure_logging

CONFIGURED_KEY = "configured-admin-key-1"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)
        signals.setup_logging.disconnect(dispatch_uid="ragline-logs")


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": tmp_path,
            "api_keys": json.dumps({CONFIGURED_KEY: ["admin"]}),
            "database_url": "postgresql+psycopg://ragline:db-password-77@db:5432/ragline",
            "broker": {"url": "redis://:broker-password-88@redis:6379/0"},
            "s3": {"secret_access_key": "s3-secret-access-key-99"},
            **values,
        }
    )


def _ours() -> list[ConsoleHandler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, ConsoleHandler)]


def test_json_lines_with_every_configured_secret_masked(
    tmp_path: Path, restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path, log={"format": "json"}, log_level="INFO")
    configure_logging(settings, force=True)
    assert logging.getLogger().level == logging.INFO
    secrets = ("db-password-77", "broker-password-88", "s3-secret-access-key-99", CONFIGURED_KEY)
    with request_id_scope("unit-1"):
        logging.getLogger("ragline.test").info("values: %s", " ".join(secrets))
    (line,) = [json.loads(t) for t in capsys.readouterr().err.splitlines() if t.startswith("{")]
    assert line["request_id"] == "unit-1"
    assert line["message"] == "values: " + " ".join(["<SECRET>"] * 4)
    assert set(secrets) <= set(known_secrets(settings))


def test_configuring_again_replaces_the_handler_and_text_is_the_default(
    tmp_path: Path, restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path)
    configure_logging(settings, "info", force=True)
    configure_logging(settings, "warning", force=True)
    assert len(_ours()) == 1
    assert logging.getLogger().level == logging.WARNING
    logging.getLogger("ragline.test").warning("mail ann@example.com")
    err = capsys.readouterr().err
    assert err.rstrip().endswith("WARNING ragline.test: mail <EMAIL>")
    # Chatty libraries never log below INFO, whatever the level asked.
    configure_logging(settings, "debug", force=True)
    assert logging.getLogger("botocore").level == logging.INFO


def test_someone_elses_handlers_are_left_in_place_but_masked(
    tmp_path: Path, restore_root: None, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging(_settings(tmp_path))  # pytest's handlers are on root: like basicConfig
    assert _ours() == []
    ensure_logging(_settings(tmp_path))
    caplog.set_level(logging.INFO)
    logging.getLogger("ragline.test").info("key %s for bob@example.com", CONFIGURED_KEY)
    assert "<SECRET> for <EMAIL>" in caplog.text
    assert CONFIGURED_KEY not in caplog.text
