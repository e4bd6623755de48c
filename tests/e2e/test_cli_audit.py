"""``ragline audit`` as an operator types it, on an embedded data directory.

The command group runs in this process through typer's runner with its settings
read from the environment, as on a real shell; one test runs the installed
``python -m ragline`` to see the group mounted under ``ragline``. The chain is
written through the audit log itself, with past times where retention matters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from governance.audit_chain import locked_chain
from kernel.settings import get_settings
from ragline.audit_cli import audit_app
from ragline.schema import ensure_schema

pytestmark = pytest.mark.e2e

NOW = datetime.now(UTC)


@pytest.fixture
def ragline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("RAGLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAGLINE_MODE", raising=False)
    get_settings.cache_clear()
    shell = typer.Typer()
    shell.add_typer(audit_app, name="audit")
    yield shell
    get_settings.cache_clear()


@pytest.fixture
def engine(ragline: typer.Typer) -> Iterator[Engine]:
    """The embedded registry's database, with a history: (days ago, kind, action)."""
    url = get_settings().registry_url
    (Path(get_settings().data_dir)).mkdir(parents=True, exist_ok=True)
    ensure_schema(url, auto_upgrade=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    history = [
        (400, "event", "bucket.create"),
        (40, "answer", "answer"),
        (3, "event", "document.upload"),
        (1, "answer", "answer"),
    ]
    with locked_chain(engine) as chain:
        for n, (days_ago, kind, action) in enumerate(history, start=1):
            chain.append(
                ts=NOW - timedelta(days=days_ago),
                kind=kind,
                action=action,
                key_id="key-aaaaaaaaaaaa",
                team="search",
                identity="alice",
                target=f"t{n}",
                details={"n": n},
            )
    try:
        yield engine
    finally:
        engine.dispose()


def run(shell: typer.Typer, *args: str) -> Result:
    get_settings.cache_clear()  # each command reads the environment, as a new process would
    return CliRunner().invoke(shell, ["audit", *args])


def test_verify_export_and_purge(ragline: typer.Typer, engine: Engine, tmp_path: Path) -> None:
    verified = run(ragline, "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.strip() == "Audit chain OK: 4 rows checked."

    since = (NOW - timedelta(days=50)).isoformat(timespec="seconds").replace("+00:00", "")
    until = (NOW - timedelta(days=2)).isoformat(timespec="seconds").replace("+00:00", "")
    exported = run(ragline, "export", "--since", since, "--until", until)
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [(r["seq"], r["action"], r["target"]) for r in lines] == [
        (2, "answer", "t2"),
        (3, "document.upload", "t3"),
    ]
    assert lines[1]["prev_hash"] == lines[0]["hash"] and lines[0]["key_id"] == "key-aaaaaaaaaaaa"

    out = tmp_path / "audit.jsonl"
    to_file = run(ragline, "export", "--kind", "answer", "--out", str(out))
    assert to_file.exit_code == 0, to_file.output
    assert [json.loads(line)["seq"] for line in out.read_text().splitlines()] == [2, 4]
    assert "2 audit rows written to" in to_file.stderr

    purged = run(ragline, "purge")
    assert purged.exit_code == 0, purged.output
    assert purged.stdout.strip() == (
        "Audit purge: rows emptied: 1 answer, 1 event; questions stripped: 0; "
        "rows deleted: 2; recorded as row 5."
    )
    after = run(ragline, "verify")
    assert after.exit_code == 0, after.output
    assert after.stdout.strip() == "Audit chain OK: 3 rows checked (from row 3, after purges)."
    kept = [json.loads(line)["seq"] for line in run(ragline, "export").stdout.splitlines()]
    assert kept == [3, 4, 5]


def test_verify_exits_1_naming_the_row_tampered_with(ragline: typer.Typer, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET details = '{\"n\": 99}' WHERE seq = 3"))

    result = run(ragline, "verify")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "Audit chain broken at row 3: edited (its content does not match its digest); "
        "2 rows before it are intact."
    )


def test_export_refuses_an_unknown_kind(ragline: typer.Typer, engine: Engine) -> None:
    result = run(ragline, "export", "--kind", "gossip")
    assert result.exit_code == 1
    assert "--kind must be event or answer" in result.stderr


def test_the_audit_group_is_mounted_under_ragline(engine: Engine, tmp_path: Path) -> None:
    env = {**os.environ, "RAGLINE_DATA_DIR": str(tmp_path / "data")}
    env.pop("RAGLINE_DATABASE_URL", None)
    env.pop("RAGLINE_MODE", None)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))

    done = subprocess.run(
        [sys.executable, "-m", "ragline", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    assert "Audit chain broken at row 2: deleted" in done.stderr
