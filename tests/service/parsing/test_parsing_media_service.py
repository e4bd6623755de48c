"""Images by OCR, Outlook messages and zip archives, through the real parser child.

The files are generated here: pictures rendered with Pillow in a real font, so the
real tesseract has real text to read, and archives built with ``zipfile``.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from outlook_files import build_msg
from PIL import Image, ImageDraw, ImageFont

from ingest.parsing import IsolatedParser
from ingest.parsing.images import MAX_IMAGE_PIXELS
from kernel.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    ParseLimitError,
)

pytestmark = pytest.mark.service

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
INVOICE = "Invoice 4471 total 93 euros"


def page(text: str) -> Image.Image:
    image = Image.new("RGB", (1000, 220), "white")
    font = ImageFont.truetype(FONT, 40) if Path(FONT).exists() else ImageFont.load_default(40)
    ImageDraw.Draw(image).text((40, 80), text, fill="black", font=font)
    return image


def words(document) -> str:  # type: ignore[no-untyped-def]
    return " ".join(" ".join(e.text for e in document.elements).split())


@pytest.mark.parametrize(("name", "fmt"), [("invoice.png", "PNG"), ("invoice.jpg", "JPEG")])
def test_a_picture_of_text_is_read_by_ocr(
    parser: IsolatedParser, tmp_path: Path, name: str, fmt: str
) -> None:
    source = tmp_path / name
    page(INVOICE).save(source, fmt)
    document = parser.parse(source)
    assert document.format == name.rsplit(".", 1)[1].replace("jpg", "jpeg")
    assert INVOICE in words(document)
    assert all(e.metadata.get("source") == "ocr" for e in document.elements if e.text)


def test_a_multi_page_tiff_is_read_page_by_page(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "fax.tiff"
    page(INVOICE).save(
        source, "TIFF", save_all=True, append_images=[page("Second page says hello")]
    )
    document = parser.parse(source)
    assert document.format == "tiff"
    by_page = {e.page: e.text for e in document.elements if e.text}
    assert INVOICE in " ".join(by_page[1].split())
    assert "Second page says hello" in " ".join(by_page[2].split())


def test_a_heic_photo_is_read_through_pi_heif(parser: IsolatedParser, tmp_path: Path) -> None:
    import pi_heif

    if not pi_heif.libheif_info().get("encoders", {}).get("HEIF"):
        pytest.skip("this libheif build has a HEIF decoder only: no HEIC can be written here")
    source = tmp_path / "photo.heic"
    pi_heif.from_pillow(page(INVOICE)).save(source)
    assert INVOICE in words(parser.parse(source))


def test_a_picture_without_text_is_empty(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "blank.png"
    Image.new("RGB", (400, 300), "white").save(source)
    with pytest.raises(EmptyDocumentError):
        parser.parse(source)


def test_a_truncated_picture_is_corrupt(parser: IsolatedParser, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    page(INVOICE).save(buffer, "PNG")
    source = tmp_path / "cut.png"
    source.write_bytes(buffer.getvalue()[:200])
    with pytest.raises(CorruptDocumentError):
        parser.parse(source)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    side = int(MAX_IMAGE_PIXELS**0.5) + 100  # a 1-bit picture: small file, huge canvas
    source = tmp_path / "bomb.png"
    Image.new("1", (side, side), 1).save(source, optimize=True)
    assert source.stat().st_size < 2_000_000
    with pytest.raises(ParseLimitError, match="pixels"):
        parser.parse(source)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_hands_back_its_members_as_attachments_with_their_paths(
    parser: IsolatedParser, tmp_path: Path
) -> None:
    inner = zip_of({"deep/c.txt": b"Nested member text."})
    source = tmp_path / "bundle.zip"
    source.write_bytes(
        zip_of(
            {
                "docs/guide.md": b"# Guide\n\nRead me first.\n",
                "notes.txt": b"Plain notes.",
                "inner.zip": inner,
                "../evil.txt": b"escape attempt",
                "empty-folder/": b"",
            }
        )
    )
    document = parser.parse(source)
    assert document.format == "zip"
    names = {a.filename: a.content for a in document.attachments}
    assert names == {
        "docs/guide.md": b"# Guide\n\nRead me first.\n",
        "notes.txt": b"Plain notes.",
        "inner.zip/deep/c.txt": b"Nested member text.",
    }
    listing = words(document)
    assert "docs/guide.md" in listing
    assert "../evil.txt" in listing and "refused" in listing


def test_an_archive_with_nothing_in_it_is_empty(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "nothing.zip"
    source.write_bytes(zip_of({"folder/": b""}))
    with pytest.raises(EmptyDocumentError):
        parser.parse(source)


def test_a_zip_bomb_is_refused(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "bomb.zip"
    source.write_bytes(zip_of({"zeros.txt": b"\0" * (40 * 2**20)}))
    with pytest.raises(ParseLimitError, match="zip bomb"):
        parser.parse(source)


def outlook_message(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "subject": "Quarterly numbers",
        "sender": "ana@example.com",
        "sender_name": "Ana Silva",
        "to": [("Bo Chen", "bo@example.com")],
        "cc": [("Cy Dove", "cy@example.com")],
        "body": "Invoice 4471 is paid in full.",
        "sent": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
        "attachments": [("notes.txt", b"Attached notes text.")],
    }
    return bytes(build_msg(**{**fields, **overrides}))  # type: ignore[arg-type]


def test_an_outlook_message_is_read_like_an_email(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "mail.bin"  # the bytes decide, not the name
    source.write_bytes(outlook_message())
    document = parser.parse(source)
    assert document.format == "msg"
    assert document.title == "Quarterly numbers"
    assert dict(document.metadata) == {
        "from": '"Ana Silva" <ana@example.com>',
        "to": "Bo Chen <bo@example.com>",
        "cc": "Cy Dove <cy@example.com>",
        "subject": "Quarterly numbers",
        "date": "2024-05-06T07:08:09+00:00",
    }
    assert document.elements[0].kind == "email_header"
    assert "Invoice 4471 is paid in full." in words(document)
    assert [(a.filename, a.content) for a in document.attachments] == [
        ("notes.txt", b"Attached notes text.")
    ]


def test_an_encrypted_outlook_message_is_refused(parser: IsolatedParser, tmp_path: Path) -> None:
    source = tmp_path / "secret.msg"
    source.write_bytes(
        outlook_message(
            message_class="IPM.Note.SMIME",
            body="",
            attachments=[("smime.p7m", b"0\x80\x06\x09*\x86H\x86\xf7\r\x01\x07\x03")],
        )
    )
    with pytest.raises(EncryptedDocumentError):
        parser.parse(source)
