"""What an Outlook message declares of its attachments reaches their documents.

Real .msg bytes (``outlook_files.build_msg``) read by the real isolated parser.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from outlook_files import build_msg

from ingest.parsing import IsolatedParser

pytestmark = pytest.mark.service


def test_an_outlook_attachment_keeps_its_declared_type_and_a_signature_is_skipped(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    source = tmp_path / "mail.msg"
    source.write_bytes(
        build_msg(
            subject="Exports",
            sender="ana@example.com",
            sender_name="Ana Silva",
            to=[("Bo Chen", "bo@example.com")],
            body="The export is attached.",
            sent=dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
            attachments=[
                ("export", b"region,revenue\nNorth Harbour,1250\n"),
                ("smime.p7s", bytes.fromhex("3082059c06092a864886f70d010702a082058d")),
                ("notes.txt", b"Plain notes."),
            ],
            mime_types={"export": "text/csv", "smime.p7s": "application/pkcs7-signature"},
        )
    )
    document = parser.parse(source)
    assert [(a.filename, a.content_type) for a in document.attachments] == [
        ("export", "text/csv"),
        ("notes.txt", "application/octet-stream"),  # python-oxmsg's word for "none"
    ]
