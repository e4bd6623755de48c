"""The file formats the parser reads, and the names and media types that hint at them.

A format is what the bytes are (``pdf``, ``docx``...), decided by :mod:`.detect`;
the tables here only turn a file name or a declared content type into a *hint*.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Final, Literal, get_args

Format = Literal[
    "pdf",
    "docx",
    "doc",
    "odt",
    "rtf",
    "pptx",
    "ppt",
    "xlsx",
    "xls",
    "csv",
    "tsv",
    "html",
    "md",
    "rst",
    "txt",
    "eml",
    "epub",
    "json",
    "xml",
]

FORMATS: Final[frozenset[Format]] = frozenset(get_args(Format))

#: Formats whose bytes are text in some encoding; the name decides between them,
#: since libmagic reports Markdown, RST and CSV as plain text.
TEXT_FORMATS: Final[frozenset[Format]] = frozenset(
    {"csv", "tsv", "html", "md", "rst", "txt", "eml", "json", "xml"}
)

#: Formats stored as zip archives, which get the zip-bomb check before parsing.
ZIP_FORMATS: Final[frozenset[Format]] = frozenset({"docx", "pptx", "xlsx", "odt", "epub"})

#: Legacy Office formats stored as OLE compound files.
CFB_FORMATS: Final[frozenset[Format]] = frozenset({"doc", "ppt", "xls"})

SPREADSHEET_FORMATS: Final[frozenset[Format]] = frozenset({"xlsx", "xls", "csv", "tsv"})

_EXTENSIONS: Final[dict[str, Format]] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".docm": "docx",
    ".doc": "doc",
    ".odt": "odt",
    ".rtf": "rtf",
    ".pptx": "pptx",
    ".pptm": "pptx",
    ".ppt": "ppt",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "md",
    ".markdown": "md",
    ".rst": "rst",
    ".txt": "txt",
    ".text": "txt",
    ".log": "txt",
    ".eml": "eml",
    ".epub": "epub",
    ".json": "json",
    ".xml": "xml",
}

_MEDIA_TYPES: Final[dict[str, Format]] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "text/x-rst": "rst",
    "text/prs.fallenstein.rst": "rst",
    "text/plain": "txt",
    "message/rfc822": "eml",
    "application/epub+zip": "epub",
    "application/json": "json",
    "text/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}


def format_from_name(filename: str | None) -> Format | None:
    """The format a file name's extension suggests, if it names one we read."""
    if not filename:
        return None
    return _EXTENSIONS.get(PurePath(filename).suffix.lower())


def format_from_media_type(content_type: str | None) -> Format | None:
    """The format a declared content type suggests (parameters such as charset ignored)."""
    if not content_type:
        return None
    return _MEDIA_TYPES.get(content_type.split(";", 1)[0].strip().lower())


def media_type_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a declared content type, which outranks a guess."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def display_name(fmt: str) -> str:
    """How a format is named in messages for people: ``PDF``, ``DOCX``."""
    return fmt.upper()
