"""The file-size limit, checked from the file system before a byte is read."""

from __future__ import annotations

from pathlib import Path

from kernel.errors import ParseLimitError


def check_file_size(path: Path, max_bytes: int) -> int:
    """The file's size in bytes.

    Raises:
        ParseLimitError: it is larger than ``max_bytes``.
        OSError: it cannot be read.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise ParseLimitError(
            f"file is {_human(size)}, over the parsing limit of {_human(max_bytes)}"
        )
    return size


def _human(size: int) -> str:
    if size < 1_000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1_000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"
