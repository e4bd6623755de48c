"""A long PDF read a batch of pages at a time, so that its parse reports progress.

unstructured's ``fast`` strategy reads a whole file in one call, with no word
until it is done: a 1,158-page manual is minutes of silence, which the parser's
no-progress limit cannot tell from a hung page. Its pages are independent
(pdfminer lays out and unstructured classifies each page alone), so reading
pages 1-20, then 21-40 and so on, each copied into a small PDF by pypdf, gives
the same elements, titles, list items and page numbers in the same order
(checked on 150 pages of that manual), with a progress report after each batch.

A PDF of one batch or less is read from its own file, as before. A file whose
pages pypdf cannot copy is read whole, in one call, without progress reports.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from kernel.documents import Element

logger = logging.getLogger(__name__)

#: Pages read per call: at about 0.15 s a page on a quiet core, a few seconds a batch,
#: far inside the no-progress limit even on a machine six times slower.
PAGES_PER_BATCH: Final[int] = 20

#: Reads a PDF file whose first page is the document's page ``first``.
Partition = Callable[[Path, int], list[Element]]


def read_in_batches(
    path: Path, reader: Any, page_count: int, partition: Partition
) -> Iterator[tuple[range, list[Element]]]:
    """Each batch of page numbers (from 1) with the elements ``partition`` read on them."""
    for first in range(1, page_count + 1, PAGES_PER_BATCH):
        pages = range(first, min(page_count, first + PAGES_PER_BATCH - 1) + 1)
        if len(pages) == page_count:
            yield pages, partition(path, 1)
            return
        with tempfile.TemporaryDirectory(prefix="ragline-pages-") as tmp:
            subset = Path(tmp) / "pages.pdf"
            if not _copy_pages(reader, pages, subset):
                rest = range(first, page_count + 1)
                whole = partition(path, 1)
                yield rest, [e for e in whole if e.page is None or e.page >= first]
                return
            elements = partition(subset, first)
        yield pages, elements


def _copy_pages(reader: Any, pages: range, target: Path) -> bool:
    from pypdf import PdfWriter

    try:
        writer = PdfWriter()
        for number in pages:
            writer.add_page(reader.pages[number - 1])
        with target.open("wb") as handle:
            writer.write(handle)
    except Exception:  # any failure: the whole file is read instead
        logger.info("pypdf could not copy pages %d-%d", pages[0], pages[-1], exc_info=True)
        return False
    return True
