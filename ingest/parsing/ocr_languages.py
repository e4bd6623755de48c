"""The OCR languages an operator configured, checked against the packs tesseract has.

A language whose traineddata is missing would otherwise fail every picture and
scanned page, one document at a time, long after start-up; so the parser refuses
to start instead, naming the Debian package that supplies the pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from kernel.errors import ConfigurationError

#: The languages OCR reads when none are configured (installed: ``tesseract-ocr-eng``).
DEFAULT_OCR_LANGUAGES: Final[tuple[str, ...]] = ("eng",)
#: The setting, named in every refusal so the operator knows what to change.
_SETTING: Final[str] = "RAGLINE_INGEST__OCR_LANGUAGES"


def debian_package(language: str) -> str:
    """The Debian package holding a tesseract pack: ``chi_sim`` is ``tesseract-ocr-chi-sim``."""
    return "tesseract-ocr-" + language.lower().replace("_", "-")


def require_ocr_languages(languages: Sequence[str]) -> None:
    """Refuse languages tesseract has no pack for (or no tesseract at all).

    Asks ``tesseract --list-langs`` (about 11 ms) each time: a pack installed since counts.

    Raises:
        ConfigurationError: no language given, tesseract is not installed, or a
            pack is missing; the message names the packages to install.
    """
    import unstructured_pytesseract as tesseract

    if not languages:
        raise ConfigurationError(f"{_SETTING} names no language: give at least one, e.g. eng")
    try:
        installed = set(tesseract.get_languages(config=""))
    except tesseract.TesseractNotFoundError:
        raise ConfigurationError(
            "OCR needs tesseract, which is not installed: install the Debian package "
            f"tesseract-ocr and {', '.join(debian_package(code) for code in languages)}"
        ) from None
    missing = [code for code in languages if code not in installed]
    if missing:
        raise ConfigurationError(
            f"OCR language pack{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"({_SETTING}) not installed for tesseract: install the Debian package"
            f"{'s' if len(missing) > 1 else ''} "
            f"{', '.join(debian_package(code) for code in missing)}"
        )
