"""The file formats the parser reads, and the names and media types that hint at them.

A format is what the bytes are (``pdf``, ``docx``...), decided by :mod:`.detect`;
the tables here only turn a file name or a declared content type into a *hint*.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Final, Literal, get_args

Format = Literal[
    "pdf",
    "docx",
    "doc",
    "odt",
    "ods",
    "odp",
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
    "jsonl",
    "yaml",
    "code",
    "png",
    "jpeg",
    "tiff",
    "bmp",
    "gif",
    "webp",
    "heic",
    "msg",
    "zip",
]

FORMATS: Final[frozenset[Format]] = frozenset(get_args(Format))

#: Formats whose bytes are text in some encoding; the name decides between them,
#: since libmagic reports Markdown, RST and CSV as plain text.
TEXT_FORMATS: Final[frozenset[Format]] = frozenset(
    {"csv", "tsv", "html", "md", "rst", "txt", "eml", "json", "xml", "jsonl", "yaml", "code"}
)

#: Formats stored as zip archives, which get the zip-bomb check before parsing.
ZIP_FORMATS: Final[frozenset[Format]] = frozenset(
    {"docx", "pptx", "xlsx", "odt", "ods", "odp", "epub"}
)

#: Legacy Office formats stored as OLE compound files.
CFB_FORMATS: Final[frozenset[Format]] = frozenset({"doc", "ppt", "xls"})

#: Pictures, read by OCR; always recognised by their magic bytes.
IMAGE_FORMATS: Final[frozenset[Format]] = frozenset(
    {"png", "jpeg", "tiff", "bmp", "gif", "webp", "heic"}
)

SPREADSHEET_FORMATS: Final[frozenset[Format]] = frozenset({"xlsx", "xls", "ods", "csv", "tsv"})

_EXTENSIONS: Final[dict[str, Format]] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".docm": "docx",
    ".doc": "doc",
    ".odt": "odt",
    ".ods": "ods",
    ".odp": "odp",
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
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".bmp": "bmp",
    ".gif": "gif",
    ".webp": "webp",
    ".heic": "heic",
    ".heif": "heic",
    ".msg": "msg",
    ".zip": "zip",
    ".ndjson": "jsonl",
    ".jsonl": "jsonl",
    ".jsonlines": "jsonl",
    ".yaml": "yaml",
    ".yml": "yaml",
    **dict.fromkeys(
        (
            *(".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".java", ".kt"),
            *(".scala", ".go", ".rs", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh"),
            *(".cs", ".swift", ".rb", ".php", ".pl", ".lua", ".r", ".sh", ".bash", ".zsh"),
            *(".ps1", ".sql", ".css", ".scss", ".vue", ".dart", ".m", ".ex", ".exs", ".hs"),
        ),
        "code",
    ),
}

_MEDIA_TYPES: Final[dict[str, Format]] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
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
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/tiff": "tiff",
    "image/bmp": "bmp",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heic",
    "application/vnd.ms-outlook": "msg",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/x-ndjson": "jsonl",
    "application/ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    **dict.fromkeys(
        (
            *("text/x-python", "text/x-script.python", "application/x-python-code"),
            *("text/javascript", "application/javascript", "application/typescript"),
            *("text/x-java-source", "text/x-java", "text/x-go", "text/x-rust", "text/x-c"),
            *("text/x-csrc", "text/x-chdr", "text/x-c++src", "text/x-csharp", "text/x-ruby"),
            *("text/x-php", "application/x-sh", "text/x-sh", "text/x-shellscript"),
            *("application/sql", "text/x-sql", "text/css"),
        ),
        "code",
    ),
}

#: Digital signatures (S/MIME, PGP): proof of who sent a message, no text of their own.
SIGNATURE_EXTENSIONS: Final[frozenset[str]] = frozenset({".p7s", ".sig"})
SIGNATURE_MEDIA_TYPES: Final[frozenset[str]] = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)


#: RFC 6838 names: at most 127 characters on each side of the slash.
_MEDIA_TYPE_PART: Final = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE: Final = re.compile(f"{_MEDIA_TYPE_PART}/{_MEDIA_TYPE_PART}")
_CHARSET: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,39}")


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


def declared_content_type(content_type: str | None) -> str | None:
    """A declared content type as it is kept with a document: ``type/subtype[; charset=x]``.

    What an email or an Outlook message declares for an attachment is the sender's
    word, kept so detection can weigh it when the attachment is parsed (an
    extensionless ``export`` declared ``text/csv`` is a table). Only the media type
    and its charset matter to detection; anything malformed or oversized (the value
    is whatever the sender wrote) is dropped rather than stored.
    """
    if not content_type:
        return None
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(media_type):
        return None
    charset = media_type_charset(content_type)
    if charset and _CHARSET.fullmatch(charset):
        return f"{media_type}; charset={charset.lower()}"
    return media_type


def is_signature(filename: str | None, content_type: str | None) -> bool:
    """Whether the name or the declared type says the file is a detached signature."""
    if filename and PurePath(filename).suffix.lower() in SIGNATURE_EXTENSIONS:
        return True
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type in SIGNATURE_MEDIA_TYPES


def display_name(fmt: str) -> str:
    """How a format is named in messages for people: ``PDF``, ``DOCX``."""
    return fmt.upper()
