"""A message's :class:`~.email_message.EmailContent` written out as RFC 822 bytes.

An Outlook message can carry another message inside it (an attachment of method
``afEmbeddedMessage``): not a file, but a storage of properties. A document's
attachments are bytes, and ragline has no way to write an Outlook file, so the
embedded message is handed on as the ``.eml`` it would have been had it come by
SMTP: its headers, its body, its own attachments as MIME parts (an embedded
message inside it as a ``message/rfc822`` part). The email reader then takes it
apart as it does a forwarded message in an .eml, so both kinds of mail index
alike, down to their attachments.
"""

from __future__ import annotations

import email
from datetime import datetime
from email import policy
from email.errors import HeaderParseError, MessageError
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final

from kernel.documents import Attachment

from .email_message import HEADERS, EmailContent
from .formats import declared_content_type

_MESSAGE: Final[str] = "message/rfc822"
_OCTET_STREAM: Final[str] = "application/octet-stream"


def as_rfc822(content: EmailContent) -> bytes:
    """The message as MIME bytes: headers, the body (HTML or plain, as read), attachments."""
    message = EmailMessage(policy=policy.default)
    for key, name in HEADERS:
        value = content.metadata.get(key)
        if value:
            _set_header(message, name, _rfc822_date(value) if key == "date" else value)
    message.set_content(content.body, subtype=content.body_type)
    for attachment in content.attachments:
        _attach(message, attachment)
    return message.as_bytes()


def _set_header(message: EmailMessage, name: str, value: str) -> None:
    """Set a header; one the address parser cannot take is kept as words only, not lost."""
    try:
        message[name] = value
    except (HeaderParseError, MessageError, ValueError, TypeError, IndexError):
        del message[name]
        message[name] = " ".join("".join(c for c in value if c not in '<>@,;:"').split())


def _rfc822_date(value: str) -> str:
    """The ISO date the readers store, as a ``Date:`` header is written."""
    try:
        return format_datetime(datetime.fromisoformat(value))
    except (ValueError, TypeError):
        return value


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    media_type = (declared_content_type(attachment.content_type) or _OCTET_STREAM).split(";")[0]
    if media_type == _MESSAGE:
        inner = email.message_from_bytes(attachment.content, policy=policy.default)
        message.add_attachment(inner, filename=attachment.filename)
        return
    maintype, _, subtype = media_type.partition("/")
    message.add_attachment(
        attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
    )
