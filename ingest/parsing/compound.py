"""OLE compound files: legacy Office formats, Outlook messages, and encrypted OOXML.

An encrypted DOCX/XLSX/PPTX is not a zip at all: Office stores it as a compound
file holding ``EncryptionInfo`` and ``EncryptedPackage`` streams, so its real
format is hidden and only the file name can say which one it was.
"""

from __future__ import annotations

import io
from typing import Final

from kernel.errors import CorruptDocumentError, EncryptedDocumentError, UnsupportedFormatError

from .formats import Format, display_name

CFB_SIGNATURE: Final[bytes] = bytes.fromhex("d0cf11e0a1b11ae1")

_OOXML: Final[frozenset[str]] = frozenset({"docx", "xlsx", "pptx"})
_LEGACY: Final[frozenset[str]] = frozenset({"doc", "xls", "ppt"})


def compound_format(data: bytes, claimed: Format | None) -> Format:
    """The format an OLE compound file holds.

    Raises:
        EncryptedDocumentError: it wraps a password-protected OOXML document, or is
            a legacy document encrypted with a password.
        UnsupportedFormatError: it is some other compound file (a Visio drawing...).
        CorruptDocumentError: its directory cannot be read.
    """
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, IndexError) as exc:
        what = display_name(claimed) if claimed else "Office"
        raise CorruptDocumentError(f"{what} file is damaged: its directory cannot be read") from exc
    fmt = compound_streams_format(streams, claimed)
    if fmt in _LEGACY and _is_legacy_encrypted(data):
        raise EncryptedDocumentError(f"{display_name(fmt)} file is password protected")
    return fmt


def compound_streams_format(streams: set[str], claimed: Format | None) -> Format:
    """The format a compound file holds, from the names in its directory.

    Raises:
        EncryptedDocumentError: it wraps a password-protected OOXML document.
        UnsupportedFormatError: no format ragline reads.
    """
    if "EncryptionInfo" in streams and "EncryptedPackage" in streams:
        what = f"{display_name(claimed)} file" if claimed in _OOXML else "Office document"
        raise EncryptedDocumentError(f"{what} is password protected")
    fmt = _legacy_format(streams)
    if fmt is not None:
        return fmt
    if _is_outlook(streams):
        return "msg"
    raise UnsupportedFormatError("format 'application/x-ole-storage' is not supported")


def _legacy_format(streams: set[str]) -> Format | None:
    if "WordDocument" in streams:
        return "doc"
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "PowerPoint Document" in streams:
        return "ppt"
    return None


def _is_outlook(streams: set[str]) -> bool:
    return any(name.startswith("__substg1.0_") for name in streams)


def _is_legacy_encrypted(data: bytes) -> bool:
    """RC4/XOR-protected .doc/.xls/.ppt, which LibreOffice would stall on or xlrd reject."""
    import msoffcrypto

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # noqa: BLE001 - msoffcrypto raises bare Exception on unknown layouts
        return False
