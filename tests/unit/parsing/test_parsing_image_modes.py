"""Pictures handed to OCR in 8-bit greyscale or RGB, with their ink still visible."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from ingest.parsing.image_modes import for_ocr

pytestmark = pytest.mark.unit

INK = (40, 40, 160, 140)  # the box where the "ink" is drawn


def test_a_one_bit_fax_page_becomes_greyscale_with_its_ink() -> None:
    fax = Image.new("1", (200, 200), 1)
    ImageDraw.Draw(fax).rectangle(INK, fill=0)
    ready = for_ocr(fax)
    assert ready.mode == "L"
    assert ready.getpixel((100, 100)) == 0
    assert ready.getpixel((10, 10)) == 255


def test_sixteen_bit_greyscale_is_scaled_not_clipped_to_white() -> None:
    # A 16-bit scan: paper at 60000, ink at 4000; both are over 255, so clipping loses the ink.
    scan = Image.new("I;16", (200, 200), 60000)
    ImageDraw.Draw(scan).rectangle(INK, fill=4000)
    ready = for_ocr(scan)
    assert ready.mode == "L"
    paper, ink = ready.getpixel((10, 10)), ready.getpixel((100, 100))
    assert isinstance(paper, int) and isinstance(ink, int)
    assert paper == 255
    assert ink < 30


def test_dark_text_on_a_transparent_background_is_laid_on_white() -> None:
    # Transparent pixels usually hold black: dropping the alpha makes the page black too.
    logo = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rectangle(INK, fill=(20, 20, 20, 255))
    ready = for_ocr(logo)
    assert ready.mode == "RGB"
    assert ready.getpixel((10, 10)) == (255, 255, 255)
    assert ready.getpixel((100, 100)) == (20, 20, 20)


def test_light_text_on_a_transparent_background_is_laid_on_black() -> None:
    logo = Image.new("LA", (200, 200), (255, 0))
    ImageDraw.Draw(logo).rectangle(INK, fill=(250, 255))
    ready = for_ocr(logo)
    assert ready.mode == "RGB"
    assert ready.getpixel((10, 10)) == (0, 0, 0)
    assert ready.getpixel((100, 100)) == (250, 250, 250)


def test_a_palette_with_a_transparent_colour_is_flattened() -> None:
    picture = Image.new("P", (200, 200), 0)
    picture.putpalette([0, 0, 0, 30, 30, 30] + [0, 0, 0] * 254)
    ImageDraw.Draw(picture).rectangle(INK, fill=1)
    picture.info["transparency"] = 0
    ready = for_ocr(picture)
    assert ready.mode == "RGB"
    assert ready.getpixel((10, 10)) == (255, 255, 255)
    assert ready.getpixel((100, 100)) == (30, 30, 30)


@pytest.mark.parametrize("mode", ["CMYK", "P", "YCbCr"])
def test_other_modes_become_rgb(mode: str) -> None:
    assert for_ocr(Image.new("RGB", (20, 20), "white").convert(mode)).mode == "RGB"


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_greyscale_and_rgb_are_left_as_they_are(mode: str) -> None:
    picture = Image.new(mode, (20, 20))
    assert for_ocr(picture) is picture
