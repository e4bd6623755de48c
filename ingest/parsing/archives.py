"""Zip containers (OOXML, OpenDocument, EPUB): what they hold and whether they are safe to open.

The size check reads only the central directory, so a zip bomb is refused before
a single member is inflated. The sizes there are claims, but Python's zipfile
(which python-docx, python-pptx and openpyxl use) stops at the claimed size,
so a lying header cannot make those readers inflate more than was checked; the
child process's memory limit covers the rest.
"""

from __future__ import annotations

import io
import zipfile
from typing import Final

from kernel.errors import CorruptDocumentError, ParseLimitError

from .formats import Format, display_name

#: Most bytes the members of one document may expand to.
MAX_EXPANDED_BYTES: Final[int] = 512 * 1024 * 1024
#: Above this expanded size, a compression ratio over :data:`MAX_RATIO` is refused.
RATIO_CHECK_FROM_BYTES: Final[int] = 16 * 1024 * 1024
#: Office XML compresses 5-30x; a bomb compresses hundreds to millions of times.
MAX_RATIO: Final[float] = 100.0
MAX_MEMBERS: Final[int] = 10_000

_OOXML_PARTS: Final[tuple[tuple[str, Format], ...]] = (
    ("word", "docx"),
    ("ppt", "pptx"),
    ("xl", "xlsx"),
)
#: The ``mimetype`` member of an OpenDocument file or an EPUB names its format.
_MIMETYPES: Final[dict[str, Format]] = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/epub+zip": "epub",
}


def open_zip(data: bytes, claimed: Format | None) -> zipfile.ZipFile:
    """Open ``data`` as a zip archive; a damaged one is a corrupt document."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        what = display_name(claimed) if claimed else "zip"
        raise CorruptDocumentError(f"{what} file is damaged: not a readable zip archive") from exc


def zip_document_format(archive: zipfile.ZipFile) -> Format | None:
    """Which document format a zip holds, from its member names (None: a plain zip)."""
    names = set(archive.namelist())
    if "[Content_Types].xml" in names:
        prefixes = {name.split("/", 1)[0] for name in names}
        for prefix, fmt in _OOXML_PARTS:
            if prefix in prefixes:
                return fmt
    if "mimetype" in names:
        try:
            mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
        except (zipfile.BadZipFile, OSError, RuntimeError):
            return None
        return _MIMETYPES.get(mimetype)
    return None


def check_expansion(archive: zipfile.ZipFile, data_size: int, fmt: Format) -> None:
    """Refuse a zip that would expand past the limits (a zip bomb, or just too big).

    Raises:
        ParseLimitError: too many members, too many expanded bytes, or a ratio
            only a bomb reaches.
    """
    infos = archive.infolist()
    name = display_name(fmt)
    if len(infos) > MAX_MEMBERS:
        raise ParseLimitError(
            f"{name} file holds {len(infos):,} archive members, over the limit of {MAX_MEMBERS:,}"
        )
    expanded = sum(info.file_size for info in infos)
    if expanded > MAX_EXPANDED_BYTES:
        raise ParseLimitError(
            f"{name} file expands to {expanded / 2**20:,.0f} MiB, over the limit of "
            f"{MAX_EXPANDED_BYTES / 2**20:,.0f} MiB (possible zip bomb)"
        )
    ratio = expanded / max(data_size, 1)
    if expanded > RATIO_CHECK_FROM_BYTES and ratio > MAX_RATIO:
        raise ParseLimitError(
            f"{name} file expands {ratio:,.0f} times its size, over the limit of "
            f"{MAX_RATIO:,.0f} (possible zip bomb)"
        )
