"""The embedded mode's local key file: private from the moment it exists, never replaced."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel.settings import Settings, ensure_local_key

pytestmark = pytest.mark.unit


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that hides nothing, so the mode seen is the mode the file was created with."""
    before = os.umask(0)
    yield
    os.umask(before)


def test_the_key_file_is_created_private_not_tightened_afterwards(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Path, "chmod", lambda *_args, **_kwargs: None)  # no later fix-up
    settings = Settings(data_dir=tmp_path / "data")
    key = ensure_local_key(settings)
    key_file = tmp_path / "data" / "api_keys.json"
    assert key is not None
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert settings.key_roles() == {key: frozenset({"admin", "public"})}


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    key_file = tmp_path / "api_keys.json"
    key_file.write_text("{}")  # no key in it: still the operator's file
    assert ensure_local_key(Settings(data_dir=tmp_path)) is None
    assert json.loads(key_file.read_text()) == {}


def test_a_planted_link_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "api_keys.json").symlink_to(target)
    assert ensure_local_key(Settings(data_dir=tmp_path / "data")) is None
    assert not target.exists()
