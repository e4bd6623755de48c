"""Emails taken apart with the standard library: headers, body, attachments, encryption."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from ingest.parsing.email_message import header_element, read_email
from kernel.errors import EncryptedDocumentError

pytestmark = pytest.mark.unit


def message_with_attachments() -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann@example.com>"
    message["To"] = "bob@example.com, carol@example.com"
    message["Cc"] = "dave@example.com"
    message["Subject"] = "Quarterly numbers"
    message["Date"] = "Fri, 23 Dec 2022 12:08:48 -0600"
    message.set_content("Hi Bob,\n\nThe numbers are attached.\n")
    message.add_alternative("<p>Hi Bob,</p><p>The numbers are <b>attached</b>.</p>", subtype="html")
    message.add_attachment(
        b"region,total\nnorth,10\n", maintype="text", subtype="csv", filename="../../numbers.csv"
    )
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf")
    forwarded = EmailMessage()
    forwarded["Subject"] = "Earlier note"
    forwarded.set_content("The earlier note.")
    message.add_attachment(forwarded)
    return message.as_bytes()


def test_headers_become_metadata_and_an_email_header_element() -> None:
    content = read_email(message_with_attachments())
    assert content.metadata == {
        "from": "Ann Lee <ann@example.com>",
        "to": "bob@example.com, carol@example.com",
        "cc": "dave@example.com",
        "subject": "Quarterly numbers",
        "date": "2022-12-23T12:08:48-06:00",
    }
    element = header_element(content.metadata)
    assert element.kind == "email_header"
    assert element.text.splitlines()[0] == "From: Ann Lee <ann@example.com>"
    assert "Subject: Quarterly numbers" in element.text


def test_the_html_body_is_preferred_and_the_plain_rendering_is_not_an_attachment() -> None:
    content = read_email(message_with_attachments())
    assert content.body_type == "html"
    assert "<b>attached</b>" in content.body


def test_attachments_come_back_whole_with_safe_names() -> None:
    content = read_email(message_with_attachments())
    names = [(a.filename, a.content_type) for a in content.attachments]
    assert names == [
        ("numbers.csv", "text/csv"),
        ("attachment-2.pdf", "application/pdf"),
        ("attachment-3.eml", "message/rfc822"),
    ]
    assert content.attachments[0].content == b"region,total\nnorth,10\n"
    assert content.attachments[1].content == b"%PDF-1.4 fake"
    assert b"Subject: Earlier note" in content.attachments[2].content


def test_pgp_mime_is_refused() -> None:
    data = (
        b"From: a@example.com\r\nTo: b@example.com\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/encrypted; boundary=foo; protocol="application/pgp-encrypted"\r\n'
        b"\r\n--foo\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
        b"\r\n--foo\r\nContent-Type: application/octet-stream\r\n\r\n"
        b"-----BEGIN PGP MESSAGE-----\r\nhIwDY32h\r\n-----END PGP MESSAGE-----\r\n--foo--\r\n"
    )
    with pytest.raises(EncryptedDocumentError, match=r"EML file is encrypted \(PGP/MIME\)"):
        read_email(data)


def test_smime_enveloped_data_is_refused_but_signed_mail_is_read() -> None:
    encrypted = EmailMessage()
    encrypted["Subject"] = "secret"
    encrypted.set_content(
        b"MIAGCSqGSIb3DQEHA6CAMIACAQAxggE",
        maintype="application",
        subtype="pkcs7-mime",
        params={"smime-type": "enveloped-data"},
    )
    with pytest.raises(EncryptedDocumentError, match="S/MIME"):
        read_email(encrypted.as_bytes())

    signed = EmailMessage()
    signed["Subject"] = "signed"
    signed.set_content("Readable body.")
    signed.add_attachment(
        b"sig", maintype="application", subtype="pkcs7-signature", filename="smime.p7s"
    )
    assert read_email(signed.as_bytes()).body.strip() == "Readable body."


def test_inline_pgp_is_refused() -> None:
    message = EmailMessage()
    message["Subject"] = "x"
    message.set_content("-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n")
    with pytest.raises(EncryptedDocumentError, match="inline PGP"):
        read_email(message.as_bytes())


def test_an_empty_body_with_an_attachment_is_read() -> None:
    message = EmailMessage()
    message["Subject"] = "see attached"
    message.add_attachment(b"hello", maintype="text", subtype="plain", filename="note.txt")
    content = read_email(message.as_bytes())
    assert content.body.strip() == ""
    assert [a.filename for a in content.attachments] == ["note.txt"]


@pytest.mark.parametrize(
    ("subtype", "filename"),
    [
        ("x-pkcs7-signature", "smime.p7s"),
        ("pkcs7-signature", None),
        ("pgp-signature", "signature.asc"),
        ("octet-stream", "smime.p7s"),
    ],
)
def test_signature_parts_are_not_attachments(subtype: str, filename: str | None) -> None:
    signed = EmailMessage()
    signed["Subject"] = "signed"
    signed.set_content("Readable body.")
    signed.add_attachment(
        b"0\x82\x05\x9c", maintype="application", subtype=subtype, filename=filename
    )
    signed.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="n.csv")
    content = read_email(signed.as_bytes())
    assert [(a.filename, a.content_type) for a in content.attachments] == [("n.csv", "text/csv")]


def wide_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Zoë Adler <zoe@example.com>"
    message["Subject"] = "Résumé of the audit"
    message.set_content(
        "The audit found three issues in the déjà-vu ledger.\n", charset="utf-8", cte="base64"
    )
    message.add_attachment(b"region,total\nnorth,10\n", maintype="text", subtype="csv")
    return message


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig"]
)
def test_a_message_saved_in_a_wide_encoding_is_decoded_before_parsing(encoding: str) -> None:
    """UTF-16/32 with a BOM ("utf-16", "utf-32") or without; the base64 body is decoded."""
    content = read_email(wide_message().as_string().encode(encoding))
    assert content.metadata["from"] == "Zoë Adler <zoe@example.com>"
    assert content.subject == "Résumé of the audit"
    assert content.body_type == "plain"
    assert content.body == "The audit found three issues in the déjà-vu ledger.\n"
    assert [(a.filename, a.content) for a in content.attachments] == [
        ("attachment-1.csv", b"region,total\nnorth,10\n")
    ]


def test_an_eight_bit_part_labelled_utf16_in_a_utf16_file_is_read_as_the_file_is() -> None:
    raw = (
        "From: ann@example.com\r\nSubject: Note\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-16"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        "Plain words, saved by Outlook as Unicode.\r\n"
    ).encode("utf-16")
    assert read_email(raw).body.strip() == "Plain words, saved by Outlook as Unicode."
