"""An Outlook message (.msg) taken apart like an email: headers, body, attachments.

python-oxmsg reads the OLE property streams (subject, sender, recipients, the
submit time, the plain and HTML bodies, attachments by value). What comes out
is the same :class:`~.email_message.EmailContent` an .eml gives, so both are
indexed alike and their attachments become linked documents the same way.
Encrypted (S/MIME) and rights-protected (IRM) messages carry only a ciphertext
attachment and a stub body; they are refused instead of indexing the stub.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Final, Literal

from kernel.documents import Attachment
from kernel.errors import CorruptDocumentError, EncryptedDocumentError

from .email_message import EmailContent
from .formats import is_signature

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
    from oxmsg import Message

    try:
        message = Message.load(data)
        message_class = message.message_class.lower()
        attachments = _attachments(message)
        body_html = _clean(message.html_body)
        body_plain = _clean(message.body)
        metadata = _metadata(message)
    except (ValueError, KeyError, IndexError, LookupError, OSError, AssertionError) as exc:
        raise CorruptDocumentError("MSG file is damaged: its properties cannot be read") from exc
    if _is_protected(message_class, attachments):
        raise EncryptedDocumentError("MSG file is encrypted or rights-protected")
    body_type: Literal["html", "plain"] = "html" if body_html and body_html.strip() else "plain"
    body = body_html if body_type == "html" else body_plain
    return EmailContent(
        metadata=metadata, body=body, body_type=body_type, attachments=tuple(attachments)
    )


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


def _attachments(message: Any) -> list[Attachment]:
    """Files attached by value; embedded messages and OLE objects are not files and are skipped.

    A signature (``smime.p7s`` of a signed message) is skipped as an email's is: it
    proves who sent the message and holds no text to index.
    """
    found: list[Attachment] = []
    for attachment in message.attachments:
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


def _filename(name: str | None, number: int) -> str:
    if name:
        base = PurePosixPath(name.replace("\\", "/")).name.strip()
        if base and base not in {".", ".."}:
            return base
    return f"attachment-{number}.bin"
