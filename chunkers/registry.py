"""The strategy for each document type, and the two calls the pipeline makes.

A new document type is one new module with a chunker class, one entry in
``STRATEGIES`` and its name in ``DOC_TYPES``. Strategies are stateless, so one
instance of each serves every document and every thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from chunkers.base import Chunker, TokenCounter
from chunkers.detection import detect_doc_type
from chunkers.emails import EmailChunker
from chunkers.generic import GenericChunker
from chunkers.legal import LegalChunker
from chunkers.memo import MemoTokenCounter
from chunkers.product_docs import ProductDocsChunker
from chunkers.slides import SlidesChunker
from chunkers.tables import TablesChunker
from kernel.documents import ChunkDraft, ParsedDocument
from kernel.errors import InvalidInputError

DOC_TYPES: tuple[str, ...] = ("legal", "product_docs", "tables", "email", "slides", "generic")
DEFAULT_DOC_TYPE = "generic"

STRATEGIES: Mapping[str, Chunker] = MappingProxyType(
    {
        "legal": LegalChunker(),
        "product_docs": ProductDocsChunker(),
        "tables": TablesChunker(),
        "email": EmailChunker(),
        "slides": SlidesChunker(),
        "generic": GenericChunker(),
    }
)


def resolve_doc_type(requested: str | None, doc: ParsedDocument) -> str:
    """The requested type (case and spaces ignored), else the one detected.

    ``None`` or a blank string asks for detection. Raises InvalidInputError for
    a type that is not one of ``DOC_TYPES``.
    """
    if requested is not None and requested.strip():
        return _known(requested)
    return detect_doc_type(doc)


def known_doc_type(requested: str | None) -> str | None:
    """A requested type, normalised; ``None`` for "detect". Refuses unknown types.

    Called where a type enters the system (an upload, a bucket, the CLI), so that a
    typo is a clear error at the door, not a document stuck in the queue.
    """
    if requested is None or not requested.strip():
        return None
    return _known(requested)


def chunk_document(doc: ParsedDocument, doc_type: str, tokens: TokenCounter) -> list[ChunkDraft]:
    """Chunk drafts in reading order, each ``tokens.count(text) <= tokens.max_tokens``.

    Raises InvalidInputError for an unknown ``doc_type``, and ConfigurationError
    when ``tokens.max_tokens`` is too small to chunk into. A document with no
    text (page furniture only) gives no drafts.
    """
    strategy = STRATEGIES[_known(doc_type)]
    return strategy.chunk(doc, MemoTokenCounter(tokens))


def _known(doc_type: str) -> str:
    name = doc_type.strip().lower()
    if name not in STRATEGIES:
        raise InvalidInputError(
            f"unknown document type {doc_type!r}; valid types: {', '.join(DOC_TYPES)}"
        )
    return name
