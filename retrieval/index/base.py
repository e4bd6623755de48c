"""The index port: what ingestion and retrieval need from a vector store, no more.

Adapters: ``edge.EdgeIndex`` (qdrant-edge, in-process, the embedded default) and
``client.QdrantClientIndex`` (qdrant-client: a Qdrant server URL, or its local mode).
``tests/contract/test_index_contract.py`` runs one suite against both so they cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# Payload fields every chunk carries; the ones filters use get payload indexes.
PAYLOAD_FIELDS = (
    "document_id",
    "document_version",
    "content_hash",
    "bucket",
    "source",
    "title",
    "doc_type",
    "roles",
    "section",
    "page",
    "chunk_index",
    "text",
)
KEYWORD_INDEXED_FIELDS = ("document_id", "bucket", "doc_type", "roles")
INTEGER_INDEXED_FIELDS = ("document_version",)

SearchMode = Literal["hybrid", "dense", "sparse"]


@dataclass(frozen=True, slots=True)
class SparseVector:
    indices: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class IndexedChunk:
    id: str  # a UUID string (qdrant-edge accepts no other string ids)
    dense: Sequence[float]
    sparse: SparseVector
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """Which chunks a search may return. Built only by ``retrieval.access``.

    A chunk matches when its ``roles`` intersect ``roles`` AND every other non-None
    field contains the chunk's value. Empty ``roles`` matches nothing.
    """

    roles: frozenset[str]
    doc_types: frozenset[str] | None = None
    buckets: frozenset[str] | None = None
    document_ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    payload: Mapping[str, Any] = field(default_factory=dict)


class ChunkIndex(Protocol):
    """Contract shared by every adapter.

    - ``ensure_ready`` creates the collection (dense "dense" cosine vectors of
      ``dim``, sparse "sparse" vectors with the IDF modifier) and payload indexes if
      missing; idempotent.
    - ``upsert`` is idempotent by id: writing the same chunk twice leaves one point.
    - ``search`` applies ``flt`` as a real filter to every side it queries (each
      prefetch of a hybrid query carries the same filter); it never returns a chunk
      outside the filter, and returns ``[]`` for empty ``flt.roles`` without querying.
      Hybrid fuses dense and sparse prefetches with reciprocal rank fusion (``rrf_k``).
      Ties are broken by id so that results are deterministic.
    - ``delete_document`` removes a document's chunks; with ``keep_version`` it
      removes every version but that one. ``delete_version`` removes one version only,
      so a writer that lost a race (its document was deleted or superseded) removes
      what it wrote without touching a newer writer's chunks.
    - ``set_roles`` rewrites the ``roles`` of every chunk of a document, whatever its
      version: roles are access control, not content, so a change applies to the
      served chunks at once instead of waiting for a re-ingestion.
    - Errors from the engine surface as ``kernel.errors.DependencyUnavailableError``.
    """

    def ensure_ready(self) -> None: ...

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None: ...

    def search(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        limit: int,
        mode: SearchMode = "hybrid",
        prefetch_limit: int = 50,
        rrf_k: int = 60,
    ) -> list[Hit]: ...

    def delete_document(self, document_id: str, *, keep_version: int | None = None) -> None: ...

    def delete_version(self, document_id: str, version: int) -> None: ...

    def set_roles(self, document_id: str, roles: Sequence[str]) -> None: ...

    def count(self, *, document_id: str | None = None) -> int: ...

    def close(self) -> None: ...
