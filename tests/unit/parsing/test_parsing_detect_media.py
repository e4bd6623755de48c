"""Detection of images, Outlook messages and plain zip archives, by their bytes first."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from ingest.parsing.compound import compound_streams_format
from ingest.parsing.detect import detect
from kernel.errors import UnsupportedFormatError

pytestmark = pytest.mark.unit


def image_bytes(fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, fmt, **options)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


#: The first bytes of an iPhone photo: an ISO-BMFF ``ftyp`` box with a HEIC brand.
HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (image_bytes("PNG"), "png"),
        (image_bytes("JPEG"), "jpeg"),
        (image_bytes("TIFF"), "tiff"),
        (image_bytes("TIFF", compression="tiff_lzw"), "tiff"),
        (image_bytes("BMP"), "bmp"),
        (image_bytes("GIF"), "gif"),
        (image_bytes("WEBP"), "webp"),
        (HEIC_HEAD, "heic"),
    ],
)
def test_images_are_known_by_their_magic_bytes_whatever_the_name(
    data: bytes, expected: str
) -> None:
    assert detect(data, filename="scan.txt", content_type="text/plain").format == expected
    assert detect(data, filename=None, content_type=None).format == expected


def test_a_text_file_that_starts_with_bm_is_still_text() -> None:
    data = b"BMW service notes: change the oil every 15,000 km.\n"
    assert detect(data, filename="notes.txt", content_type=None).format == "txt"


def test_a_plain_zip_is_an_archive_to_expand() -> None:
    data = zip_bytes({"docs/a.md": b"# A\n", "b.txt": b"hello"})
    assert detect(data, filename="bundle.zip", content_type=None).format == "zip"
    assert detect(data, filename=None, content_type=None).format == "zip"


def test_a_zip_named_as_docx_without_word_parts_is_still_refused_as_damaged_docx() -> None:
    from kernel.errors import CorruptDocumentError

    with pytest.raises(CorruptDocumentError):
        detect(zip_bytes({"b.txt": b"hello"}), filename="report.docx", content_type=None)


def test_an_outlook_message_is_known_by_its_property_streams() -> None:
    # No library here writes compound files (olefile only reads), so the decision
    # is tested on the stream names that compound_format reads from the directory.
    streams = {"__properties_version1.0", "__substg1.0_0037001F", "__recip_version1.0_#00000000"}
    assert compound_streams_format(streams, None) == "msg"


def test_other_compound_files_are_still_unsupported() -> None:
    with pytest.raises(UnsupportedFormatError):
        compound_streams_format({"Root Entry", "SummaryInformation"}, None)
