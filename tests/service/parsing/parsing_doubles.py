"""A misbehaving parser for the isolation tests, built inside the child process.

It reads its orders from the file it is asked to parse, so each test picks a
behaviour by writing a file: ``ok <text>``, ``sleep <seconds>``, ``crash``,
``exit``, ``eat <MB>`` (grow resident memory), ``spawn-and-sleep <pidfile>``
(start a helper process, then hang) or ``raise`` (an unexpected exception).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from ragline.documents import Element, ParsedDocument


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
        elif command == "raise":
            raise KeyError("surprise")
        text = f"{argument} (pid {os.getpid()})"
        return ParsedDocument(format="txt", elements=(Element(kind="text", text=text),))


def broken_factory() -> MisbehavingParser:
    """A factory that fails the way a missing dependency would."""
    raise RuntimeError("model files are missing")
