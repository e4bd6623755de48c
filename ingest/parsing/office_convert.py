"""DOC, PPT and ODP turned into DOCX or PPTX by LibreOffice, to be read as DOCX or PPTX.

LibreOffice reads these formats better than anything else installed, and the
OOXML it writes goes through the DOCX and PPTX readers unchanged, so a legacy
or OpenDocument file gets what its OOXML sibling gets: declared header rows of
Word tables, lists, slide numbers in ``page``, tables with their rows, speaker
notes after each slide, the title in its properties. Not page numbers of a DOC:
those come from the page breaks Word records when it lays a DOCX out, and
neither a DOC nor LibreOffice's DOCX (7.4) carries them.

LibreOffice is run once per document, with a profile (``UserInstallation``)
of its own: unstructured's conversion helper (behind ``partition_doc`` and
``partition_ppt``) is not used, because when a file fails to load it re-runs
soffice for ten seconds of polling, about a hundred runs, so a damaged file
spent a minute and a half or more of the parse time limit; and with the shared
profile a second soffice hands its work to one already running (another parser
child's) and returns before the file is written. Creating a profile (550 KB,
36 files in 65 folders) adds a tenth of a second to a run on an idle machine
and a third of a second or more on a busy one, so a parser child keeps one
profile for all its documents, in its scratch folder's ``kept`` folder (see
:func:`~ingest.parsing.scratch.kept`): it parses one document at a time, so no
two soffice share the profile, and the profile goes with the child's scratch
when the child ends or is killed. Parsing in-process (no child; several threads
may convert at once) creates a profile per document in the conversion's folder.
A stuck LibreOffice is killed with the parser child at its time limit (it runs
in the child's process group).

A profile damaged by a soffice that crashed on an earlier document can stop
the next one starting (it aborts with "Unspecified Application Error", writing
nothing). So a conversion that wrote nothing with a reused profile is run once
more with a fresh one, unless soffice said it could not load the file: then
LibreOffice started, the document is what is damaged, and it fails after one
run.

The file is converted from a copy named by its detected format, not by the
name it came with: LibreOffice picks its import filter from the extension
first, and an upload's name may say something else.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Final, Literal

from kernel.errors import CorruptDocumentError

from . import scratch
from .formats import Format, display_name

OfficeTarget = Literal["docx", "pptx"]

#: LibreOffice's export filters (the ones unstructured names for .doc and .ppt).
_FILTERS: Final[dict[OfficeTarget, str]] = {
    "docx": "docx:MS Word 2007 XML",
    "pptx": "pptx:Impress MS PowerPoint 2007 XML",
}

#: Most characters of soffice's own output kept for the log.
_MAX_OUTPUT: Final[int] = 2_000
#: The profile's name among what a parser child keeps from one document to the next.
_PROFILE: Final[str] = "libreoffice-profile"
#: What soffice prints when it started but could not load the document (7.4).
_LOAD_FAILED: Final[str] = "source file could not be loaded"


class LibreOfficeOutput(Exception):  # noqa: N818 - a log record, not an error of its own
    """What soffice printed when it converted nothing: the damage's cause, for the log only."""


def convert_with_libreoffice(
    path: Path, source_format: Format, target: OfficeTarget, folder: Path
) -> Path:
    """Convert the ``source_format`` file at ``path`` to ``target`` in ``folder``; its path.

    ``folder`` is an empty folder the caller removes afterwards; the copy and
    the converted file are written there, and the profile too outside a parser
    child.

    Raises:
        CorruptDocumentError: LibreOffice wrote nothing (it could not load the file).
    """
    staged = folder / f"document.{source_format}"
    shutil.copyfile(path, staged)
    output = folder / "out"
    converted = output / f"{staged.stem}.{target}"
    kept = scratch.kept(_PROFILE)
    profile = kept or folder / "profile"
    reused = profile.exists()
    finished = _run_soffice(staged, source_format, target, profile, output)
    if reused and not _written(converted) and not _load_failed(finished):
        scratch.remove(profile)  # damaged, perhaps: the next documents get the fresh one too
        finished = _run_soffice(staged, source_format, target, profile, output)
    if not _written(converted):
        said = _said(finished)
        raise CorruptDocumentError(
            f"{display_name(source_format)} file is damaged or truncated"
        ) from LibreOfficeOutput(said[-_MAX_OUTPUT:] or f"exit code {finished.returncode}")
    return converted


def _run_soffice(
    staged: Path, source_format: Format, target: OfficeTarget, profile: Path, output: Path
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={profile.resolve().as_uri()}",
                "--headless",
                "--convert-to",
                _FILTERS[target],
                "--outdir",
                str(output),
                str(staged),
            ],
            capture_output=True,
            check=False,
        )
    except OSError as exc:  # soffice missing: a broken installation, not a bad document
        raise RuntimeError(
            f"LibreOffice (soffice) cannot be run to read {display_name(source_format)} files"
        ) from exc


def _written(converted: Path) -> bool:
    return converted.is_file() and converted.stat().st_size > 0


def _load_failed(finished: subprocess.CompletedProcess[bytes]) -> bool:
    """Whether soffice started and said the document could not be loaded."""
    return any(_LOAD_FAILED.encode() in stream for stream in (finished.stderr, finished.stdout))


def _said(finished: subprocess.CompletedProcess[bytes]) -> str:
    """What soffice printed, its errors first."""
    return (finished.stderr or finished.stdout).decode("utf-8", "replace").strip()
