"""A declared content type (an attachment's ``Content-Type``) as evidence for detection.

It decides between text formats when the bytes are text and the name says nothing;
it never outvotes bytes that say what they are (magic numbers), and a binary
format it names is not believed of text. The email reader hands it over as the
message declared it, charset included, and nothing when the part declared nothing.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart

import pytest

from ingest.parsing.detect import detect
from ingest.parsing.email_message import read_email
from ingest.parsing.formats import declared_content_type
from kernel.errors import UnsupportedFormatError

pytestmark = pytest.mark.unit

# Two lines: too few for sniffing to call it a table (three are needed).
SHORT_CSV = b"region,revenue\nNorth Harbour,1250\n"
PDF_HEAD = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PKCS7_DER = bytes.fromhex("3082059c06092a864886f70d010702a082058d")


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (SHORT_CSV, "text/csv", "csv"),  # text bytes: the declared type decides
        (SHORT_CSV, "text/csv; charset=us-ascii", "csv"),
        (SHORT_CSV, None, "txt"),  # the same bytes without it: plain text
        (SHORT_CSV, "application/octet-stream", "txt"),  # declares nothing useful
        (b"# Notes\n\nSome text.\n", "text/plain", "txt"),  # the declared text format wins
        (PDF_HEAD, "text/plain", "pdf"),  # magic bytes outrank the declaration
        (PDF_HEAD, "text/csv", "pdf"),
        (b"Just a short note.\n", "application/pdf", "txt"),  # text is never read as PDF
        (b"From: a@example.com\nSubject: hi\n\nbody\n", "message/rfc822", "eml"),
    ],
)
def test_the_declared_type_weighs_only_where_the_bytes_leave_room(
    data: bytes, declared: str | None, expected: str
) -> None:
    assert detect(data, filename="export", content_type=declared).format == expected


def test_a_name_with_a_text_extension_still_outranks_the_declared_type() -> None:
    assert detect(SHORT_CSV, filename="export.txt", content_type="text/csv").format == "txt"


def test_a_declared_charset_decodes_the_text() -> None:
    russian = "Отчёт о продажах за квартал готов.\n"
    detected = detect(
        russian.encode("koi8-r"), filename="notes", content_type="text/plain; charset=koi8-r"
    )
    assert detected.text is not None
    assert detected.text.text == russian


@pytest.mark.parametrize(
    "declared", ["application/pkcs7-signature", "application/x-pkcs7-signature"]
)
def test_a_declared_signature_fails_as_a_signature_not_as_corrupt_text(declared: str) -> None:
    with pytest.raises(UnsupportedFormatError, match="digital signature, not a document"):
        detect(
            b"MIIFnAYJKoZIhvcNAQcCoIIFjTCCBYkCAQExDzANBglghkgBZQMEAgEFADALBgkq",
            filename="part",
            content_type=declared,
        )
    with pytest.raises(UnsupportedFormatError, match="digital signature, not a document"):
        detect(PKCS7_DER, filename="part", content_type=None)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("text/csv", "text/csv"),
        ('  Text/CSV ; Charset="UTF-8" ', "text/csv; charset=utf-8"),
        ("text/plain; name=export; charset=koi8-r", "text/plain; charset=koi8-r"),
        ("application/pdf; charset=", "application/pdf"),
        ("text/plain; charset=a b", "text/plain"),  # a charset that is no name is dropped
        ("not a type", None),
        ("text/", None),
        ("x/" + "y" * 200, None),  # oversized: the sender's word is bounded
        ("", None),
        (None, None),
    ],
)
def test_declared_content_types_are_normalised_before_they_are_kept(
    raw: str | None, kept: str | None
) -> None:
    assert declared_content_type(raw) == kept


def test_an_email_hands_over_each_attachment_s_declared_type_with_its_charset() -> None:
    message = EmailMessage()
    message["Subject"] = "Exports"
    message.set_content("Two exports attached.")
    message.add_attachment(SHORT_CSV, maintype="text", subtype="csv", filename="export")
    message.add_attachment(
        "Отчёт готов.".encode("koi8-r"),
        maintype="text",
        subtype="plain",
        filename="notes",
        params={"charset": "koi8-r"},
    )
    message.add_attachment(PDF_HEAD, maintype="text", subtype="plain", filename="scan")
    content = read_email(message.as_bytes())
    assert [(a.filename, a.content_type) for a in content.attachments] == [
        ("export", "text/csv"),
        ("notes", "text/plain; charset=koi8-r"),
        ("scan", "text/plain"),
    ]


def test_a_part_without_a_content_type_declares_nothing_but_a_digest_part_is_a_message() -> None:
    raw = (
        b"Subject: bare\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe body.\r\n"
        b'--b\r\nContent-Disposition: attachment; filename="export"\r\n\r\n'
        b"region,revenue\r\nNorth Harbour,1250\r\n"
        b"--b--\r\n"
    )
    (bare,) = read_email(raw).attachments
    assert (bare.filename, bare.content_type) == ("export", None)

    digest = MIMEMultipart("digest")
    digest["Subject"] = "Digest"
    inner = EmailMessage()
    inner["Subject"] = "Notice"
    inner.set_content("The car park closes on Monday.")
    digest.attach(MIMEMessage(inner))
    (message,) = read_email(digest.as_bytes()).attachments
    assert message.content_type == "message/rfc822"
