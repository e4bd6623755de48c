"""A plain zip archive taken apart: its files become documents of their own.

The archive is indexed as the list of what it holds (so a search for a file name
finds it), and each file is handed back as an attachment, named by its path in
the archive, to be registered as a child document and read (or refused, with its
own code) like an email attachment. Nested zips are opened in place, up to
:data:`MAX_DEPTH` levels, their members named ``inner.zip/path``; every level
gets the zip-bomb checks of :mod:`.archives`, and the whole tree shares one
budget of members and expanded bytes.

A member path that is absolute or climbs out with ``..`` is refused, not
normalised: two members could otherwise land on one name, and such a path is
more often an attack (zip slip) than a mistake.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Final

from kernel.documents import Attachment, Element, ParsedDocument
from kernel.errors import EmptyDocumentError, EncryptedDocumentError, ParseLimitError

from .archives import MAX_EXPANDED_BYTES, MAX_MEMBERS, check_expansion, zip_document_format

#: Levels of archives opened: the uploaded one, and zips nested in it up to this depth.
MAX_DEPTH: Final[int] = 3
_ZIP_SIGNATURE: Final[bytes] = b"PK\x03\x04"
#: Files archivers add that are nobody's document (macOS resource forks, folder caches).
_JUNK_FOLDERS: Final[frozenset[str]] = frozenset({"__MACOSX"})
_JUNK_FILES: Final[frozenset[str]] = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


@dataclass(slots=True)
class _Expansion:
    """What the walk over the archive tree found, and what it has spent."""

    files: list[Attachment] = field(default_factory=list)
    not_read: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    members: int = 0
    expanded: int = 0
    encrypted: int = 0


def parse_zip(data: bytes) -> ParsedDocument:
    """The archive's listing as elements, its files as attachments.

    Raises:
        ParseLimitError: a level (or the whole tree) over the zip-bomb limits.
        EncryptedDocumentError: every file in it is password protected.
        EmptyDocumentError: it holds no file at all (only folders), or none that can be read.
        CorruptDocumentError: the archive itself cannot be opened (a nested one that
            cannot is handed on as a file, to fail on its own).
    """
    found = _Expansion()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _expand(archive, len(data), "", 1, found)
    if not found.files:
        if found.encrypted and found.encrypted == len(found.not_read):
            raise EncryptedDocumentError("ZIP archive is password protected")
        if not found.not_read:
            raise EmptyDocumentError("ZIP archive holds no files")
        raise EmptyDocumentError("ZIP archive holds no file that can be read")
    return ParsedDocument(
        format="zip", elements=tuple(_listing(found)), attachments=tuple(found.files)
    )


def _expand(
    archive: zipfile.ZipFile, size: int, prefix: str, depth: int, found: _Expansion
) -> None:
    check_expansion(archive, size, "zip")
    infos = [info for info in archive.infolist() if not info.is_dir()]
    found.members += len(infos)
    found.expanded += sum(info.file_size for info in infos)
    if found.members > MAX_MEMBERS:
        raise ParseLimitError(f"ZIP archive holds over {MAX_MEMBERS:,} files, nested ones included")
    if found.expanded > MAX_EXPANDED_BYTES:
        raise ParseLimitError(
            f"ZIP archive expands to over {MAX_EXPANDED_BYTES / 2**20:,.0f} MiB, nested ones "
            "included (possible zip bomb)"
        )
    seen: set[str] = set()
    for info in infos:
        shown = prefix + info.filename
        path = _safe_path(info.filename)
        if path is None:
            found.not_read.append((shown, "refused: its path leaves the archive"))
            continue
        if _is_junk(path) or path in seen:
            continue
        seen.add(path)
        if info.flag_bits & 0x1:
            found.encrypted += 1
            found.not_read.append((prefix + path, "not read: password protected"))
            continue
        try:
            content = archive.read(info)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError):
            found.not_read.append((prefix + path, "not read: damaged in the archive"))
            continue
        _take(prefix + path, content, depth, found)


def _take(name: str, content: bytes, depth: int, found: _Expansion) -> None:
    """Keep a file, or open it in place if it is a plain zip."""
    nested = _plain_zip(content)
    if nested is None:
        found.files.append(Attachment(filename=name, content=content))
        return
    with nested:
        if depth >= MAX_DEPTH:
            found.not_read.append((name, f"not read: nested deeper than {MAX_DEPTH} archives"))
            return
        _expand(nested, len(content), name + "/", depth + 1, found)


def _plain_zip(content: bytes) -> zipfile.ZipFile | None:
    """``content`` opened as a zip if it is one that holds files, not a DOCX or the like."""
    if not content.startswith(_ZIP_SIGNATURE):
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError):
        return None  # handed on as a file: it fails on its own as a damaged zip
    if zip_document_format(archive) is not None:
        archive.close()
        return None
    return archive


def _safe_path(name: str) -> str | None:
    """The member's path, relative and tidy, or None if it is absolute or climbs out."""
    unified = name.replace("\\", "/")
    if unified.startswith("/") or "\x00" in unified or (len(unified) > 1 and unified[1] == ":"):
        return None
    parts = [part for part in PurePosixPath(unified).parts if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _is_junk(path: str) -> bool:
    parts = path.split("/")
    return parts[0] in _JUNK_FOLDERS or parts[-1] in _JUNK_FILES or parts[-1].startswith("._")


def _listing(found: _Expansion) -> list[Element]:
    """What the archive holds, as plain text: no heading, so the file name stays its title."""
    elements = [Element(kind="text", text="Files in this archive:")]
    elements += [Element(kind="list_item", text=file.filename) for file in found.files]
    if found.not_read:
        elements.append(Element(kind="text", text="Files not read:"))
        elements += [
            Element(kind="list_item", text=f"{path} ({why})") for path, why in found.not_read
        ]
    return elements
