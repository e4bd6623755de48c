"""Where ``EdgeIndex`` keeps its generations on disk, and which one is live.

::

    <index path>/
        LIVE        {"live": N}: the live generation, replaced in one rename
        g1/  g2/    one qdrant-edge shard per generation

An index made before generations existed is a shard directly in the index path
(``edge_config.json`` beside ``wal/`` and ``segments/``) with no ``LIVE`` file: that
shard is generation 0, opened where it is; the first switch writes ``LIVE`` beside it.
A fresh index starts as ``g1``.

``LIVE`` is written to a temporary file, flushed to disk, renamed over the old one and
the directory flushed, so a crash at any point leaves the old or the new pointer,
never a torn one: the switch of a generation is this rename.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path

from kernel.errors import ConfigurationError

POINTER = "LIVE"
_TEMP_PREFIX = f".{POINTER}."
# A file every qdrant-edge shard directory has: it marks a generation-0 shard.
_SHARD_MARKER = "edge_config.json"
# What a qdrant-edge shard directory holds (qdrant-edge 0.9): all that dropping
# generation 0 may remove from the index path.
_SHARD_ENTRIES = (_SHARD_MARKER, "wal", "segments")
_GENERATION_DIR = re.compile(r"^g([1-9][0-9]*)$")


def generation_path(root: Path, number: int) -> Path:
    return root if number == 0 else root / f"g{number}"


def read_live(root: Path) -> int | None:
    """The live generation; None for a fresh index (nothing written yet).

    Raises ``ConfigurationError`` for a pointer file this code cannot read.
    """
    pointer = root / POINTER
    try:
        raw = pointer.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0 if (root / _SHARD_MARKER).is_file() else None
    try:
        number = json.loads(raw)["live"]
    except (ValueError, KeyError, TypeError):
        number = None
    if not isinstance(number, int) or number < 0:
        raise ConfigurationError(
            f"the search index's {POINTER} file is unreadable; restore it or re-index"
        )
    return number


def write_live(root: Path, number: int) -> None:
    """Point ``LIVE`` at ``number`` durably; raises ``OSError`` if the disk refuses."""
    temp = root / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"live": number}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        temp.replace(root / POINTER)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(root, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def list_generations(root: Path) -> list[int]:
    """Every generation with a folder (or, for 0, a shard) under ``root``, ascending."""
    if not root.is_dir():
        return []
    found = [0] if (root / _SHARD_MARKER).is_file() else []
    for entry in root.iterdir():
        match = _GENERATION_DIR.match(entry.name)
        if match and entry.is_dir():
            found.append(int(match.group(1)))
    return sorted(found)


def remove_generation(root: Path, number: int) -> None:
    """Delete a generation's files; its shard must be closed. Raises ``OSError``.

    Generation 0 shares the index path with the others: only the entries a qdrant-edge
    shard is made of go, never anything else that may sit in that folder.
    """
    if number != 0:
        shutil.rmtree(generation_path(root, number))
        return
    for name in _SHARD_ENTRIES:
        entry = root / name
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif entry.exists() or entry.is_symlink():
            entry.unlink()
