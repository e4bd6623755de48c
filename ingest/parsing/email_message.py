"""An email (.eml) taken apart: headers, the body to partition, and attachments.

The standard library reads the MIME structure, so attachments come out as the
bytes they were sent as, to be ingested as documents of their own (unstructured
would partition them inline, and skips the ones it cannot type). Encrypted mail
(PGP/MIME, inline PGP, S/MIME enveloped data) is refused instead of indexing
its armour as text.
"""

from __future__ import annotations

import codecs
import email
import mimetypes
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime
from pathlib import PurePosixPath
from typing import Final, Literal

from kernel.documents import Attachment, Element
from kernel.errors import EncryptedDocumentError

from .encoding import decode_text
from .formats import is_signature

# The headers kept as metadata (key, header name); the writer of embedded messages uses
# them too.
HEADERS: Final[tuple[tuple[str, str], ...]] = (
    ("from", "From"),
    ("to", "To"),
    ("cc", "Cc"),
    ("subject", "Subject"),
    ("date", "Date"),
)
_PGP_ARMOUR = "-----BEGIN PGP MESSAGE-----"
_SMIME_TYPES: Final[frozenset[str]] = frozenset(
    {"application/pkcs7-mime", "application/x-pkcs7-mime"}
)


@dataclass(frozen=True, slots=True)
class EmailContent:
    """What the parser needs from one message."""

    metadata: dict[str, str]
    body: str
    body_type: Literal["html", "plain"]
    attachments: tuple[Attachment, ...]

    @property
    def subject(self) -> str | None:
        return self.metadata.get("subject")


def read_email(data: bytes) -> EmailContent:
    """Parse the message.

    Raises:
        EncryptedDocumentError: the message is encrypted.
    """
    data, transcoded = _as_eight_bit(data)
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    if transcoded:
        _relabel_wide_charsets(message)
    _refuse_encrypted(message)
    body_part = message.get_body(preferencelist=("html", "plain"))
    body = _text_of(body_part) if body_part is not None else ""
    if _PGP_ARMOUR in body[:2000] and body.strip().startswith(_PGP_ARMOUR):
        raise EncryptedDocumentError("EML file is encrypted (inline PGP)")
    body_type: Literal["html", "plain"] = (
        "html" if body_part is not None and body_part.get_content_subtype() == "html" else "plain"
    )
    return EmailContent(
        metadata=_metadata(message),
        body=body,
        body_type=body_type,
        attachments=tuple(_attachments(message, body_part)),
    )


def _as_eight_bit(data: bytes) -> tuple[bytes, bool]:
    """The message as the 8-bit bytes the ``email`` package reads, and whether it was re-encoded.

    A message saved as UTF-16 or UTF-32 (Outlook and some Windows tools do, with
    or without a BOM) is, to the MIME parser, headers and boundaries interleaved
    with NUL bytes: it finds no header and no part, and the whole file, base64
    body included, would come back as "text" full of NULs. Such a file is decoded
    (as detection decoded it) and handed over as UTF-8; a UTF-8 BOM is dropped so
    the first header keeps its name.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :], False
    head = data[:4096]
    wide = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head
    if not wide:
        return data, False
    decoded = decode_text(data)
    if decoded is None or not decoded.encoding.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):
        return data, False
    return decoded.text.encode("utf-8", "replace"), True


def _relabel_wide_charsets(message: EmailMessage) -> None:
    """A part labelled UTF-16/32 and sent as 8-bit text was re-encoded as UTF-8 with the file."""
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        charset = str(part.get_content_charset() or "").lower().replace("_", "-")
        encoding = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        if charset.startswith(("utf-16", "utf-32")) and encoding in {"7bit", "8bit", "binary"}:
            part.set_param("charset", "utf-8")


def header_element(metadata: dict[str, str]) -> Element:
    """The ``email_header`` element that opens an email's elements, for context in chunks."""
    lines = [f"{label}: {metadata[key]}" for key, label in HEADERS if metadata.get(key)]
    return Element(kind="email_header", text="\n".join(lines), metadata=dict(metadata))


def _refuse_encrypted(message: EmailMessage) -> None:
    if message.get_content_type() == "multipart/encrypted":
        raise EncryptedDocumentError("EML file is encrypted (PGP/MIME)")
    for part in message.walk():
        if part.get_content_type() in _SMIME_TYPES:
            smime_type = str(part.get_param("smime-type", "enveloped-data")).lower()
            if smime_type != "signed-data":
                raise EncryptedDocumentError("EML file is encrypted (S/MIME)")


def _metadata(message: EmailMessage) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for key, header in HEADERS:
        try:
            value = message.get(header)
        except (ValueError, IndexError):  # a malformed header: keep the others
            continue
        if value is None or not str(value).strip():
            continue
        text = " ".join(str(value).split())
        metadata[key] = _iso_date(text) if key == "date" else text
    return metadata


def _iso_date(value: str) -> str:
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return value


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, ValueError):  # unknown or lying charset
        content = None
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    decoded = decode_text(payload)
    return decoded.text if decoded else ""


def _attachments(message: EmailMessage, body_part: Message | None) -> list[Attachment]:
    """Every leaf part that is not the body, an alternative rendering of it or a signature.

    A signature part (S/MIME ``smime.p7s``, PGP) proves who sent the message and
    holds no text: as a document of its own it could only fail.
    """
    skipped = _body_renderings(message, body_part)
    found: list[Attachment] = []
    for part in _leaves(message):
        if id(part) in skipped or is_signature(part.get_filename(), part.get_content_type()):
            continue
        content = _payload_bytes(part)
        if not content:
            continue
        found.append(
            Attachment(
                filename=_filename(part, len(found) + 1),
                content=content,
                content_type=_declared_type(part),
            )
        )
    return found


def _declared_type(part: Message) -> str | None:
    """What the message says the part is, with its charset: the parser weighs it later.

    A part with no ``Content-Type`` declares nothing (``text/plain`` is only the MIME
    default, and would make an extensionless table or page plain text), except in a
    digest, whose parts are messages by definition.
    """
    if part.get("Content-Type") is None and part.get_default_type() != "message/rfc822":
        return None
    charset = part.get_content_charset()
    media_type = part.get_content_type()
    return f"{media_type}; charset={charset}" if charset else media_type


def _leaves(part: Message) -> list[Message]:
    """Non-multipart parts, without descending into attached messages."""
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        leaves: list[Message] = []
        for sub in part.get_payload():
            if isinstance(sub, Message):
                leaves.extend(_leaves(sub))
        return leaves
    return [part]


def _body_renderings(message: EmailMessage, body_part: Message | None) -> set[int]:
    if body_part is None:
        return set()
    skipped = {id(body_part)}
    for part in message.walk():
        if part.get_content_type() != "multipart/alternative":
            continue
        leaves = _leaves(part)
        if any(leaf is body_part for leaf in leaves):
            skipped.update(
                id(leaf)
                for leaf in leaves
                if leaf.get_content_type() in {"text/plain", "text/html"}
                and leaf.get_filename() is None
            )
    return skipped


def _payload_bytes(part: Message) -> bytes:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0].as_bytes()
        return b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _filename(part: Message, number: int) -> str:
    """The attachment's own name without any directory part, or a made-up one."""
    name = part.get_filename()
    if name:
        base = PurePosixPath(name.replace("\\", "/")).name.strip()
        if base and base not in {".", ".."}:
            return base
    content_type = part.get_content_type()
    extension = ".eml" if content_type == "message/rfc822" else None
    extension = extension or mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{number}{extension}"
