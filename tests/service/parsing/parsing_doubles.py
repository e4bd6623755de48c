"""A misbehaving parser for the isolation tests, built inside the child process.

It reads its orders from the file it is asked to parse, so each test picks a
behaviour by writing a file: ``ok <text>``, ``sleep <seconds>``, ``crash``,
``exit``, ``eat <MB>`` (grow resident memory), ``spawn-and-sleep <pidfile>``
(start a helper process, then hang), ``raise`` (an unexpected exception),
``litter`` (leave temporary files, its own and a helper program's, and answer
with where they went) or ``litter-and-sleep`` (the same, then hang). Progress,
as a reader that works in parts reports it: ``progress <parts> <seconds> [<rounds>]``
(each part takes that long and is reported, then the answer; with ``rounds``, the
parts are counted from 1 again that many times, as for several PDFs in a zip), ``progress-then-hang
<parts>`` (report them at once, then hang) and ``progress-repeated`` (report the
same part over and over, never the next). ``loaded`` answers, as JSON, what the
child found in memory that it never imported itself: its parent process, whether
the parsing stack was loaded, and how many objects its garbage collector skips.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest.parsing import progress
from kernel.documents import Element, ParsedDocument


class MisbehavingParser:
    """Double of :class:`UnstructuredParser`; does what the file says."""

    def parse(
        self, path: Path, *, filename: str | None = None, content_type: str | None = None
    ) -> ParsedDocument:
        command, _, argument = path.read_text().partition(" ")
        if command == "sleep":
            time.sleep(float(argument))
        elif command == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif command == "exit":
            os._exit(3)
        elif command == "eat":
            hoard = []
            for _ in range(int(argument) // 20):
                hoard.append(b"x" * 20_000_000)
                time.sleep(0.01)
            time.sleep(30)
        elif command == "spawn-and-sleep":
            helper = subprocess.Popen(["sleep", "300"])
            Path(argument).write_text(str(helper.pid))
            time.sleep(300)
        elif command == "progress":
            parts, seconds, *rounds = argument.split()
            for _ in range(int(rounds[0]) if rounds else 1):
                for part in range(1, int(parts) + 1):
                    time.sleep(float(seconds))
                    progress.report(part, int(parts))
        elif command == "progress-then-hang":
            for part in range(1, int(argument) + 1):
                progress.report(part, int(argument) * 2)
            time.sleep(300)
        elif command == "progress-repeated":
            for _ in range(3000):
                progress.report(1, 10)
                time.sleep(0.1)
        elif command == "loaded":
            stack = ("unstructured.partition.pdf", "spacy")
            return _answer(
                json.dumps(
                    {
                        "parent": os.getppid(),
                        "loaded": {name: name in sys.modules for name in stack},
                        "frozen": gc.get_freeze_count(),
                    }
                )
            )
        elif command == "raise":
            raise KeyError("surprise")
        elif command in ("litter", "litter-and-sleep"):
            argument = _litter()
            if command == "litter-and-sleep":
                time.sleep(300)
        text = f"{argument} (pid {os.getpid()})"
        if command == "litter":  # the modes the files were made with, for the test to check
            text += f" (modes {_modes(Path(argument).parent)})"
        return _answer(text)


def _answer(text: str) -> ParsedDocument:
    return ParsedDocument(format="txt", elements=(Element(kind="text", text=text),))


def _litter() -> str:
    """Temporary files the way libraries and helper programs make them, left behind."""
    handle, name = tempfile.mkstemp(prefix="ragline-ocr-")
    os.write(handle, b"page copy")
    os.close(handle)
    folder = tempfile.mkdtemp(prefix="ragline-ocr-")
    Path(folder, "page.png").write_bytes(b"image")
    subprocess.run(["sh", "-c", 'echo image > "${TMPDIR:-/tmp}/tess_helper.png"'], check=True)
    return name


def _modes(folder: Path) -> str:
    """Permission bits of everything under ``folder``, e.g. ``600 700 600 600``."""
    return " ".join(f"{p.stat().st_mode & 0o777:o}" for p in sorted(folder.rglob("*")))


def broken_factory() -> MisbehavingParser:
    """A factory that fails the way a missing dependency would."""
    raise RuntimeError("model files are missing")
