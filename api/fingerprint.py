"""The server secret behind key fingerprints.

Fingerprints land in logs and answer records; an unkeyed hash of a short key can be
brute-forced back from them. The secret comes from ``RAGLINE_FINGERPRINT_SECRET`` or
is generated once into ``data_dir/fingerprint.key`` so fingerprints stay the same
across restarts (answer records of one key remain linkable).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from kernel.errors import ConfigurationError
from kernel.settings import Settings

_FILE_NAME = "fingerprint.key"
_MIN_CHARS = 32


def load_fingerprint_secret(settings: Settings) -> bytes:
    configured = settings.fingerprint_secret.get_secret_value().strip()
    if configured:
        return configured.encode()
    path = settings.data_dir / _FILE_NAME
    if not path.exists():
        _publish(path, secrets.token_hex(32))
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < _MIN_CHARS:
        raise ConfigurationError(f"{path} is damaged: delete it to generate a new secret")
    return value.encode()


def _publish(path: Path, value: str) -> None:
    """Write then link: readers never see a partial file, and a racing process keeps its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{_FILE_NAME}.{secrets.token_hex(8)}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
