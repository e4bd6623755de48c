"""Key fingerprints are a keyed hash with a persistent server secret."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from api.fingerprint import load_fingerprint_secret
from kernel.errors import ConfigurationError
from retrieval.access import Principal
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

KEY = "abc"  # short enough that an unkeyed hash prefix is reversed by brute force


def test_fingerprint_is_not_an_unkeyed_hash_prefix() -> None:
    fingerprint = Principal.from_key(KEY, [], b"s" * 32).key_id
    assert fingerprint.startswith("key-") and len(fingerprint) == len("key-") + 12
    assert fingerprint != f"key-{hashlib.sha256(KEY.encode()).hexdigest()[:12]}"
    assert KEY not in fingerprint


def test_same_secret_same_fingerprint_other_secret_other_fingerprint() -> None:
    one = Principal.from_key(KEY, ["a"], b"1" * 32).key_id
    assert Principal.from_key(KEY, [], b"1" * 32).key_id == one
    assert Principal.from_key(KEY, [], b"2" * 32).key_id != one
    assert Principal.from_key("other", [], b"1" * 32).key_id != one


def test_generated_secret_is_private_and_reused_across_restarts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    first = load_fingerprint_secret(settings)
    key_file = tmp_path / "data" / "fingerprint.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    restarted = make_settings(tmp_path / "data")
    assert load_fingerprint_secret(restarted) == first
    assert (
        Principal.from_key(KEY, [], load_fingerprint_secret(restarted)).key_id
        == Principal.from_key(KEY, [], first).key_id
    )
    assert [p.name for p in key_file.parent.iterdir()] == ["fingerprint.key"]


def test_configured_secret_wins_and_writes_no_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", fingerprint_secret="configured-secret-value")
    assert load_fingerprint_secret(settings) == b"configured-secret-value"
    assert not (tmp_path / "data" / "fingerprint.key").exists()
    generated = make_settings(tmp_path / "other")
    assert load_fingerprint_secret(generated) != load_fingerprint_secret(settings)


def test_a_damaged_secret_file_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "fingerprint.key").write_text("short")
    with pytest.raises(ConfigurationError):
        load_fingerprint_secret(make_settings(tmp_path / "data"))
