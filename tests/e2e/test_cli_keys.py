"""``ragline keys`` as an operator types it, against a server running on the same data directory.

The command group is mounted under ``ragline`` as the shell mounts it and runs through
typer's runner, its settings read from the environment as on a real shell; the server
is the real embedded app on that data directory, so what the CLI changes must hold on
the server's very next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from governance.audit_port import AuditFilter
from kernel.settings import get_settings
from ragline.keys_cli import keys_app
from ragline.service import create_app
from tests.conftest import make_settings
from tests.e2e.conftest import auth

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-keys") / "data"


@pytest.fixture(scope="module")
def server(data_dir: Path, embedder: Any) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir), dense=embedder)) as client:
        yield client


@pytest.fixture
def ragline(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    monkeypatch.setenv("RAGLINE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("RAGLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("RAGLINE_MODE", raising=False)
    monkeypatch.delenv("RAGLINE_API_KEYS", raising=False)
    shell = typer.Typer()
    shell.add_typer(keys_app, name="keys")
    yield shell
    get_settings.cache_clear()


def run(shell: typer.Typer, *args: str) -> Result:
    get_settings.cache_clear()  # each command reads the environment, as a new process would
    return CliRunner().invoke(shell, ["keys", *args])


def rows(output: str) -> list[list[str]]:
    """The cells of every line of a Rich table in ``output``."""
    return [
        [cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
        for line in output.splitlines()
        if line.strip().startswith(("│", "┃"))
    ]


def _status(server: TestClient, key: str) -> int:
    return server.get("/documents", headers=auth(key)).status_code


def test_create_list_rotate_revoke_hold_on_the_running_server(
    ragline: typer.Typer, server: TestClient
) -> None:
    created = run(
        ragline,
        "create", "--team", "hr", "--role", "hr", "--role", "public",
        "--name", "hr-bot", "--ttl-days", "30", "--daily-hard-usd", "5",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("rk_") and "\n" not in key  # alone on stdout, for $(...)
    assert "for team hr (roles: hr, public)" in created.stderr
    assert "not shown again" in created.stderr
    assert _status(server, key) == 200

    listed = run(ragline, "list")
    assert listed.exit_code == 0, listed.output
    assert key not in listed.output
    (row,) = [r for r in rows(listed.stdout) if r[2] == "hr"]
    key_id = row[0]
    assert row[1] == f"{key[:9]}…" and row[3:6] == ["hr-bot", "hr, public", "active"]

    rotated = run(ragline, "rotate", key_id)
    assert rotated.exit_code == 0, rotated.output
    new_key = rotated.stdout.strip()
    assert new_key.startswith("rk_") and new_key != key
    assert f"Rotated {key_id}" in rotated.stderr
    assert _status(server, key) == 401
    assert _status(server, new_key) == 200

    revoked = run(ragline, "revoke", key_id)
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked {key_id}" in revoked.stdout
    assert _status(server, new_key) == 401
    assert [r[5] for r in rows(run(ragline, "list").stdout) if r[0] == key_id] == ["revoked"]

    trail = server.app.state.services.audit  # type: ignore[attr-defined]
    entries = [e for e in trail.query(AuditFilter(), limit=1000).entries if e.target == key_id]
    assert [e.action for e in entries] == ["key.create", "key.rotate", "key.revoke"]
    assert all(e.identity and e.identity.startswith("cli") for e in entries)
    assert all(key not in str(e.details) and new_key not in str(e.details) for e in entries)


def test_mistakes_are_one_line_and_exit_1(ragline: typer.Typer) -> None:
    for args, message in (
        (("revoke", "mk-000000000000"), "error: no API key mk-000000000000"),
        (("rotate", "mk-000000000000"), "error: no API key mk-000000000000"),
        (("create", "--team", "a b", "--role", "hr"), "error: team must be"),
        (("create", "--team", "hr", "--role", "hr", "--ttl-days", "0"), "error: ttl_days must"),
    ):
        result = run(ragline, *args)
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr.startswith(message), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_an_unreachable_database_is_one_line(
    ragline: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGLINE_DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/none")

    result = run(ragline, "list")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot use the database postgresql+psycopg://u:***@")
    assert "secret" not in result.output
