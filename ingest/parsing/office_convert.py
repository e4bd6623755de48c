"""DOC, PPT and ODP turned into DOCX or PPTX by LibreOffice, to be read as DOCX or PPTX.

LibreOffice reads these formats better than anything else installed, and the
OOXML it writes goes through the DOCX and PPTX readers unchanged, so a legacy
or OpenDocument file gets what its OOXML sibling gets: declared header rows of
Word tables, lists, slide numbers in ``page``, tables with their rows, speaker
notes after each slide, the title in its properties. Not page numbers of a DOC:
those come from the page breaks Word records when it lays a DOCX out, and
neither a DOC nor LibreOffice's DOCX (7.4) carries them.

LibreOffice is run once per document, with a profile of its own in the
conversion's folder (under ``TMPDIR``, the parser child's private scratch
folder). unstructured's conversion helper (behind ``partition_doc`` and
``partition_ppt``) is not used: when a file fails to load it re-runs soffice
for ten seconds of polling, about a hundred runs, so a damaged file spent a
minute and a half or more of the parse time limit; and with the shared profile
a second soffice hands its work to one already running (another parser child's)
and returns before the file is written. A private profile costs a second or two
per document. A stuck LibreOffice is killed with the parser child at its time
limit (it runs in the child's process group).

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

from .formats import Format, display_name

OfficeTarget = Literal["docx", "pptx"]

#: LibreOffice's export filters (the ones unstructured names for .doc and .ppt).
_FILTERS: Final[dict[OfficeTarget, str]] = {
    "docx": "docx:MS Word 2007 XML",
    "pptx": "pptx:Impress MS PowerPoint 2007 XML",
}

#: Most characters of soffice's own output kept for the log.
_MAX_OUTPUT: Final[int] = 2_000


class LibreOfficeOutput(Exception):  # noqa: N818 - a log record, not an error of its own
    """What soffice printed when it converted nothing: the damage's cause, for the log only."""


def convert_with_libreoffice(
    path: Path, source_format: Format, target: OfficeTarget, folder: Path
) -> Path:
    """Convert the ``source_format`` file at ``path`` to ``target`` in ``folder``; its path.

    ``folder`` is an empty folder the caller removes afterwards; the copy, the
    profile and the converted file are written there.

    Raises:
        CorruptDocumentError: LibreOffice wrote nothing (it could not load the file).
    """
    staged = folder / f"document.{source_format}"
    shutil.copyfile(path, staged)
    profile = (folder / "profile").resolve().as_uri()
    output = folder / "out"
    try:
        finished = subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={profile}",
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
    converted = output / f"{staged.stem}.{target}"
    if not converted.is_file() or converted.stat().st_size == 0:
        said = (finished.stderr or finished.stdout).decode("utf-8", "replace").strip()
        raise CorruptDocumentError(
            f"{display_name(source_format)} file is damaged or truncated"
        ) from LibreOfficeOutput(said[-_MAX_OUTPUT:] or f"exit code {finished.returncode}")
    return converted
