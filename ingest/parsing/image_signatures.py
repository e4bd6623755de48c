"""Pictures told apart by their first bytes, before any attempt to read them as text.

Every image format ragline reads by OCR has a fixed signature; only BMP's ("BM")
is short enough to open a line of text, so its header must also hold a known
size for the bitmap header that follows.
"""

from __future__ import annotations

from typing import Final

from .formats import Format

_SIGNATURES: Final[tuple[tuple[bytes, Format], ...]] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
#: Sizes of the BITMAPINFOHEADER family (core, v1, v2, v3, OS/2 v2, v4, v5).
_BMP_HEADER_SIZES: Final[frozenset[int]] = frozenset({12, 40, 52, 56, 64, 108, 124})
#: ISO-BMFF brands of HEIF pictures (iPhone photos): libheif decodes HEVC-coded ones.
_HEIF_BRANDS: Final[frozenset[bytes]] = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
)


def image_format(head: bytes) -> Format | None:
    """The image format ``head`` (a file's first bytes) starts, if any."""
    for signature, fmt in _SIGNATURES:
        if head.startswith(signature):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    return None
