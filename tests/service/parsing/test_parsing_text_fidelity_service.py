"""Text that was indexed garbled, or lost (issue 19), through the real parser child process.

A UTF-16 email reached the index as NULs and an undecoded base64 body; a digest's
messages were never registered; a wrapped spreadsheet cell became ``growth\\noperating``;
and nothing stopped garbled text from being marked indexed. Every file here is
built for real (the ``email`` package, openpyxl) and read by the real parser.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from pathlib import Path

import pytest

from ingest.parsing import IsolatedParser
from kernel.errors import CorruptDocumentError

pytestmark = pytest.mark.service

BODY = "The quarterly numbers are ready: revenue grew by 4% in the déjà-vu region."


def _mail() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Zoë Adler <zoe@example.com>"
    message["To"] = "bob@example.com"
    message["Subject"] = "Résumé of Q3"
    message.set_content(BODY + "\n", charset="utf-8", cte="base64")
    message.add_attachment(
        b"region,total\nnorth,10\n", maintype="text", subtype="csv", filename="totals.csv"
    )
    return message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_wide_encoded_email_is_decoded_before_it_is_parsed(
    parser: IsolatedParser, tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "mail.eml"
    path.write_bytes(_mail().as_string().encode(encoding))
    document = parser.parse(path)
    assert document.format == "eml"
    assert document.title == "Résumé of Q3"
    assert document.metadata["from"] == "Zoë Adler <zoe@example.com>"
    text = "\n".join(e.text for e in document.elements)
    assert "\x00" not in text
    assert BODY in text
    assert [(a.filename, a.content) for a in document.attachments] == [
        ("totals.csv", b"region,total\nnorth,10\n")
    ]


def test_a_digest_hands_back_each_message_as_an_attachment(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    digest = MIMEMultipart("digest")
    digest["From"] = "list@example.com"
    digest["Subject"] = "Digest, vol 7"
    for number in range(1, 4):
        message = EmailMessage()
        message["Subject"] = f"Notice {number}"
        message.set_content(f"Notice number {number} about the car park.")
        digest.attach(MIMEMessage(message))
    path = tmp_path / "digest.eml"
    path.write_bytes(digest.as_bytes())
    document = parser.parse(path)
    assert [(a.filename, a.content_type) for a in document.attachments] == [
        (f"attachment-{n}.eml", "message/rfc822") for n in range(1, 4)
    ]
    assert b"Notice number 2 about the car park." in document.attachments[1].content


def test_line_breaks_inside_a_spreadsheet_cell_become_spaces(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Segments"
    sheet.append(["Segment", "Comment", "Path"])
    sheet.append(["Retail", "Strong growth\noperating margin up", "C:\\new\\reports"])
    sheet.append(["Wholesale", "Flat\r\nafter two\tquarters", "none"])
    sheet["B2"].alignment = Alignment(wrap_text=True)
    path = tmp_path / "segments.xlsx"
    workbook.save(path)

    document = parser.parse(path)
    table = next(e for e in document.elements if e.kind == "table")
    assert table.rows is not None
    assert table.rows[1] == ("Retail", "Strong growth operating margin up", "C:\\new\\reports")
    assert table.rows[2][1] == "Flat after two quarters"
    assert "growth\\noperating" not in table.text
    assert "Retail | Strong growth operating margin up | C:\\new\\reports" in table.text


def test_date_cells_read_as_dates_and_a_time_of_day_is_kept(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    from datetime import date, datetime

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Name", "Born", "Logged"])
    sheet.append(["David Bowie", date(1947, 1, 8), datetime(2016, 1, 10, 7, 30)])
    sheet.append(["Harper Lee", datetime(1926, 4, 28), datetime(2016, 2, 19, 0, 0, 1)])
    path = tmp_path / "dates.xlsx"
    workbook.save(path)

    table = next(e for e in parser.parse(path).elements if e.kind == "table")
    assert table.rows is not None
    assert table.rows[1] == ("David Bowie", "1947-01-08", "2016-01-10 07:30:00")
    assert table.rows[2] == ("Harper Lee", "1926-04-28", "2016-02-19 00:00:01")
    assert "00:00:00" not in table.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "spaced.txt",
            "T h e  q u a r t e r l y  r e p o r t  i s  d u e  o n  F r i d a y\n" * 3,
            "letter-spaced",
        ),
        ("glyphs.txt", "(cid:41)(cid:72)(cid:79) (cid:79)(cid:82) (cid:90) (cid:3)\n" * 5, "glyph"),
        (
            "nul.json",
            json.dumps({"note": "\x00".join("quarterly report for the board")}),
            "control characters",
        ),
    ],
)
def test_garbled_text_is_refused_not_indexed(
    parser: IsolatedParser, tmp_path: Path, name: str, content: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorruptDocumentError, match=reason):
        parser.parse(path)


def test_a_table_of_single_letter_flags_is_not_letter_spaced(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    rows = ["item,a,b,c"] + [f"part {n},Y,N,Y" for n in range(40)]
    path = tmp_path / "flags.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    document = parser.parse(path)
    assert any(e.kind == "table" for e in document.elements)
