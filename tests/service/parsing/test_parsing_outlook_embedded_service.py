"""Messages embedded in an Outlook message (attach method 5) become linked ``.eml`` documents.

Real .msg bytes (``outlook_files.build_msg``, which writes embedded message
storages too) read by the real isolated parser; each ``.eml`` it hands on is
parsed again, as the pipeline does with a child document.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from outlook_files import build_msg

from ingest.parsing import IsolatedParser
from ingest.parsing.outlook import MAX_DEPTH, read_outlook
from kernel.documents import ParsedDocument

pytestmark = pytest.mark.service

CORPUS = Path("/tmp/ragline-unseen/corpus")


def message(subject: str, body: str, **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "subject": subject,
        "sender": "ana@example.com",
        "sender_name": "Ana Silva",
        "to": [("Bo Chen", "bo@example.com")],
        "body": body,
        "sent": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
    }
    return {**fields, **extra}


def parse_bytes(parser: IsolatedParser, folder: Path, name: str, data: bytes) -> ParsedDocument:
    path = folder / name
    path.write_bytes(data)
    return parser.parse(path, filename=name)


def test_an_embedded_message_is_handed_on_as_an_eml_with_its_own_attachment(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    forwarded = message(
        "Q3/Q4 supplier review",
        "Harbour Freight renewed the contract at 4.2 percent.",
        sender="cho@example.org",
        sender_name="Cho Park",
        to=[("Dee Ray", "dee@example.org")],
        cc=[("Eli Moss", "eli@example.org")],
        attachments=[("minutes.txt", b"Minutes: the renewal was approved unanimously.")],
    )
    outer = build_msg(
        **message(
            "Fwd: supplier review",
            "See the review below.",
            attachments=[("notes.txt", b"Outer notes.")],
            embedded=[forwarded],
        )
    )
    document = parse_bytes(parser, tmp_path, "outer.msg", outer)

    assert [(a.filename, a.content_type) for a in document.attachments] == [
        ("notes.txt", "application/octet-stream"),  # python-oxmsg's word for "undeclared"
        ("Q3-Q4 supplier review.eml", "message/rfc822"),
    ]
    child = parse_bytes(parser, tmp_path, "child.eml", document.attachments[1].content)
    assert child.format == "eml"
    assert child.title == "Q3/Q4 supplier review"
    assert child.metadata["from"] == "Cho Park <cho@example.org>"
    assert child.metadata["to"] == "Dee Ray <dee@example.org>"
    assert child.metadata["cc"] == "Eli Moss <eli@example.org>"
    assert child.metadata["date"] == "2024-05-06T07:08:09+00:00"
    assert "Harbour Freight renewed the contract at 4.2 percent." in child.text
    assert [(a.filename, a.content) for a in child.attachments] == [
        ("minutes.txt", b"Minutes: the renewal was approved unanimously.")
    ]


def test_embedded_messages_are_read_down_to_the_depth_limit() -> None:
    assert MAX_DEPTH == 3
    deepest = message("Level 4", "Too deep to open.")
    level3 = message("Level 3", "Third level body.", embedded=[deepest])
    level2 = message("Level 2", "Second level body.", embedded=[level3])
    content = read_outlook(build_msg(**message("Level 1", "Top body.", embedded=[level2])))

    from ingest.parsing.email_message import read_email

    (second,) = content.attachments
    inner = read_email(second.content)
    assert inner.subject == "Level 2"
    assert "Second level body." in inner.body
    (third,) = inner.attachments
    assert third.filename == "Level 3.eml"
    innermost = read_email(third.content)
    assert innermost.subject == "Level 3"
    assert "Third level body." in innermost.body
    assert innermost.attachments == ()  # level 4 is past the limit: left out


def test_a_message_with_only_an_embedded_message_is_read(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    outer = build_msg(**message("outer subject", "Outer body", embedded=[message("test", "body")]))
    document = parse_bytes(parser, tmp_path, "outer.msg", outer)
    assert "Outer body" in document.text
    assert [a.filename for a in document.attachments] == ["test.eml"]
    child = parse_bytes(parser, tmp_path, "test.eml", document.attachments[0].content)
    assert child.title == "test"
    assert "body" in child.text


@pytest.mark.skipif(not (CORPUS / "complete.msg").is_file(), reason="unseen corpus not fetched")
def test_the_six_embedded_messages_of_a_real_outlook_file_are_read() -> None:
    """msg-parser's complete.msg (fetched by ``benchmarks.unseen_corpus``): six Azure
    mails embedded, then four files by value."""
    content = read_outlook((CORPUS / "complete.msg").read_bytes())
    embedded = [a for a in content.attachments if a.content_type == "message/rfc822"]
    assert [a.filename for a in embedded] == [
        "Create a database on Azure in 90 seconds.eml",
        "How fast can you deploy a web app?.eml",
        "Virtual machines for any scenario.eml",
        "A few ways to get started with Azure.eml",
        "Welcome to Azure Security Center.eml",
        "Welcome to your Azure free account.eml",
    ]
    from ingest.parsing.email_message import read_email

    first = read_email(embedded[0].content)
    assert first.metadata["from"] == "Microsoft Azure <azure-noreply@microsoft.com>"
    assert "Secure, managed databases on Azure created quickly" in first.body
    assert len(content.attachments) == 10
