"""Turning the bytes of a text file into ``str``, or deciding that they are not text.

Decoding is done here, once, instead of inside unstructured, because its guesser
reads short cp1252 files as windows-1250 ("très" comes out as "trčs") and reads
BOM-less UTF-16 as binary. The order below puts the cheap, certain answers first
(BOMs, strict UTF-8, a charset the file or the upload declares) and the
statistical guess last.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

#: Byte-order marks, longest first so UTF-32 LE is not mistaken for UTF-16 LE.
_BOMS: Final[tuple[tuple[bytes, str], ...]] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

#: Single-byte code pages that a statistical guesser confuses with cp1252 on
#: short Western-European text; cp1252 is by far the most common of them in
#: documents, so it wins a near tie.
_CP1252_LOOKALIKES: Final[frozenset[str]] = frozenset(
    {
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "cp1258",
        "latin_1",
        "iso8859_2",
        "iso8859_3",
        "iso8859_4",
        "iso8859_9",
        "iso8859_10",
        "iso8859_13",
        "iso8859_14",
        "iso8859_15",
        "iso8859_16",
        "mac_latin2",
        "mac_iceland",
        "mac_roman",
        "mac_turkish",
    }
)

#: Language evidence (charset-normalizer's coherence) below which a guess is no guess.
_MIN_COHERENCE: Final[float] = 0.1
#: Evidence strong enough for a Central-European code page to beat cp1252.
_STRONG_COHERENCE: Final[float] = 0.3

#: Share of control characters above which decoded "text" is really binary data.
_MAX_CONTROL_SHARE: Final[float] = 0.01

_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)

#: What each byte 0x80-0xBF becomes when UTF-8 is misread as cp1252 or latin-1.
_CONT = (
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
    "\u20ac\u2122]"
)
#: A UTF-8 sequence misread that way ("â€“" or "â\x80\x93" for "–"): a lead byte
#: followed by exactly as many continuation bytes as it announces.
_MOJIBAKE = re.compile(
    f"[\u00c2-\u00df]{_CONT}|[\u00e0-\u00ef]{_CONT}{{2}}|[\u00f0-\u00f4]{_CONT}{{3}}"
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Text decoded from a file, with the encoding that was used."""

    text: str
    encoding: str


def decode_text(data: bytes, *, declared: str | None = None) -> DecodedText | None:
    """Decode ``data`` as text, or return ``None`` when it is binary.

    ``declared`` is a charset stated outside the bytes (an upload's content type);
    one stated inside them (HTML ``<meta charset>``, an XML declaration) is read
    here. A declared charset is used only when the bytes decode under it cleanly.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _accept(data[len(bom) :], encoding)
    if b"\x00" in data[:4096]:
        wide = _guess_wide_encoding(data[:4096])
        if wide:
            return _accept(data, wide)
        guess = _guess_encoding(data)  # UTF-16 of non-Latin text, or binary data
        return _accept(data, guess) if guess else None
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    for candidate in (declared, _charset_declared_inside(data)):
        if candidate and _is_known_codec(candidate):
            try:
                return _checked(data.decode(candidate), codecs.lookup(candidate).name)
            except UnicodeDecodeError:
                continue
    guess = _guess_encoding(data)
    return _accept(data, guess) if guess else None


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text that was once decoded as cp1252/latin-1 ("â€“" back to "–").

    Only runs of characters that re-encode to valid UTF-8 are changed, so real
    "Ã©" in a latin-1 document about encodings survives unless it is exactly such
    a run; the C1 control range in the pattern keeps that case rare.
    """
    if not _MOJIBAKE.search(text):
        return text
    return _MOJIBAKE.sub(_repair_run, text)


def _repair_run(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        # Per character, because a misread can mix both code pages: cp1252 leaves
        # its five undefined bytes (0x81, 0x8D...) as latin-1 C1 controls.
        raw = b"".join(_byte_of(ch) for ch in run)
        return raw.decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return run


def _byte_of(ch: str) -> bytes:
    try:
        return ch.encode("cp1252")
    except UnicodeEncodeError:
        return ch.encode("latin-1")


def _accept(data: bytes, encoding: str) -> DecodedText | None:
    try:
        return _checked(data.decode(encoding), encoding)
    except UnicodeDecodeError:
        return None


def _checked(text: str, encoding: str) -> DecodedText | None:
    """Refuse text that is mostly control characters: an ELF named .txt decodes as latin-1.

    Mojibake is repaired first, and in strict UTF-8 the C1 range (U+0080-U+009F) is
    not counted: it is what double-encoded text ("â\x80\x8e") leaves behind in real
    documents (a few percent of MS MARCO passages), not evidence of binary data.
    """
    repaired = repair_mojibake(text)
    sample = repaired[:20_000]
    c1_counts = encoding != "utf-8"
    controls = sum(
        1
        for ch in sample
        if unicodedata.category(ch) == "Cc"
        and ch not in "\t\n\r\f\v\x1b"
        and (c1_counts or not 0x80 <= ord(ch) <= 0x9F)
    )
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        return None
    return DecodedText(repaired, encoding)


def _guess_wide_encoding(sample: bytes) -> str | None:
    """UTF-16/32 without a BOM, told apart by where the zero bytes fall."""
    if len(sample) < 4:
        return None
    size = len(sample) - len(sample) % 4
    quads = [sample[i : i + 4] for i in range(0, size, 4)]
    if quads and all(q[2:4] == b"\x00\x00" for q in quads):
        return "utf-32-le"
    if quads and all(q[0:2] == b"\x00\x00" for q in quads):
        return "utf-32-be"
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = len(sample) / 2
    if odd_zeros > 0.4 * half and even_zeros < 0.1 * half:
        return "utf-16-le"
    if even_zeros > 0.4 * half and odd_zeros < 0.1 * half:
        return "utf-16-be"
    return None


def _charset_declared_inside(data: bytes) -> str | None:
    match = _DECLARED_CHARSET.search(data[:4096])
    if not match:
        return None
    raw = match.group(1) or match.group(2)
    return raw.decode("ascii", "replace")


def _is_known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _guess_encoding(data: bytes) -> str | None:
    """Ask charset-normalizer, but let cp1252 win unless the guess has evidence.

    On short text the guesser has little to go on: a few accented letters in
    cp1252 come back as windows-1250, or even as Korean (johab) with no language
    recognised at all. cp1252 is taken when the bytes decode under it and the
    guess is either a near-equal Western code page or backed by no language.
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    if best.encoding == "cp1252" or not _decodes_cleanly(data, "cp1252"):
        return str(best.encoding)
    if best.coherence < _MIN_COHERENCE:
        return "cp1252"
    if best.encoding in _CP1252_LOOKALIKES:
        close = [m.encoding for m in matches if m.chaos <= best.chaos + 0.01]
        if "cp1252" in close or best.coherence < _STRONG_COHERENCE:
            return "cp1252"
    return str(best.encoding)


def _decodes_cleanly(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True
