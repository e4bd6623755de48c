"""The data directory holds every role's text: only the service's own user may read it."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ragline.runtime import open_runtime
from tests.conftest import make_settings

pytestmark = pytest.mark.service


@pytest.fixture(autouse=True)
def restore_umask() -> Iterator[None]:
    """open_runtime sets the process umask; the test process gets its own back."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


def shared_with_others(root: Path) -> list[str]:
    return [
        f"{path.relative_to(root)} {stat.filemode(path.stat().st_mode)}"
        for path in [root, *root.rglob("*")]
        if not path.is_symlink() and path.stat().st_mode & 0o077
    ]


def test_a_fresh_data_directory_and_everything_in_it_is_private(
    tmp_path: Path, embedder: Any
) -> None:
    os.umask(0o022)
    data = tmp_path / "data"
    runtime = open_runtime(make_settings(data), dense=embedder)
    try:
        runtime.ingestion.store.write(
            "handbook", None, "team/notes.md", io.BytesIO(b"# Notes"), max_bytes=1_000
        )
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert sorted(p.name for p in data.iterdir())  # the registry and index exist
        assert shared_with_others(data) == []
    finally:
        runtime.close()
    assert shared_with_others(data) == []


def test_an_existing_open_data_directory_is_tightened(tmp_path: Path, embedder: Any) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    runtime = open_runtime(make_settings(data), dense=embedder)
    runtime.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
