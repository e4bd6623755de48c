"""An Outlook message (.msg) taken apart like an email: headers, body, attachments.

python-oxmsg reads the OLE property streams (subject, sender, recipients, the
submit time, the plain and HTML bodies, attachments by value). What comes out
is the same :class:`~.email_message.EmailContent` an .eml gives, so both are
indexed alike and their attachments become linked documents the same way.

A message attached to a message (attach method ``afEmbeddedMessage``, a forwarded
mail) is no file but a storage of its own, ``__substg1.0_3701000D``, which
python-oxmsg does not open; it is read here as a message (its property header is
24 bytes where a top-level message's is 32) and handed on as an ``.eml``
(:mod:`.email_writer`), with its own attachments and embedded messages, down to
:data:`MAX_DEPTH` levels of messages, the uploaded one included; deeper ones are
left out, as zips nested deeper than the zip limit are.
Encrypted (S/MIME) and rights-protected (IRM) messages carry only a ciphertext
attachment and a stub body; they are refused instead of indexing the stub.
"""

from __future__ import annotations

import struct
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Final, Literal

from kernel.documents import Attachment
from kernel.errors import CorruptDocumentError, EncryptedDocumentError

from .email_message import EmailContent
from .email_writer import as_rfc822
from .formats import is_signature

if TYPE_CHECKING:
    from oxmsg.storage import Storage

#: Levels of messages read: the uploaded one, and messages embedded in it down to this depth.
MAX_DEPTH: Final[int] = 3
#: PR_ATTACH_METHOD of an attached message (``afEmbeddedMessage``), and where it is stored.
_EMBEDDED_MESSAGE: Final[int] = 5
_EMBEDDED_STORAGE: Final[str] = "__substg1.0_3701000D"
#: Where the property entries start in an embedded message's ``__properties_version1.0``.
_EMBEDDED_HEADER_BYTES: Final[int] = 24
_ATTACH_METHOD: Final[int] = 0x3705
_DISPLAY_NAME: Final[int] = 0x3001
_MAX_NAME: Final[int] = 120

#: PR_RECIPIENT_TYPE values: which header a recipient belongs to (Bcc is not indexed).
_TO: Final[int] = 1
_CC: Final[int] = 2
_RECIPIENT_TYPE: Final[int] = 0x0C15
#: Message classes of protected mail, lower case ("IPM.Note.SMIME.MultipartSigned" is only signed).
_ENCRYPTED_CLASSES: Final[tuple[str, ...]] = ("ipm.note.smime", "ipm.note.rpmsg")
_SIGNED_SUFFIX: Final[str] = ".multipartsigned"
_ENCRYPTED_ATTACHMENTS: Final[frozenset[str]] = frozenset({"smime.p7m", "message.rpmsg"})


def read_outlook(data: bytes) -> EmailContent:
    """Parse the message.

    Raises:
        EncryptedDocumentError: an S/MIME-encrypted or rights-protected message.
        CorruptDocumentError: the property streams cannot be read.
    """
    from olefile import OleFileIO
    from oxmsg import Message
    from oxmsg.storage import Storage

    try:
        with OleFileIO(data) as ole:
            root = Storage.from_ole(ole)
        message = Message(root)
        message_class = message.message_class.lower()
        content = _content(message, root, depth=1)
    except (ValueError, KeyError, IndexError, LookupError, OSError, AssertionError) as exc:
        raise CorruptDocumentError("MSG file is damaged: its properties cannot be read") from exc
    if _is_protected(message_class, list(content.attachments)):
        raise EncryptedDocumentError("MSG file is encrypted or rights-protected")
    return content


def _content(message: Any, storage: Storage, depth: int) -> EmailContent:
    """What one message (the uploaded one or an embedded one) holds."""
    body_html = _clean(message.html_body)
    body_plain = _clean(message.body)
    body_type: Literal["html", "plain"] = "html" if body_html and body_html.strip() else "plain"
    return EmailContent(
        metadata=_metadata(message),
        body=body_html if body_type == "html" else body_plain,
        body_type=body_type,
        attachments=tuple(_attachments(storage, depth)),
    )


def _embedded_message(storage: Storage) -> Any:
    """An oxmsg ``Message`` over an embedded message's storage, its properties found
    past the shorter header (python-oxmsg reads only top-level messages)."""
    from oxmsg import Message
    from oxmsg.properties import Properties

    class _Embedded(Message):  # type: ignore[misc]
        def __init__(self, inner: Storage) -> None:
            super().__init__(inner)
            self._own = Properties(inner, properties_header_offset=_EMBEDDED_HEADER_BYTES)

        @property
        def properties(self) -> Properties:
            return self._own

    return _Embedded(storage)


def _is_protected(message_class: str, attachments: list[Attachment]) -> bool:
    if message_class.startswith(_ENCRYPTED_CLASSES) and not message_class.endswith(_SIGNED_SUFFIX):
        return True
    names = {a.filename.lower() for a in attachments}
    return len(attachments) == 1 and bool(names & _ENCRYPTED_ATTACHMENTS)


def _metadata(message: Any) -> dict[str, str]:
    to: list[str] = []
    cc: list[str] = []
    for recipient in message.recipients:
        address = _address(_clean(recipient.name), _clean(recipient.email_address))
        if not address:
            continue
        kind = recipient.properties.int_prop_value(_RECIPIENT_TYPE)
        if kind == _TO or kind is None:
            to.append(address)
        elif kind == _CC:
            cc.append(address)
    values = {
        "from": message.sender or "",
        "to": ", ".join(to),
        "cc": ", ".join(cc),
        "subject": message.subject or "",
        "date": message.sent_date.isoformat() if message.sent_date else "",
    }
    return {key: " ".join(_clean(value).split()) for key, value in values.items() if value.strip()}


def _clean(text: str | None) -> str:
    """Without the NUL terminators some writers leave inside string properties."""
    return (text or "").replace("\x00", "")


def _address(name: str, email: str) -> str:
    if name and email and name != email:
        return f"{name} <{email}>"
    return name or email


def _attachments(storage: Storage, depth: int) -> list[Attachment]:
    """Files attached by value, and attached messages as ``.eml`` files, in the message's order.

    OLE objects are not files and are skipped. A signature (``smime.p7s`` of a signed
    message) is skipped as an email's is: it proves who sent the message and holds
    no text to index.
    """
    from oxmsg.attachment import Attachment as OutlookAttachment

    found: list[Attachment] = []
    for attachment_storage in storage.iter_attachment_storages():
        attachment = OutlookAttachment(attachment_storage)
        if attachment.properties.int_prop_value(_ATTACH_METHOD) == _EMBEDDED_MESSAGE:
            if depth < MAX_DEPTH:
                found.extend(_embedded(attachment, attachment_storage, depth, len(found) + 1))
            continue
        content = attachment.file_bytes
        declared = _clean(attachment.mime_type).strip() or None
        if not content or is_signature(_clean(attachment.file_name), declared):
            continue
        found.append(
            Attachment(
                filename=_filename(_clean(attachment.file_name), len(found) + 1),
                content=content,
                content_type=declared,
            )
        )
    return found


def _embedded(
    attachment: Any, attachment_storage: Storage, depth: int, number: int
) -> list[Attachment]:
    """The attached message as an ``.eml``; none when its storage is missing or damaged
    (the message that carries it is still read)."""
    inner = next((s for s in attachment_storage.storages if s.name == _EMBEDDED_STORAGE), None)
    if inner is None:
        return []
    try:
        content = _content(_embedded_message(inner), inner, depth + 1)
    except (ValueError, KeyError, IndexError, LookupError, OSError, AssertionError, struct.error):
        return []
    name = _clean(attachment.properties.str_prop_value(_DISPLAY_NAME)) or content.subject or ""
    return [
        Attachment(
            filename=_message_filename(name, number),
            content=as_rfc822(content),
            content_type="message/rfc822",
        )
    ]


def _message_filename(name: str, number: int) -> str:
    """``<name>.eml``: the attachment's display name (most often the subject) made a file name.

    A subject may hold slashes ("Q3/Q4 plan"), which would read as folders.
    """
    base = " ".join(name.replace("/", "-").replace("\\", "-").split())[:_MAX_NAME].strip(". ")
    stem = PurePosixPath(base).stem if base.lower().endswith((".eml", ".msg")) else base
    return f"{stem}.eml" if stem else f"message-{number}.eml"


def _filename(name: str | None, number: int) -> str:
    if name:
        base = PurePosixPath(name.replace("\\", "/")).name.strip()
        if base and base not in {".", ".."}:
            return base
    return f"attachment-{number}.bin"
