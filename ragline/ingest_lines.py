"""Plain lines for ``ragline ingest`` when its output is a log, not a terminal.

Under a scheduler, a pipe or a timeout the progress bar draws nothing, so each
document gets one line as it finishes (flushed at once, so a run killed midway
still leaves what it did); the summary follows at the end as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Finished(Protocol):
    """What a line needs of ``ingest.folder.FileReport``."""

    @property
    def name(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def chunks(self) -> int: ...
    @property
    def seconds(self) -> float: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


def document_line(report: Finished, *, resumed: bool = False) -> str:
    """``indexed guide.md (md, 12 chunks, 1.4 s)`` or ``failed a.txt: empty_document: ...``."""
    again = " [left processing by an earlier run]" if resumed else ""
    if report.outcome == "failed":
        return f"failed {report.name}{again}: {report.error_code}: {report.error}"
    unit = "chunk" if report.chunks == 1 else "chunks"
    return (
        f"{report.outcome} {report.name}{again} "
        f"({report.format}, {report.chunks} {unit}, {report.seconds:.1f} s)"
    )


def resume_notice(bucket: str, names: Sequence[str]) -> str:
    """What the run says at start when an earlier run left documents unfinished."""
    count = len(names)
    documents = "document was" if count == 1 else "documents were"
    return (
        f"{count} {documents} left processing in bucket '{bucket}' by an earlier run "
        f"(stopped mid-document): ingesting {'it' if count == 1 else 'them'} again"
    )


def resumed_summary(names: Sequence[str]) -> str:
    """The summary's line about them."""
    count = len(names)
    return (
        f"Picked up {count} document{'' if count == 1 else 's'} left processing by an "
        f"earlier run: {', '.join(names)}"
    )
