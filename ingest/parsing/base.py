"""The parsing port."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from kernel.documents import ParsedDocument


class Parser(Protocol):
    """Reads one file into a :class:`ParsedDocument`.

    ``filename`` and ``content_type`` are hints (an upload's declared name and type);
    the format is decided from the bytes as well. Raises a
    :class:`kernel.errors.DocumentError` subclass naming the failure (unsupported
    format, encrypted, empty, corrupt, limit exceeded); never returns a document
    with no elements.
    """

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument: ...

    def close(self) -> None:
        """Release child processes or other resources; safe to call twice."""
        ...
