"""The parser the service uses: :class:`UnstructuredParser` in a child process, bounded.

Parsing untrusted files with a large native stack (pdfminer, LibreOffice,
tesseract, lxml) can hang, balloon or crash. Running it in a separate process
lets the service enforce a time and a memory limit per document and survive a
crash: the child is killed (with its helpers) and the next document gets a
fresh one.

The time limit is a limit on progress: readers that work in parts (the PDF
reader, a batch of pages at a time) report each part over the pipe
(:mod:`~ingest.parsing.progress`), and a document may take ``timeout_s`` from the
start or from its last report, whichever is later. A 1,158-page manual that
parses steadily for minutes succeeds; a page that hangs is still stopped
``timeout_s`` after the page before it. ``total_timeout_s`` bounds the whole
document however steadily it moves, so that nothing parses forever.

The child is never forked from the service process, whose torch and thread
pools do not survive a fork: it is forked from a fork server, a clean process
that has loaded the parsing stack once (:mod:`.parser_forkserver`). The child
is started on first use (or by :meth:`IsolatedParser.start`) and reused; its
start-up is not counted in a document's time limit.

Memory is bounded by polling the resident size of the child and its helper
processes rather than with ``RLIMIT_AS``: the PDF stack alone maps about
2 GB of address space (torch, onnxruntime, thread arenas) while using much
less, so an address-space limit either breaks normal parsing or bounds nothing.

What a failure says is split in two: the document's error carries ragline's own
sentence (its readers see it), while what the libraries said, which can name
server paths and library versions, goes to this process's log with the file name.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Final

from kernel import errors
from kernel.documents import ParsedDocument
from kernel.errors import (
    CorruptDocumentError,
    DependencyUnavailableError,
    DocumentError,
    ParseLimitError,
)

from . import scratch
from .child import ChildParser, serve
from .limits import check_file_size
from .ocr_languages import DEFAULT_OCR_LANGUAGES, require_ocr_languages
from .parser_forkserver import parser_context
from .unstructured_parser import UnstructuredParser

log = logging.getLogger(__name__)

#: How often the parent checks the child's memory while it parses.
_POLL_S: Final[float] = 0.05
_STOP_GRACE_S: Final[float] = 5.0
_ERRORS: Final[dict[str, type[DocumentError]]] = {
    cls.__name__: cls
    for cls in (
        errors.DocumentError,
        errors.UnsupportedFormatError,
        errors.EncryptedDocumentError,
        errors.EmptyDocumentError,
        errors.CorruptDocumentError,
        errors.ParseLimitError,
    )
}


@dataclass(slots=True)
class _Child:
    process: BaseProcess
    conn: Connection

    @property
    def pid(self) -> int:
        pid = self.process.pid
        assert pid is not None  # set once started
        return pid


class IsolatedParser:
    """Implements :class:`~ingest.parsing.base.Parser` by delegating to a child process.

    Args:
        timeout_s: most seconds a parse may go without progress: from the start
            to the first progress report, between reports, and from the last to the
            reply (a format that never reports has this long in all); past it the
            child is killed and the document fails with ``ParseLimitError``.
        total_timeout_s: most seconds one document may take in all, however
            steadily it progresses; at least ``timeout_s``.
        memory_mb: most resident memory (child plus helpers) while parsing; the
            PDF stack needs about 800 MB at rest, so give it 2048 or more.
        max_bytes: larger files are refused before they reach the child.
        scratch_dir: the folder (under the data directory) for every temporary
            file of parsing; made private, and swept of dead children's files
            here and whenever a child starts (see :mod:`~ingest.parsing.scratch`).
        ocr: read PDF pages without a usable text layer, and pictures, with tesseract.
        ocr_languages: tesseract's language packs to read with (``eng``, ``rus``);
            with OCR on, a pack that is not installed raises ``ConfigurationError``
            here, in the caller's process, before any child starts.
        parser_factory: builds the parser inside the child; must be picklable
            (a module-level function or a ``functools.partial``). Defaults to an
            :class:`UnstructuredParser`; tests pass misbehaving parsers.
        start_timeout_s: most seconds the child may take to start and warm up.

    ``parse`` may be called from several threads; calls are served one at a time.
    As with any ``spawn`` or ``forkserver`` child, a script that creates one must
    guard its entry point with ``if __name__ == "__main__":``, since the fork
    server imports the main module.
    """

    def __init__(
        self,
        *,
        timeout_s: float,
        total_timeout_s: float = 1800.0,
        memory_mb: int,
        max_bytes: int,
        scratch_dir: Path,
        ocr: bool = True,
        ocr_languages: Sequence[str] = DEFAULT_OCR_LANGUAGES,
        parser_factory: Callable[[], ChildParser] | None = None,
        start_timeout_s: float = 300.0,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if total_timeout_s < timeout_s:
            raise ValueError("total_timeout_s must be at least timeout_s")
        if memory_mb <= 0:
            raise ValueError("memory_mb must be positive")
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if ocr and parser_factory is None:
            require_ocr_languages(ocr_languages)
        self.timeout_s = timeout_s
        self.total_timeout_s = total_timeout_s
        self.memory_mb = memory_mb
        self.max_bytes = max_bytes
        self.scratch_dir = Path(scratch_dir)
        scratch.sweep(self.scratch_dir)
        self._factory: Callable[[], ChildParser] = parser_factory or functools.partial(
            UnstructuredParser, max_bytes, ocr, tuple(ocr_languages)
        )
        self._start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._closed = False
        self._finalizer: (
            weakref.finalize[[BaseProcess, Connection, Path], IsolatedParser] | None
        ) = None

    def __enter__(self) -> IsolatedParser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def child_pid(self) -> int | None:
        """The running child's process id, if one is running (for monitoring and tests)."""
        child = self._child
        return child.pid if child is not None and child.process.is_alive() else None

    def start(self) -> None:
        """Start and warm up the child now rather than on the first document.

        Raises:
            DependencyUnavailableError: the child could not start.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("IsolatedParser is closed")
            self._ensure_child()

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        """Parse ``path`` in the child.

        Raises:
            ParseLimitError: over ``max_bytes``, ``timeout_s`` without progress,
                ``total_timeout_s`` in all, or ``memory_mb``.
            DocumentError: whatever the child's parser raised, same class and message;
                ``CorruptDocumentError`` when the child died on the document.
            DependencyUnavailableError: the child could not be started.
            RuntimeError: the parser was closed.
        """
        path = Path(path)
        check_file_size(path, self.max_bytes)
        request = ("parse", str(path.resolve()), filename or path.name, content_type)
        with self._lock:
            if self._closed:
                raise RuntimeError("IsolatedParser is closed")
            child = self._ensure_child()
            return self._exchange(child, request)

    def close(self) -> None:
        """Stop the child (politely, then by force); safe to call more than once."""
        with self._lock:
            self._closed = True
            self._discard_child(polite=True)

    def _ensure_child(self) -> _Child:
        if self._child is not None and self._child.process.is_alive():
            return self._child
        self._discard_child(polite=False)
        scratch.sweep(self.scratch_dir)
        context = parser_context()
        parent_conn, child_conn = context.Pipe(duplex=True)
        process = context.Process(
            target=serve,
            args=(child_conn, self._factory, str(self.scratch_dir)),
            name="ragline-parser",
            daemon=True,
        )
        process.start()
        child_conn.close()
        child = _Child(process, parent_conn)
        self._child = child
        self._finalizer = weakref.finalize(self, _kill, process, parent_conn, self.scratch_dir)
        self._await_ready(child)
        return child

    def _await_ready(self, child: _Child) -> None:
        deadline = time.monotonic() + self._start_timeout_s
        reason: str | None = None
        while reason is None:
            if child.conn.poll(_POLL_S):
                try:
                    message = child.conn.recv()
                except (EOFError, OSError):
                    reason = _exit_description(child.process)
                    break
                if message[0] == "ready":
                    return
                log.error("the document parser failed while loading:\n%s", message[1])
                reason = "it failed while loading (details in the log)"
            elif not child.process.is_alive():
                reason = _exit_description(child.process)
            elif time.monotonic() > deadline:
                reason = f"it did not start within {self._start_timeout_s:g} s"
            elif _resident_mb(child.pid) > self.memory_mb:
                reason = f"loading it takes more than the {self.memory_mb} MB memory limit"
        self._discard_child(polite=False)
        raise DependencyUnavailableError(f"the document parser could not start: {reason}")

    def _exchange(self, child: _Child, request: tuple[str, str, str, str | None]) -> ParsedDocument:
        try:
            child.conn.send(request)
        except (OSError, ValueError) as exc:
            self._discard_child(polite=False)
            raise CorruptDocumentError(
                "the parser process stopped before reading this document"
            ) from exc
        clock = _ProgressClock(self.timeout_s, self.total_timeout_s)
        while True:
            if child.conn.poll(_POLL_S):
                try:
                    reply = child.conn.recv()
                except (EOFError, OSError):
                    reply = None
                if reply is None:
                    break
                if reply[0] != "progress":
                    return _unpack(reply, request[2])
                clock.progressed(reply)  # then the checks: a chatty reader is still bounded
            if not child.process.is_alive():
                break
            overrun = clock.overrun()
            if overrun is not None:
                self._discard_child(polite=False)
                raise ParseLimitError(overrun)
            if _resident_mb(child.pid) > self.memory_mb:
                self._discard_child(polite=False)
                raise ParseLimitError(f"parsing used more than {self.memory_mb} MB of memory")
        description = _exit_description(child.process)
        self._discard_child(polite=False)
        raise CorruptDocumentError(f"the parser process died on this document ({description})")

    def _discard_child(self, *, polite: bool) -> None:
        child, self._child = self._child, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if child is None:
            return
        if polite and child.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                child.conn.send(("stop",))
            child.process.join(_STOP_GRACE_S)
        _kill(child.process, child.conn, self.scratch_dir)


class _ProgressClock:
    """The two time limits of one parse: without progress, and in all.

    Progress is a report of some pages done that differs from the one before, so a
    reader stuck repeating itself does not keep its child alive, while a second PDF
    in a zip, counting its pages from 1 again, does. "0 pages done" (a batch of
    scanned pages whose text layer was empty, all of them still to OCR) is no progress.
    """

    def __init__(self, timeout_s: float, total_timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._total_timeout_s = total_timeout_s
        self._started = self._last = time.monotonic()
        self._done = 0
        self._total = 0

    def progressed(self, report: tuple[object, ...]) -> None:
        if len(report) != 3:
            return
        done, total = report[1], report[2]
        if not (isinstance(done, int) and isinstance(total, int)):
            return
        if done > 0 and (done, total) != (self._done, self._total):
            self._done, self._total = done, total
            self._last = time.monotonic()

    def overrun(self) -> str | None:
        """What a parse that went past a limit is told, or ``None`` while it is within both."""
        now = time.monotonic()
        if now - self._started > self._total_timeout_s:
            return f"parsing exceeded {self._total_timeout_s:g} s in all{self._where()}"
        if now - self._last <= self._timeout_s:
            return None
        if not self._done:  # never reported: the whole document took too long, as before
            return f"parsing exceeded {self._timeout_s:g} s"
        return f"parsing exceeded {self._timeout_s:g} s without progress{self._where()}"

    def _where(self) -> str:
        return f" after page {self._done} of {self._total}" if self._done else ""


def _unpack(reply: tuple[object, ...], filename: str) -> ParsedDocument:
    """The parsed document, or its error raised with ragline's message; the detail is logged."""
    if reply[0] == "ok" and isinstance(reply[1], ParsedDocument):
        return reply[1]
    if reply[0] == "error" and len(reply) == 4:
        name, message, detail = str(reply[1]), str(reply[2]), str(reply[3])
        if name not in _ERRORS:
            log.warning("unexpected parser failure on %r: %s\n%s", filename, message, detail)
        elif detail:
            log.info("parsing %r: %s; library detail: %s", filename, message, detail)
        raise _ERRORS.get(name, CorruptDocumentError)(message)
    raise CorruptDocumentError("the parser process sent an unreadable reply")


def _kill(process: BaseProcess, conn: Connection, scratch_root: Path) -> None:
    """Kill the child's whole process group (it and its helpers) and remove its scratch."""
    pid = process.pid
    if pid is not None and process.is_alive():
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    process.join(_STOP_GRACE_S)
    if pid is not None:  # helpers that outlived the child still hold the group id
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    conn.close()
    if pid is not None:
        scratch.remove(scratch.child_dir(scratch_root, pid))
    with contextlib.suppress(ValueError):
        process.close()


def _resident_mb(pid: int) -> float:
    """Resident memory of the process and its descendants, in MB."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total / 1_000_000


def _exit_description(process: BaseProcess) -> str:
    process.join(_STOP_GRACE_S)
    code = process.exitcode
    if code is None:
        return "no reply"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
