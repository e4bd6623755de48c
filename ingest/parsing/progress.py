"""Progress of the document being parsed, reported by readers that work in parts.

:class:`~ingest.parsing.isolated.IsolatedParser` bounds the time a parse may go
*without progress*, not the time of a whole document: a 1,158-page manual parsing
steadily for minutes is fine, a page that hangs is not. A reader that works in
parts (the PDF reader, a batch of pages at a time) calls :func:`report` after
each part; the parser's child process forwards each report to the parent over
its pipe (see :mod:`~ingest.parsing.child`). Outside the child nobody listens,
and :func:`report` does nothing.

The listener is a context variable, so a reader needs no extra parameter and
nested readers (a PDF inside an email) report into the same parse.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

#: Called with (pages done, pages in all) after each part of the document.
Listener = Callable[[int, int], None]

_listener: ContextVar[Listener | None] = ContextVar("ragline_parse_progress", default=None)


def report(done: int, total: int) -> None:
    """Say that ``done`` of ``total`` parts (pages) are parsed; a no-op when nobody listens."""
    listener = _listener.get()
    if listener is not None:
        listener(done, total)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the reports made inside the block to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
