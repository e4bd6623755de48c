"""A worker whose runtime cannot open exits non-zero instead of reporting ready.

Celery swallows exceptions from signal receivers: before this was fixed, such a worker
said "ready" and failed every task it took ("worker started without a runtime").
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_worker_standalone import COMMANDS, REPO, worker_env

pytestmark = pytest.mark.e2e

WAIT_S = 300
PASSWORD = "pw-never-shown-4711"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_worker_that_cannot_open_its_runtime_exits_and_says_why(
    command: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = worker_env(data_dir, f"sqla+sqlite:///{(data_dir / 'queue.db').resolve()}")
    # Nothing listens on port 9: the registry cannot be reached.
    env["RAGLINE_DATABASE_URL"] = f"postgresql+psycopg://ragline:{PASSWORD}@127.0.0.1:9/ragline"

    done = subprocess.run(COMMANDS[command], cwd=REPO, env=env, capture_output=True, timeout=WAIT_S)

    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode != 0, output[-3000:]
    assert "worker cannot start" in output, output[-3000:]
    assert " ready." not in output
    assert PASSWORD not in output
