"""Several parsers behind one :class:`~ingest.parsing.base.Parser`, one document each.

An :class:`~ingest.parsing.isolated.IsolatedParser` serves one document at a time,
so worker threads sharing it queue behind whichever document is slowest. A pool
gives each call a free parser of its own: with one parser per worker thread,
a thread never waits for another thread's document.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from kernel.documents import ParsedDocument

from .base import Parser


class ParserPool:
    """Implements :class:`~ingest.parsing.base.Parser` by checking out a free parser per call.

    A call waits only when every parser is busy, so size the pool to the number of
    threads that parse. Closing the pool closes every parser; a call after that
    raises ``RuntimeError``, as a closed :class:`IsolatedParser` does.
    """

    def __init__(self, parsers: Sequence[Parser]) -> None:
        if not parsers:
            raise ValueError("a parser pool needs at least one parser")
        self._parsers = tuple(parsers)
        self._free: queue.SimpleQueue[Parser] = queue.SimpleQueue()
        for parser in self._parsers:
            self._free.put(parser)
        self._closed = threading.Event()

    @classmethod
    def of(cls, size: int, make: Callable[[], Parser]) -> ParserPool:
        if size < 1:
            raise ValueError("size must be at least 1")
        return cls([make() for _ in range(size)])

    @property
    def size(self) -> int:
        return len(self._parsers)

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        if self._closed.is_set():
            raise RuntimeError("ParserPool is closed")
        parser = self._free.get()
        try:
            return parser.parse(path, filename=filename, content_type=content_type)
        finally:
            self._free.put(parser)

    def close(self) -> None:
        self._closed.set()
        for parser in self._parsers:
            parser.close()
