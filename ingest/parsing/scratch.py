"""Where parsing writes its temporary files: a private folder under the data directory.

Parsing writes page copies for OCR, tesseract's images (pytesseract's ``tess_*``)
and LibreOffice or pandoc conversions. In the system temp folder those outlive a
parser killed at a limit and are readable by other local users. So each parser
child gets its own folder ``<scratch root>/<child pid>``, made private (0700,
files 0600 under the child's umask), pointed to by ``TMPDIR`` so third-party
code writes there too, cleared after every document and removed when the child
ends. Its ``kept`` folder alone survives the clearing: what a child reuses from
one document to the next (a LibreOffice profile, see :func:`kept`), gone with
the rest when the child ends or is killed. A folder whose process is gone (a
child killed with its parent) is swept when the next parser starts; folders of
live children are left alone, because several processes (the API, a CLI ingest)
may share one data directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Final

_PRIVATE_DIR: Final[int] = 0o700
_PRIVATE_UMASK: Final[int] = 0o077
#: The folder in a child's scratch that :func:`clear` leaves: what outlives one document.
_KEPT: Final[str] = "kept"


class _Entered:
    """The scratch folder this process entered, and the process that entered it."""

    folder: Path | None = None
    pid: int | None = None


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) 0700, or tighten it to 0700 if we own it."""
    path.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != _PRIVATE_DIR:
        path.chmod(_PRIVATE_DIR)
    return path


def child_dir(root: Path, pid: int) -> Path:
    """The scratch folder of the parser child ``pid``."""
    return root / str(pid)


def sweep(root: Path) -> None:
    """Remove everything under ``root`` that no live process owns.

    Only folders named after a running process survive; anything else is the
    scratch of a child that was killed (or a stray file) and goes.
    """
    private_dir(root)
    for entry in root.iterdir():
        if entry.name.isdigit() and entry.is_dir() and _alive(int(entry.name)):
            continue
        remove(entry)


def remove(path: Path) -> None:
    """Delete a file or a folder tree; gone already is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clear(folder: Path) -> None:
    """Empty ``folder``, keeping the folder itself and its ``kept`` folder (see :func:`kept`)."""
    with contextlib.suppress(FileNotFoundError):
        for entry in folder.iterdir():
            if entry.name != _KEPT:
                remove(entry)


def kept(name: str) -> Path | None:
    """Where this parser child keeps ``name`` from one document to the next; ``None`` outside one.

    The path is in the child's ``kept`` folder (made here, private), which
    :func:`clear` leaves and the child's end, or the parent after a kill,
    removes; ``name`` itself is not made. Outside a parser child (in-process
    parsing, or a process the child forked) nothing is kept: several threads
    may parse there at once, and nothing would remove it.
    """
    folder = _Entered.folder
    if folder is None or _Entered.pid != os.getpid():
        return None
    return private_dir(folder / _KEPT) / name


def enter(root: Path) -> Path:
    """Make this process (a parser child) write every temporary file to its own folder.

    Sets the umask (files 0600, folders 0700), ``TMPDIR``/``TMP``/``TEMP`` for
    helper programs and libraries that read them, and ``tempfile.tempdir``,
    which ``tempfile`` may already have cached from the old environment.
    """
    os.umask(_PRIVATE_UMASK)
    folder = private_dir(child_dir(root, os.getpid()))
    for name in ("TMPDIR", "TMP", "TEMP"):
        os.environ[name] = str(folder)
    tempfile.tempdir = str(folder)
    _Entered.folder, _Entered.pid = folder, os.getpid()
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, and not ours to judge
        return True
    return True
