"""The loop that runs inside :class:`~ingest.parsing.isolated.IsolatedParser`'s child process.

The wire protocol is plain tuples over a ``multiprocessing`` pipe:

- child to parent, once: ``("ready", pid)`` or ``("failed", reason)``;
- parent to child: ``("parse", path, filename, content_type)`` or ``("stop",)``;
- child to parent, per request: ``("ok", ParsedDocument)`` or
  ``("error", error_class_name, message)``.

Errors travel as names and messages rather than pickled exceptions, so an
exception type the parent cannot import (or unpickle) cannot break the reply.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

from ragline.documents import ParsedDocument
from ragline.errors import DocumentError

logger = logging.getLogger(__name__)


class ChildParser(Protocol):
    """What the child needs from the parser it hosts (``warm_up`` is optional)."""

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument: ...


Reply = tuple[str, ParsedDocument] | tuple[str, str, str]


def serve(conn: Connection, factory: Callable[[], ChildParser]) -> None:
    """Build the parser, report readiness, then answer requests until told to stop.

    The child leads its own process group so that the parent can kill it together
    with the helpers it runs (LibreOffice, tesseract, pandoc) on a timeout.
    """
    os.setpgid(0, 0)
    try:
        parser = factory()
        warm_up = getattr(parser, "warm_up", None)
        if callable(warm_up):
            warm_up()
    except Exception as exc:  # noqa: BLE001 - any start-up failure is reported, not raised
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the parent went away
            return
        if not request or request[0] != "parse":
            return
        _, path, filename, content_type = request
        conn.send(_handle(parser, Path(path), filename, content_type))


def _handle(
    parser: ChildParser, path: Path, filename: str | None, content_type: str | None
) -> Reply:
    try:
        return ("ok", parser.parse(path, filename=filename, content_type=content_type))
    except DocumentError as exc:
        return ("error", type(exc).__name__, exc.message)
    except MemoryError:
        return ("error", "ParseLimitError", "parsing ran out of memory")
    except Exception as exc:
        logger.exception("unexpected parser failure on %s", path.name)
        reason = " ".join(str(exc).split())[:300]
        return (
            "error",
            "CorruptDocumentError",
            f"the parser failed: {type(exc).__name__}: {reason}",
        )
