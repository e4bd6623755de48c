"""`ragline ingest`, `ragline refresh` and `ragline buckets` as an operator types them.

The commands run in this process through typer's runner, with their settings read
from the environment as on a real shell: locally on a data directory, and with
``--server`` against a real server (uvicorn on loopback, in a thread).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from kernel.settings import get_settings
from ragline.cli import app
from ragline.service import create_app
from tests.conftest import ADMIN_KEY, HR_KEY, KEYS, make_settings
from tests.e2e.conftest import auth
from tests.e2e.console_harness import serving

pytestmark = pytest.mark.e2e

OWL = "The barn owl nests above the third hayloft door.\n"
PLOUGH = "The red plough is serviced every April by the village smith.\n"
WELL = "The old well behind the chapel was sealed in 1962.\n"


class Shell:
    """Runs ``ragline`` commands with one data directory and one allowed root."""

    def __init__(self, data_dir: Path, allowed_root: Path) -> None:
        self.env = {
            "RAGLINE_DATA_DIR": str(data_dir),
            "RAGLINE_API_KEYS": json.dumps(KEYS),
            "RAGLINE_BUCKETS__ALLOWED_ROOTS": json.dumps([str(allowed_root)]),
            "RAGLINE_API_KEY": None,
            "COLUMNS": "400",
        }

    def __call__(self, *args: str) -> Result:
        get_settings.cache_clear()  # each command reads the environment, as a new process would
        try:
            return CliRunner().invoke(app, list(args), env=self.env)
        finally:
            get_settings.cache_clear()


def rows(output: str) -> list[list[str]]:
    """The cells of every line of a Rich table in ``output``."""
    return [
        [cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
        for line in output.splitlines()
        if line.strip().startswith(("│", "┃"))
    ]


def refresh_counts(result: Result) -> dict[str, str]:
    table = rows(result.stdout)
    header = next(r for r in table if r[:1] == ["new"])
    values = table[table.index(header) + 1]
    return dict(zip(header, values, strict=True))


def bucket_row(result: Result, name: str) -> dict[str, str]:
    table = rows(result.stdout)
    header = next(r for r in table if r[:1] == ["bucket"])
    found = [r for r in table if r[:1] == [name]]
    assert len(found) == 1, result.stdout
    return dict(zip(header, found[0], strict=True))


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def farm(tmp_path: Path) -> Path:
    root = tmp_path / "allowed"
    (root / "farm").mkdir(parents=True)
    (root / "farm" / "owl.txt").write_text(OWL)
    (root / "farm" / "plough.txt").write_text(PLOUGH)
    return root / "farm"


def test_refresh_and_buckets_on_the_local_data_directory(tmp_path: Path, farm: Path) -> None:
    shell = Shell(tmp_path / "data", farm.parent)
    ingested = shell("ingest", str(farm), "--bucket", "b", "--roles", "public")
    assert ingested.exit_code == 0, ingested.output
    assert "Ingestion summary" in ingested.stdout

    listed = shell("buckets")
    assert listed.exit_code == 0, listed.output
    row = bucket_row(listed, "b")
    assert row["source"] == str(farm.resolve())
    assert row["last refresh"] == "never"

    (farm / "well.txt").write_text(WELL)
    refreshed = shell("refresh", "b")
    assert refreshed.exit_code == 0, refreshed.output
    assert "of b: finished" in one_line(refreshed.stdout)
    assert refresh_counts(refreshed) == {
        "new": "1",
        "changed": "0",
        "deleted": "0",
        "unchanged": "2",
        "failed": "0",
    }

    (farm / "plough.txt").unlink()
    again = shell("refresh", "b")
    assert again.exit_code == 0, again.output
    assert refresh_counts(again) == {
        "new": "0",
        "changed": "0",
        "deleted": "1",
        "unchanged": "2",
        "failed": "0",
    }

    listed = shell("buckets")
    assert listed.exit_code == 0, listed.output
    row = bucket_row(listed, "b")
    assert row["source"] == str(farm.resolve())
    assert row["last refresh"].startswith("finished ")
    assert row["schedule"] == "-" and row["pending"] == "0" and row["failed"] == "0"
    assert row["lag"] == "0 s" and row["SLA"] == "900 s"


def test_refreshing_an_unknown_bucket_is_one_clear_error(tmp_path: Path, farm: Path) -> None:
    shell = Shell(tmp_path / "data", farm.parent)
    assert shell("ingest", str(farm), "--bucket", "b", "--roles", "public").exit_code == 0
    result = shell("refresh", "nosuch")
    assert result.exit_code == 1, result.output
    assert "error: bucket 'nosuch' not found" in one_line(result.stderr)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_refresh_with_server_needs_a_key(tmp_path: Path, farm: Path) -> None:
    shell = Shell(tmp_path / "data", farm.parent)
    result = shell("refresh", "b", "--server", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "--server needs --key" in one_line(result.stderr)


# --- through a running server --------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path, farm: Path, embedder: Any) -> Iterator[str]:
    """A real server on loopback, sharing this process's loaded model."""
    settings = make_settings(tmp_path / "data", buckets={"allowed_roots": [str(farm.parent)]})
    with serving(create_app(settings, dense=embedder)) as url:
        yield url


def test_refresh_and_buckets_through_a_server(tmp_path: Path, farm: Path, server: str) -> None:
    import httpx

    created = httpx.post(
        f"{server}/buckets",
        json={"name": "b", "roles": ["public"], "source": str(farm)},
        headers=auth(ADMIN_KEY),
    )
    assert created.status_code == 201, created.text
    shell = Shell(tmp_path / "data", farm.parent)
    via = ("--server", server, "--key", ADMIN_KEY)

    first = shell("refresh", "b", *via)
    assert first.exit_code == 0, first.output
    assert "of b: finished" in one_line(first.stdout)
    assert refresh_counts(first)["new"] == "2"
    (farm / "well.txt").write_text(WELL)
    second = shell("refresh", "b", *via)
    assert second.exit_code == 0, second.output
    assert refresh_counts(second) == {
        "new": "1",
        "changed": "0",
        "deleted": "0",
        "unchanged": "2",
        "failed": "0",
    }
    answer = httpx.post(
        f"{server}/ask",
        json={"question": "When was the old well behind the chapel sealed?"},
        headers=auth(ADMIN_KEY),
        timeout=60,
    ).json()
    assert "well.txt" in {c["source"] for c in answer["citations"]}

    listed = shell("buckets", *via)
    assert listed.exit_code == 0, listed.output
    row = bucket_row(listed, "b")
    assert row["source"] == str(farm.resolve())
    assert row["last refresh"].startswith("finished ")

    missing = shell("refresh", "nosuch", *via)
    assert missing.exit_code == 1
    assert "bucket 'nosuch' not found" in one_line(missing.stderr)
    denied = shell("refresh", "b", "--server", server, "--key", HR_KEY)
    assert denied.exit_code == 1
    assert "admin" in one_line(denied.stderr)
    runs = httpx.get(f"{server}/buckets/b/refreshes", headers=auth(ADMIN_KEY)).json()
    assert len(runs["refreshes"]) == 2  # the refused requests queued nothing


def test_local_and_server_views_agree(tmp_path: Path, farm: Path, server: str) -> None:
    """`ragline buckets` reads the database beside a running server; both show one truth."""
    import httpx

    created = httpx.post(
        f"{server}/buckets",
        json={"name": "b", "roles": ["public"], "source": str(farm), "max_lag_s": 60},
        headers=auth(ADMIN_KEY),
    )
    assert created.status_code == 201, created.text
    shell = Shell(tmp_path / "data", farm.parent)
    assert shell("refresh", "b", "--server", server, "--key", ADMIN_KEY).exit_code == 0
    local = bucket_row(shell("buckets"), "b")
    remote = bucket_row(shell("buckets", "--server", server, "--key", ADMIN_KEY), "b")
    assert local == remote
    assert local["SLA"] == "60 s" and local["last refresh"].startswith("finished ")
