"""The index port: what ingestion and retrieval need from a vector store, no more.

Adapters: ``edge.EdgeIndex`` (qdrant-edge, in-process, the embedded default) and
``client.QdrantClientIndex`` (qdrant-client: a Qdrant server URL, or its local mode).
``tests/contract/test_index_contract.py`` runs one suite against both so they cannot
drift apart.

Two ports: ``ChunkIndex`` is what ingestion and retrieval use; ``GenerationalIndex``
adds what a re-index needs (``ingest.reindex``): build a whole new copy of the index
beside the live one, then swap it in, so that a change of chunking or embedding never
takes search down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

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
FusionMethod = Literal["convex", "rrf"]
Side = Literal["dense", "sparse"]
# One side's candidates, ``(id, score)`` best first, equal scores in id order.
SideRanking = list[tuple[str, float]]


@dataclass(frozen=True, slots=True)
class Fusion:
    """How a hybrid search turns its dense and BM25 rankings into one.

    ``convex``: each side's scores min-max normalised over its candidates, then
    ``dense_weight * dense + (1 - dense_weight) * bm25`` (a chunk one side did not
    return scores 0 there). ``rrf``: reciprocal rank fusion, ``1 / (rrf_k + position)``
    summed over the sides. Scores carry what ranks throw away (how far ahead the best
    match is), which is why ``convex`` is the default: README, "Hybrid retrieval",
    has the measurements on three sets.

    Raises ``ValueError`` for ``rrf_k < 1`` or a weight outside [0, 1].
    """

    method: FusionMethod = "convex"
    dense_weight: float = 0.5
    rrf_k: int = 60

    def __post_init__(self) -> None:
        if self.method not in ("convex", "rrf"):
            raise ValueError(f"unknown fusion method {self.method!r}")
        if self.rrf_k < 1:
            raise ValueError("rrf_k must be >= 1")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError("dense_weight must lie in [0, 1]")


DEFAULT_FUSION = Fusion()


@dataclass(frozen=True, slots=True)
class SparseVector:
    indices: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class StoredVectors:
    """A chunk's vectors as the index holds them (dense: unit length, for cosine)."""

    dense: list[float]
    sparse: SparseVector


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
      Hybrid fuses dense and sparse prefetches as ``fusion`` says (``ranking``).
      Ties are broken deterministically, never by the engine's order.
    - ``rank_sides`` runs the side queries ``search`` runs for the same arguments (same
      validation, same filter on every side, same number of candidates per side) and
      returns each side's ranking (``SideRanking``), keyed by side, dense first; a side
      not queried (no vector, not in ``mode``, a sparse vector without terms) is absent,
      and it returns ``{}`` where ``search`` returns ``[]`` without querying.
      ``search`` is exactly these rankings fused (``ranking.fuse_rankings``) with the
      payloads of the fused top ``limit`` (``stored_payloads``), read from the same
      generation; so a caller that searches again with one side's query changed
      (``retrieval.hybrid``'s feedback search) asks the engine for that side only.
    - ``stored_payloads`` returns the payloads of the given chunk ids (ids not found,
      such as a point deleted since it was ranked, are left out).
    - ``stored_vectors`` returns the stored vectors of the given chunk ids (ids not
      found are left out): what a search's pseudo-relevance feedback reads.
    - ``stored_texts`` returns the payload ``text`` of the given chunk ids (ids not
      found are left out): what the review page shows of a citation, read now, so a
      deleted document's chunk is gone there too.
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
        fusion: Fusion = DEFAULT_FUSION,
    ) -> list[Hit]: ...

    def rank_sides(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        limit: int,
        mode: SearchMode = "hybrid",
        prefetch_limit: int = 50,
    ) -> dict[Side, SideRanking]: ...

    def stored_payloads(self, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]: ...

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, StoredVectors]: ...

    def stored_texts(self, ids: Sequence[str]) -> dict[str, str]: ...

    def delete_document(self, document_id: str, *, keep_version: int | None = None) -> None: ...

    def delete_version(self, document_id: str, version: int) -> None: ...

    def set_roles(self, document_id: str, roles: Sequence[str]) -> None: ...

    def count(self, *, document_id: str | None = None) -> int: ...

    def close(self) -> None: ...


class IndexGeneration(ChunkIndex, Protocol):
    """One generation of the index, built beside the live one (``create_generation``).

    A ``ChunkIndex`` of its own: what is written here is searchable here, and nowhere
    else until the generation is switched to. ``close`` lets go of this handle only;
    the generation stays until it is switched to or dropped. Every operation raises
    ``DependencyUnavailableError`` once the generation was dropped.
    """

    @property
    def number(self) -> int: ...


@runtime_checkable
class GenerationalIndex(ChunkIndex, Protocol):
    """A ``ChunkIndex`` whose whole content can be rebuilt beside it and swapped in.

    Generations are numbered; the live one is what every ``ChunkIndex`` call of this
    object (and of every other process on the same index) reads and writes. A fresh
    index starts at generation 1; an index made before generations existed is
    generation 0 and keeps working as it is.

    - ``create_generation`` makes a new, empty generation numbered above every one that
      exists, and starts *mirroring*: from then on every write through the live index
      (``upsert``, ``delete_document``, ``delete_version``, ``set_roles``), from any
      process, is applied to the new generation too, until it is switched to or
      dropped. Mirroring is best effort: a failure to mirror is logged, never raised
      to the writer (whose live write stands); the builder reconciles what it holds
      with the registry before switching. One generation is built at a time: a second
      ``create_generation`` raises ``ConflictError``. Searches of the live index never
      see the new generation.
    - ``switch_to`` makes a generation live in one atomic step: a concurrent search
      answers from the old generation or the new one, never from neither and never
      with an error. It is durable: an index opened afterwards, in any process, opens
      the new generation. The old generation is no longer read or written; it stays
      until dropped (a generation-0 collection of the server adapter is removed by the
      switch itself, to free its name for the alias). ``NotFoundError`` for a
      generation that does not exist; switching to the live one does nothing.
    - ``drop_generation`` removes a generation and its data, after the searches still
      reading it have finished; dropping the one being built stops the mirroring.
      ``ConflictError`` for the live generation; an unknown number does nothing.
    - ``generations`` lists every generation present, the live one included (a
      re-index that died leaves its half-built one behind until someone drops it).
    """

    def live_generation(self) -> int: ...

    def generations(self) -> list[int]: ...

    def create_generation(self) -> IndexGeneration: ...

    def switch_to(self, generation: int) -> None: ...

    def drop_generation(self, generation: int) -> None: ...
