"""The loop that runs inside :class:`~ingest.parsing.isolated.IsolatedParser`'s child process.

The wire protocol is plain tuples over a ``multiprocessing`` pipe:

- child to parent, once: ``("ready", pid)`` or ``("failed", reason)``;
- parent to child: ``("parse", path, filename, content_type)`` or ``("stop",)``;
- child to parent, per request: any number of ``("progress", done, total)``
  while it parses (pages done of pages in all, from readers that work in parts:
  see :mod:`~ingest.parsing.progress`), then ``("ok", ParsedDocument)`` or
  ``("error", error_class_name, message, detail)``, the name ``"unexpected"``
  for an exception that is not a ``DocumentError``.

Errors travel as names and messages rather than pickled exceptions, so an
exception type the parent cannot import (or unpickle) cannot break the reply.
``message`` is ragline's own sentence, stored with the document and shown to
its readers; ``detail`` is what the libraries said (their messages, paths,
versions, a traceback for the unexpected), for the service's log only.
"""

from __future__ import annotations

import functools
import gc
import os
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

from kernel.documents import ParsedDocument
from kernel.errors import DocumentError

from . import progress, scratch

#: The error name of a failure that is not a ``DocumentError`` (a library bug).
UNEXPECTED = "unexpected"
#: Most characters of library detail sent back for the log.
_MAX_DETAIL = 4000


class ChildParser(Protocol):
    """What the child needs from the parser it hosts (``warm_up`` is optional)."""

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument: ...


Reply = tuple[str, ParsedDocument] | tuple[str, str, str, str]


def serve(conn: Connection, factory: Callable[[], ChildParser], scratch_root: str) -> None:
    """Build the parser, report readiness, then answer requests until told to stop.

    The child leads its own process group so that the parent can kill it together
    with the helpers it runs (LibreOffice, tesseract, pandoc) on a timeout, and
    writes its temporary files (and theirs) only to its folder under ``scratch_root``.
    """
    os.setpgid(0, 0)
    # Forked from the fork server, the child shares its loaded heap page by page; the
    # first full collection walked every inherited object, copying the pages it
    # touched (seconds of a first document's time limit). Frozen, they are skipped.
    gc.freeze()
    folder = scratch.enter(Path(scratch_root))
    try:
        _serve(conn, factory, folder)
    finally:  # a stop, or a parent that went away; a killed child is cleaned by the parent
        scratch.remove(folder)


def _serve(conn: Connection, factory: Callable[[], ChildParser], folder: Path) -> None:
    try:
        parser = factory()
        warm_up = getattr(parser, "warm_up", None)
        if callable(warm_up):
            warm_up()
    except Exception as exc:  # noqa: BLE001 - any start-up failure is reported, not raised
        _reply(conn, ("failed", _bounded(traceback.format_exception(exc))))
        return
    if not _reply(conn, ("ready", os.getpid())):
        return
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the parent went away
            return
        if not request or request[0] != "parse":
            return
        _, path, filename, content_type = request
        try:
            with progress.listening(functools.partial(_report_progress, conn)):
                reply = _handle(parser, Path(path), filename, content_type)
        finally:
            scratch.clear(folder)
        if not _reply(conn, reply):
            return


def _report_progress(conn: Connection, done: int, total: int) -> None:
    """Tell the parent the parse moved on, which restarts its no-progress clock."""
    _reply(conn, ("progress", done, total))  # a parent gone away is seen at the reply


def _reply(conn: Connection, message: object) -> bool:
    """Send to the parent; False when it went away (killed): the child just ends."""
    try:
        conn.send(message)
    except OSError:  # BrokenPipeError and kin: nobody is listening any more
        return False
    return True


def _handle(
    parser: ChildParser, path: Path, filename: str | None, content_type: str | None
) -> Reply:
    try:
        return ("ok", parser.parse(path, filename=filename, content_type=content_type))
    except DocumentError as exc:
        return ("error", type(exc).__name__, exc.message, _causes(exc))
    except MemoryError:
        return ("error", "ParseLimitError", "parsing ran out of memory", "")
    except Exception as exc:  # noqa: BLE001 - a library bug fails the document, not the child
        detail = _bounded(traceback.format_exception(exc))
        return ("error", UNEXPECTED, "the parser failed on this document", detail)


def _causes(exc: BaseException) -> str:
    """The library errors behind a document error, outermost first, one line each."""
    lines: list[str] = []
    cause = exc.__cause__
    while cause is not None and len(lines) < 8:
        lines.append(f"{type(cause).__name__}: {' '.join(str(cause).split())}")
        cause = cause.__cause__
    return _bounded(lines, separator=" <- ")


def _bounded(parts: list[str], separator: str = "") -> str:
    text = separator.join(parts)
    return text if len(text) <= _MAX_DETAIL else "..." + text[-_MAX_DETAIL:]
