"""Decoding text files: BOMs, UTF-16/32 without BOM, cp1252 over near-miss guesses, binary."""

from __future__ import annotations

import codecs

import pytest

from ingest.parsing.encoding import decode_text, repair_mojibake

pytestmark = pytest.mark.unit

SAMPLE = "Grüße aus Köln: très bien, 5 € — “quoted”.\nSecond line.\n"


@pytest.mark.parametrize(
    "data",
    [
        SAMPLE.encode("utf-8"),
        codecs.BOM_UTF8 + SAMPLE.encode("utf-8"),
        codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"),
        SAMPLE.encode("utf-16-le"),
        SAMPLE.encode("utf-16-be"),
        SAMPLE.encode("utf-32"),
        SAMPLE.encode("utf-32-le"),
        SAMPLE.encode("utf-32-be"),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf16le-bom",
        "utf16be-bom",
        "utf16le",
        "utf16be",
        "utf32",
        "utf32le",
        "utf32be",
    ],
)
def test_unicode_encodings_decode_to_the_same_text(data: bytes) -> None:
    decoded = decode_text(data)
    assert decoded is not None
    assert decoded.text == SAMPLE


def test_cp1252_html_is_not_read_as_windows_1250() -> None:
    html = (
        "<html><body><h1>My First Heading</h1><pre>\n"
        "L'été était très chaud cette année. J'ai acheté un café au lait pour 3,50 €.\n"
        "El niño comió paella con ñoquis. La señora dijo: ¡Qué rico!\n"
        "</pre></body></html>\n"
    )
    decoded = decode_text(html.encode("cp1252"))
    assert decoded is not None
    assert decoded.encoding == "cp1252"
    assert "très" in decoded.text and "3,50 €" in decoded.text and "señora" in decoded.text


def test_short_latin1_text_gets_its_umlauts() -> None:
    decoded = decode_text("## können\n\nkönnen\n\näöüß\n".encode("latin-1"))
    assert decoded is not None
    assert decoded.text == "## können\n\nkönnen\n\näöüß\n"


def test_a_declared_charset_is_used_when_the_bytes_fit_it() -> None:
    russian = "Привет, мир. Это проверка кодировки.\n"
    decoded = decode_text(russian.encode("koi8-r"), declared="koi8-r")
    assert decoded is not None
    assert decoded.text == russian


def test_a_meta_charset_inside_html_is_used() -> None:
    html = '<html><head><meta charset="iso-8859-7"></head><body>Καλημέρα κόσμε</body></html>'
    decoded = decode_text(html.encode("iso-8859-7"))
    assert decoded is not None
    assert "Καλημέρα κόσμε" in decoded.text


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 16,
        bytes(range(256)) * 64,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00\x01\x02\x03" * 100,
    ],
    ids=["elf", "all-bytes", "png"],
)
def test_binary_data_is_not_text(data: bytes) -> None:
    assert decode_text(data) is None


def test_double_encoded_utf8_is_repaired() -> None:
    assert repair_mojibake("career\nâ\x80\x931986 Watford") == "career\n–1986 Watford"
    assert repair_mojibake("â€œquotedâ€\x9d and Ã©tÃ©") == "“quoted” and été"


def test_correct_text_is_left_alone_by_the_repair() -> None:
    text = "Straße, été, Ñandú, naïve café, 10 °C, ½ cup, «guillemets»"
    assert repair_mojibake(text) == text


def test_utf16_of_non_latin_text_without_a_bom_is_text() -> None:
    text = "北京欢迎你。今天天气很好，我们去公园散步吧。这是一个测试文件。" * 3
    decoded = decode_text(text.encode("utf-16-le"))
    assert decoded is not None
    assert decoded.text == text


def test_a_few_accents_in_short_cp1252_html_are_not_read_as_korean() -> None:
    data = "<html><body><h2>Résumé</h2><p>très bien</p></body></html>".encode("cp1252")
    decoded = decode_text(data)
    assert decoded is not None
    assert "Résumé" in decoded.text and "très bien" in decoded.text


def test_polish_in_cp1250_keeps_its_letters() -> None:
    text = (
        "Zażółć gęślą jaźń. Właściwie każdy użytkownik powinien przeczytać instrukcję "
        "obsługi, zanim zacznie korzystać z urządzenia. Świeże źródła wiedzy są ważne.\n"
    )
    decoded = decode_text(text.encode("cp1250"))
    assert decoded is not None
    assert decoded.text == text


def test_double_encoded_utf8_with_c1_controls_is_text_and_repaired() -> None:
    # MS MARCO-style mojibake: U+200E encoded twice leaves C1 controls behind.
    data = "monotonic increasing \u200e(not comparable)".encode().decode("latin-1").encode()
    decoded = decode_text(data)
    assert decoded is not None
    assert decoded.text == "monotonic increasing \u200e(not comparable)"
