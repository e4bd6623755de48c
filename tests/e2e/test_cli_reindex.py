"""`ragline reindex` as an operator types it: on the local data directory, and --server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_KEY

# The shell runner and the loopback server of the refresh commands' tests; ``server`` is
# a fixture, imported to be used by name.
from tests.e2e.test_cli_refresh import Shell, one_line, rows, server  # noqa: F401

pytestmark = pytest.mark.e2e

FACT = "The barn owl nests above the third hayloft door.\n"


@pytest.fixture
def farm(tmp_path: Path) -> Path:
    root = tmp_path / "allowed"
    (root / "farm").mkdir(parents=True)
    (root / "farm" / "owl.txt").write_text(FACT)
    (root / "farm" / "plough.txt").write_text("The red plough is serviced every April.\n")
    return root / "farm"


def _summary(output: str) -> dict[str, str]:
    table = rows(output)
    header = next(r for r in table if r[:1] == ["documents"])
    return dict(zip(header, table[table.index(header) + 1], strict=True))


def test_reindex_on_the_local_data_directory(tmp_path: Path, farm: Path) -> None:
    shell = Shell(tmp_path / "data", farm.parent)
    assert shell("ingest", str(farm), "--bucket", "b", "--roles", "public").exit_code == 0

    result = shell("reindex")

    assert result.exit_code == 0, result.output
    assert ": finished" in one_line(result.stdout)
    assert _summary(result.stdout) == {
        "documents": "2/2",
        "caught up": "0",
        "failed": "0",
        "generation": "1 -> 2",
    }
    again = shell("reindex")
    assert again.exit_code == 0, again.output
    assert _summary(again.stdout)["generation"] == "2 -> 3"


def test_a_failing_reindex_exits_non_zero_with_one_line(tmp_path: Path, farm: Path) -> None:
    shell = Shell(tmp_path / "data", farm.parent)
    assert shell("ingest", str(farm), "--bucket", "b", "--roles", "public").exit_code == 0
    (farm / "plough.txt").unlink()  # gone from the bucket, no refresh yet

    result = shell("reindex")

    assert result.exit_code == 1, result.output
    assert "failed plough.txt" in one_line(result.stderr)
    assert "1 documents could not be rebuilt" in one_line(result.stderr)
    assert "Traceback" not in result.output
    allowed = shell("reindex", "--max-failures", "1")
    assert allowed.exit_code == 0, allowed.output
    assert _summary(allowed.stdout)["failed"] == "1"


def test_reindex_through_a_server(tmp_path: Path, farm: Path, server: Any) -> None:  # noqa: F811
    shell = Shell(tmp_path / "data", farm.parent)
    via = ("--server", server, "--key", ADMIN_KEY)

    result = shell("reindex", *via)

    assert result.exit_code == 0, result.output
    assert _summary(result.stdout) == {
        "documents": "0/0",
        "caught up": "0",
        "failed": "0",
        "generation": "1 -> 2",
    }
    local = shell("reindex")  # the server owns the embedded index
    assert local.exit_code == 1
    assert "re-index through it with --server" in one_line(local.stderr)
