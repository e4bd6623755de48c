"""A decoded picture turned into 8-bit greyscale or RGB, the pixels OCR reads as seen.

Pillow keeps a picture in the mode its file stores, and several of those do not
survive the trip to tesseract as a person sees them:

- 1-bit (mode ``1``, every fax TIFF): the OCR stack used before refused it
  outright (OpenCV has no 1-bit type); it becomes greyscale.
- 16- and 32-bit greyscale (``I;16``, ``I``, ``F``: scanners, medical and
  microscope pictures): a plain conversion clips every value over 255 to white,
  so the picture is scaled down to 8 bits by its brightest value first.
- Transparency (``RGBA``, ``LA``, ``PA``, a palette with a transparent colour):
  dropping the alpha shows what the transparent pixels happen to hold, usually
  black, and black text on a transparent background vanishes. It is laid on a
  plain background that contrasts with what is drawn: white under dark ink,
  black under light ink (a white logo).
- Palette, CMYK, YCbCr, LAB, HSV: converted to RGB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL.Image import Image

#: Modes tesseract reads as they are.
_READY: Final[frozenset[str]] = frozenset({"L", "RGB"})
#: Greyscale deeper than 8 bits.
_DEEP_GREY: Final[frozenset[str]] = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
#: Mean brightness (0-255) of the drawn pixels above which they count as light ink.
_LIGHT_INK: Final[int] = 160


def for_ocr(image: Image) -> Image:
    """``image`` in mode ``L`` or ``RGB`` (itself when it already is)."""
    if image.mode in _READY:
        return image
    if image.mode == "1":
        return image.convert("L")
    if image.mode in _DEEP_GREY:
        return _eight_bit(image)
    if _has_alpha(image):
        return _flattened(image)
    return image.convert("RGB")


def _eight_bit(image: Image) -> Image:
    wide = image.convert("F")
    low, high = (float(v) for v in wide.getextrema())  # type: ignore[arg-type]
    if high <= 255 and low >= 0:
        return wide.convert("L")
    scale = 255.0 / high if high > 0 else 1.0
    return wide.point(lambda value: value * scale).convert("L")


def _has_alpha(image: Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _flattened(image: Image) -> Image:
    from PIL import Image as PILImage
    from PIL import ImageStat

    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    ink = ImageStat.Stat(rgba.convert("L"), mask=alpha.point(lambda a: 255 if a >= 128 else 0))
    light = bool(ink.count[0]) and ink.mean[0] > _LIGHT_INK
    background = PILImage.new("RGBA", rgba.size, (0, 0, 0, 255) if light else (255, 255, 255, 255))
    return PILImage.alpha_composite(background, rgba).convert("RGB")
