"""Tesseract, as every reader that needs OCR calls it: one call, one failure rule.

Pictures (:mod:`.images`) and the scanned pages of PDFs (:mod:`.pdf`, rendered
to pictures first) are read here, by tesseract itself on the picture file, as
``tesseract FILE stdout`` reads it: default page segmentation, no rescaling or
filtering. unstructured's ``ocr_only`` strategy, used before, rescaled the
picture, dropped characters tesseract was unsure of and regrouped the words one
element per line: a screenshot lost "Title:" and "Heading," that the command
line reads, and every paragraph came out in pieces. The words are put back into
tesseract's own paragraphs (:mod:`.ocr_layout`).

Tesseract's temporary files land in ``TMPDIR``, which the parser child points at
its private scratch folder (:mod:`.scratch`), and the child's time and memory
limits cover tesseract, a helper process of the child. The languages are the
operator's (``RAGLINE_INGEST__OCR_LANGUAGES``), handed down by the parser with the
``ocr`` switch and checked against the installed packs at start-up
(:mod:`.ocr_languages`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from kernel.documents import Element
from kernel.errors import CorruptDocumentError

from .ocr_layout import ocr_paragraphs


def ocr_image(
    path: Path, *, what: str, languages: Sequence[str], dpi: int | None = None
) -> list[Element]:
    """The paragraphs tesseract reads on one picture file, marked ``source: ocr``.

    ``languages`` are tesseract's pack names (``eng``, ``rus``), read together.

    ``dpi`` is the resolution a page was rendered at; without it tesseract takes
    the file's own (or estimates one from the text size).

    Raises:
        CorruptDocumentError: tesseract failed on it; ``what`` names the document
            in the message ("PNG image").
    """
    import unstructured_pytesseract as tesseract

    # OpenMP threads fight each other and the other parses on a small machine
    # (unstructured sets the same limit when it runs tesseract).
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        words = tesseract.image_to_data(
            str(path),
            lang="+".join(languages),
            config=f"--dpi {dpi}" if dpi else "",
            output_type=tesseract.Output.DICT,
        )
    except MemoryError:
        raise
    except Exception as exc:
        raise CorruptDocumentError(f"{what} could not be read by OCR") from exc
    return [
        Element(kind="text", text=text, metadata={"source": "ocr"})
        for text in ocr_paragraphs(words)
    ]
