"""Deciding a file's format from its bytes, its name and its declared content type.

The bytes decide between families (PDF, zip container, compound file, RTF, text,
something else); within a container the member names decide (a zip holding
``word/`` is DOCX whatever it is called); within text, where libmagic cannot
tell Markdown or CSV from plain text, the name and the declared type decide,
and the content is sniffed only when neither names a text format. A binary
file with a text name (an executable called notes.txt) is refused here.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from typing import Final

from kernel.errors import CorruptDocumentError, UnsupportedFormatError

from .archives import open_zip, zip_document_format
from .compound import CFB_SIGNATURE, compound_format
from .encoding import DecodedText, decode_text
from .formats import (
    TEXT_FORMATS,
    ZIP_FORMATS,
    Format,
    display_name,
    format_from_media_type,
    format_from_name,
    is_signature,
    media_type_charset,
)
from .image_signatures import image_format

_ZIP_SIGNATURES: Final[tuple[bytes, ...]] = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_EMAIL_HEADER = re.compile(
    r"^(from|to|cc|subject|date|mime-version|received|message-id|return-path|"
    r"content-type|reply-to|sender|delivered-to|x-[\w-]+):[ \t]*\S",
    re.IGNORECASE,
)
_MD_SIGNAL = re.compile(
    r"^(#{1,6}\s+\S|```|~~~|\s*[-*+]\s+\[[ xX]\]|\|?\s*:?-{3,}:?\s*\|)|\[[^\]]+\]\([^)]+\)",
    re.MULTILINE,
)
_RST_SIGNAL = re.compile(r"^\.\. [\w-]+::|^(=+|-+|~+|\^+)\s*$", re.MULTILINE)
#: libmagic's name for bytes it recognises as nothing in particular.
_UNRECOGNISED: Final = "application/octet-stream"
#: Letters whose spoken name starts with a vowel sound: "an HTML", "an RTF".
_VOWEL_SOUND_LETTERS: Final = frozenset("AEFHILMNORSX")
#: The DER of a PKCS#7 signedData (an S/MIME signature): OID 1.2.840.113549.1.7.2.
_PKCS7_SIGNED_DATA: Final = bytes.fromhex("06092a864886f70d010702")
_PEM_SIGNATURES: Final = (b"-----BEGIN PKCS7-----", b"-----BEGIN PGP SIGNATURE-----")


@dataclass(frozen=True, slots=True)
class Detected:
    """The detected format; ``text`` is set for text formats, already decoded."""

    format: Format
    text: DecodedText | None = None


def detect(data: bytes, *, filename: str | None, content_type: str | None) -> Detected:
    """Decide what ``data`` is.

    Raises:
        UnsupportedFormatError: a format the parser does not read (named by its
            media type), including binary data under a text name; binary data
            libmagic cannot name under a format's name says the name is wrong.
        CorruptDocumentError: a container that cannot be opened.
        EncryptedDocumentError: a password-protected Office file (found while
            telling compound files apart).
    """
    by_name = format_from_name(filename)
    by_type = format_from_media_type(content_type)
    claimed = by_name or by_type
    head = data[:1024]

    if b"%PDF-" in head:
        return Detected("pdf")
    if data.startswith(_ZIP_SIGNATURES):
        return Detected(_zip_format(data, claimed))
    if data.startswith(CFB_SIGNATURE):
        return Detected(compound_format(data, claimed))
    if data.lstrip()[:5] == b"{\\rtf":
        return Detected("rtf")
    picture = image_format(head)
    if picture is not None:
        return Detected(picture)
    if _is_signature_bytes(head) or is_signature(filename, content_type):
        # Proof of who sent a message, not a document: DER would otherwise be refused
        # as binary at best, and PEM read as text (or sniffed as markup).
        raise UnsupportedFormatError("the file is a digital signature, not a document to index")

    decoded = decode_text(data, declared=media_type_charset(content_type))
    if decoded is None:
        claim = _claim(filename, by_name, content_type, by_type)
        raise UnsupportedFormatError(_binary_message(data, claim))
    text_hint = next((f for f in (by_name, by_type) if f in TEXT_FORMATS), None)
    return Detected(text_hint or sniff_text_format(decoded.text), decoded)


def sniff_text_format(text: str) -> Format:
    """Guess a text format from content alone, for files with no telling name or type."""
    stripped = text.lstrip("\ufeff \t\r\n")
    head = stripped[:4096]
    if head.startswith("<"):
        if _HTML_START.search(head[:2048]):
            return "html"
        if head.startswith(("<?xml", "<!--")) or re.match(r"<[A-Za-z_][\w:.-]*[\s>/]", head):
            return "xml"
    if head.startswith(("{", "[")):
        if _is_json(stripped):
            return "json"
        if _is_json_lines(stripped):
            return "jsonl"
    if _looks_like_email(head):
        return "eml"
    if _MD_SIGNAL.search(head):
        return "md"
    if _RST_SIGNAL.search(head) and ".. " in head:
        return "rst"
    delimiter = _consistent_delimiter(stripped[:65536])
    if delimiter is not None:
        return "tsv" if delimiter == "\t" else "csv"
    return "txt"


def _zip_format(data: bytes, claimed: Format | None) -> Format:
    archive = open_zip(data, claimed)
    with archive:
        fmt = zip_document_format(archive)
    if fmt is not None:
        return fmt
    if claimed in ZIP_FORMATS:
        raise CorruptDocumentError(
            f"{display_name(claimed)} file is damaged: the zip archive lacks the parts "
            "of that format"
        )
    return "zip"  # a plain archive: its members are read as documents of their own


@dataclass(frozen=True, slots=True)
class _Claim:
    """What the name (or else the declared type) says a file is, phrased for a message."""

    format: Format
    subject: str  # "'report.pdf' is named as PDF"


def _claim(
    filename: str | None, by_name: Format | None, content_type: str | None, by_type: Format | None
) -> _Claim | None:
    if by_name is not None:
        return _Claim(by_name, f"'{filename}' is named as {_label(by_name)}")
    if by_type is not None and content_type:
        media_type = content_type.split(";", 1)[0].strip()
        return _Claim(by_type, f"the file is declared as {_label(by_type)} ({media_type})")
    return None


def _binary_message(data: bytes, claim: _Claim | None) -> str:
    """Why binary content is refused, in the words of the user who named the file.

    Content libmagic cannot name either ("unrecognised binary data") is most often
    a damaged or mislabelled file, so the message leads with what the name promised;
    content libmagic does name (an executable) is refused by that name.
    """
    media_type = _libmagic_media_type(data)
    unrecognised = media_type == _UNRECOGNISED
    if claim is None:
        return f"format '{media_type}' is not supported" + (
            " (unrecognised binary data)" if unrecognised else ""
        )
    if claim.format in TEXT_FORMATS:
        if unrecognised:
            return f"{claim.subject} but holds unrecognised binary data"
        return f"format '{media_type}' is not supported: {claim.subject} but holds binary data"
    name = display_name(claim.format)
    mismatch = f"{claim.subject} but its content is not {_article(name)} {name}"
    if unrecognised:
        return f"{mismatch} (unrecognised binary data)"
    return f"format '{media_type}' is not supported: {mismatch}"


def _label(fmt: Format) -> str:
    return "text" if fmt in TEXT_FORMATS else display_name(fmt)


def _article(name: str) -> str:
    """``a`` or ``an`` before a format's letters as they are spoken ("an XLSX", "a PDF")."""
    return "an" if name[:1] in _VOWEL_SOUND_LETTERS else "a"


def _libmagic_media_type(data: bytes) -> str:
    """Name unknown binary content the way libmagic does, for the error message."""
    try:
        import magic
    except ImportError:  # libmagic missing: still refuse, with a generic name
        return _UNRECOGNISED
    try:
        return str(magic.from_buffer(data[:65536], mime=True))
    except (OSError, magic.MagicException):
        return _UNRECOGNISED


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _is_json_lines(text: str) -> bool:
    """One JSON value per line (NDJSON): every one of the first lines parses alone."""
    lines = [line for line in text[:65536].splitlines()[:20] if line.strip()]
    if len(lines) > 1 and len(text) > 65536:
        lines = lines[:-1]  # the last line of the sample may be cut short
    return len(lines) >= 2 and all(
        line.lstrip().startswith(("{", "[")) and _is_json(line) for line in lines
    )


def _is_signature_bytes(head: bytes) -> bool:
    """A DER PKCS#7 signedData, or a PEM-armoured signature."""
    if head[:1] == b"\x30" and _PKCS7_SIGNED_DATA in head[:32]:
        return True
    return head.lstrip().startswith(_PEM_SIGNATURES)


def _looks_like_email(head: str) -> bool:
    lines = head.splitlines()[:30]
    header_lines = 0
    for line in lines:
        if not line.strip():
            break
        if _EMAIL_HEADER.match(line):
            header_lines += 1
        elif not line[:1].isspace():
            return False
    return header_lines >= 2


def _consistent_delimiter(head: str) -> str | None:
    """A delimiter that splits the first lines into the same number (>1) of fields."""
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    if len(lines) > 1 and len(lines) == 20:
        lines = lines[:-1]  # the last line of the sample may be cut short
    if len(lines) < 3:  # two lines of prose with one comma each are not a table
        return None
    for delimiter in ("\t", ";", ",", "|"):
        counts = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        if len(counts) == 1 and counts.pop() > 1:
            return delimiter
    return None
