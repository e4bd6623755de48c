"""Chunking: one strategy per document type behind ``chunkers.registry``.

The pipeline calls ``resolve_doc_type`` then ``chunk_document``; see
``chunkers.base`` for the contract every strategy keeps.
"""

from chunkers.registry import DOC_TYPES, chunk_document, resolve_doc_type

__all__ = ["DOC_TYPES", "chunk_document", "resolve_doc_type"]
