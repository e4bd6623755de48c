"""The content hash of an object: what "unchanged" means for every source."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20


def hash_file(path: Path) -> str:
    """SHA-256 of the file's bytes, read in blocks (objects can be larger than memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def hash_bytes(content: bytes) -> str:
    """:func:`hash_file` of bytes already in memory (an attachment, an archive member)."""
    return hashlib.sha256(content).hexdigest()
