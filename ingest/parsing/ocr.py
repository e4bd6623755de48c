"""Tesseract, as every reader that needs OCR calls it: one language list, one failure rule.

Scanned PDF pages (:mod:`.pdf`) and pictures (:mod:`.images`) both go through
unstructured's ``ocr_only`` strategy, which runs tesseract through pytesseract.
Its temporary images land in ``TMPDIR``, which the parser child points at its
private scratch folder (:mod:`.scratch`), and the child's time and memory
limits cover tesseract, a helper process of the child.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Final

from kernel.documents import Element
from kernel.errors import CorruptDocumentError

from .convert import convert_elements

#: Tesseract language packs to read with (installed: ``tesseract-ocr-eng``).
OCR_LANGUAGES: Final[list[str]] = ["eng"]


def ocr_image(path: Path, *, what: str) -> list[Element]:
    """The text tesseract reads on one picture file, marked ``source: ocr``.

    Raises:
        CorruptDocumentError: tesseract or the image stack failed on it; ``what``
            names the document in the message ("PNG image").
    """
    from unstructured.partition.image import partition_image

    try:
        raw = partition_image(filename=str(path), strategy="ocr_only", languages=OCR_LANGUAGES)
    except MemoryError:
        raise
    except Exception as exc:
        raise CorruptDocumentError(f"{what} could not be read by OCR") from exc
    return [replace(e, metadata={**e.metadata, "source": "ocr"}) for e in convert_elements(raw)]
