"""OpenDocument presentations (.odp) turned into PPTX by LibreOffice, to be read as PPTX.

Impress is installed for .ppt already (``libreoffice-impress-nogui``), and ODP is
its own format, so its conversion is the most faithful reading there is; the
PPTX it writes goes through the PPTX reader unchanged, so an ODP gets what a
PPTX gets: slide numbers in ``page``, titles, tables with their rows, speaker
notes after each slide.

LibreOffice is run once, with a profile of its own in the conversion's folder
(under ``TMPDIR``, the parser's private scratch folder). unstructured's
conversion helper (the one .ppt goes through) is not used: it re-runs soffice
for up to ten seconds of polling when a file fails to load, about a hundred
runs, so a damaged file would spend the whole parse time limit; and with the
shared profile a second soffice hands its work to one already running and
returns before the file is written. A private profile costs about two seconds
more per deck. A stuck LibreOffice is killed with the parser child at its
time limit (it runs in the child's process group).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Final

from kernel.errors import CorruptDocumentError

#: LibreOffice's export filter for PPTX (the one unstructured names for .ppt).
_PPTX: Final[str] = "pptx:Impress MS PowerPoint 2007 XML"


def odp_as_pptx(path: Path, folder: Path) -> Path:
    """Convert the ODP at ``path`` to a PPTX in ``folder``; the PPTX's path.

    Raises:
        CorruptDocumentError: LibreOffice wrote nothing (it could not load the file).
    """
    profile = (folder / "profile").resolve().as_uri()
    output = folder / "out"
    try:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={profile}",
                "--headless",
                "--convert-to",
                _PPTX,
                "--outdir",
                str(output),
                str(path),
            ],
            capture_output=True,
            check=False,
        )
    except OSError as exc:  # soffice missing: a broken installation, not a bad document
        raise RuntimeError("LibreOffice (soffice) cannot be run to read ODP files") from exc
    converted = output / f"{path.stem}.pptx"
    if not converted.is_file() or converted.stat().st_size == 0:
        raise CorruptDocumentError("ODP file is damaged: LibreOffice could not open it")
    return converted
