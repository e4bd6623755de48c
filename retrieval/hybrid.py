"""Hybrid retrieval: dense + BM25 under one filter, fused, then gated by served version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.encoders import DenseEncoder, SparseEncoder
from retrieval.index.base import (
    DEFAULT_FUSION,
    ChunkIndex,
    Fusion,
    SearchFilter,
    SearchMode,
    SparseVector,
)
from retrieval.served_memory import (
    DEFAULT_MAX_DOCUMENTS,
    DEFAULT_TTL_S,
    ServedDocuments,
    ServedMemory,
)


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    chunk_id: str
    score: float
    document_id: str
    document_version: int
    text: str
    title: str | None
    source: str | None
    section: str | None
    page: int | None
    bucket: str | None
    doc_type: str | None

    @classmethod
    def from_payload(cls, chunk_id: str, score: float, payload: dict[str, Any]) -> RetrievedChunk:
        return cls(
            chunk_id=chunk_id,
            score=score,
            document_id=str(payload["document_id"]),
            document_version=int(payload["document_version"]),
            text=str(payload.get("text") or ""),
            title=payload.get("title"),
            source=payload.get("source"),
            section=payload.get("section"),
            page=payload.get("page"),
            bucket=payload.get("bucket"),
            doc_type=payload.get("doc_type"),
        )


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    prefetch_limit: int = 50
    fusion: Fusion = DEFAULT_FUSION
    # Dense pseudo-relevance feedback in hybrid search (0 turns it off): the first
    # search's best `feedback_depth` chunks pull the query vector towards them,
    # `q + feedback_weight * mean(their vectors)`, and the search runs again with it.
    feedback_depth: int = 3
    feedback_weight: float = 1.0
    # How long the gate may answer from memory while the registry is down (0: never),
    # and for how many documents (see retrieval.served_memory).
    served_memory_ttl_s: float = DEFAULT_TTL_S
    served_memory_documents: int = DEFAULT_MAX_DOCUMENTS


class HybridRetriever:
    """Search inside a filter built by ``retrieval.access.search_filter`` only.

    ``served`` tells, per document, the version readers may see and the roles that
    may see it (the registry's). Every hit passes this gate after the index filter:
    hits of any other version (mid-update, a deleted document's leftovers, a writer
    that lost a race) and hits whose document's current roles exclude the caller (a
    change of roles the index payload has not caught up with) are dropped. The index
    filter keeps the gate from starving top-k; the gate is what makes a registry
    commit, not an index write, the moment access changes.

    With the registry down, the gate answers from ``served_memory`` (what the registry
    said in the last ``config.served_memory_ttl_s`` seconds), so ``/ask`` goes on
    through a database outage; the index filter on payload roles is what keeps a
    remembered answer from ever widening access (``retrieval.served_memory``).
    """

    def __init__(
        self,
        index: ChunkIndex,
        dense: DenseEncoder,
        sparse: SparseEncoder,
        served: ServedDocuments,
        config: RetrievalConfig | None = None,
    ) -> None:
        self._index = index
        self._dense = dense
        self._sparse = sparse
        self.config = config or RetrievalConfig()
        self.served_memory = ServedMemory(
            served,
            ttl_s=self.config.served_memory_ttl_s,
            max_documents=self.config.served_memory_documents,
        )

    def retrieve(
        self, question: str, flt: SearchFilter, *, top_k: int, mode: SearchMode = "hybrid"
    ) -> list[RetrievedChunk]:
        if not flt.roles:
            return []
        sparse = self._sparse.encode_query(question) if mode != "dense" else None
        if sparse is not None and not sparse.indices:
            # Nothing lexical to match (all stopwords): the dense side alone decides.
            sparse = None
            mode = "dense" if mode == "hybrid" else mode
        if mode == "sparse" and sparse is None:
            return []
        dense = self._dense.embed_one(question) if mode != "sparse" else None
        chunks = self._search(dense, sparse, flt, top_k, mode)
        if mode == "hybrid" and dense is not None:
            moved = self._feedback(dense, chunks)
            if moved is not None:
                chunks = self._search(moved, sparse, flt, top_k, mode)
        return chunks[:top_k]

    def _search(
        self,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        top_k: int,
        mode: SearchMode,
    ) -> list[RetrievedChunk]:
        hits = self._index.search(
            dense=dense,
            sparse=sparse,
            flt=flt,
            limit=top_k * 2,
            mode=mode,
            prefetch_limit=max(self.config.prefetch_limit, top_k * 2),
            fusion=self.config.fusion,
        )
        served = self.served_memory(str(h.payload["document_id"]) for h in hits)
        chunks = []
        for hit in hits:
            document = served.get(str(hit.payload["document_id"]))
            if (
                document is not None
                and document.version == int(hit.payload["document_version"])
                and document.roles & flt.roles
            ):
                chunks.append(RetrievedChunk.from_payload(hit.id, hit.score, dict(hit.payload)))
        return chunks

    def _feedback(
        self, dense: Sequence[float], chunks: Sequence[RetrievedChunk]
    ) -> list[float] | None:
        """The query vector moved towards the best chunks (Rocchio), or None for no move.

        Only chunks that passed the gate feed back: a chunk the caller may not read
        never steers what the caller gets. Measured in README, "Hybrid retrieval".
        """
        depth, weight = self.config.feedback_depth, self.config.feedback_weight
        if depth < 1 or weight <= 0 or not chunks:
            return None
        vectors = self._index.dense_vectors([c.chunk_id for c in chunks[:depth]])
        if not vectors:
            return None
        centroid = np.mean(np.asarray(list(vectors.values()), dtype=np.float64), axis=0)
        moved = np.asarray(dense, dtype=np.float64) + weight * centroid
        norm = float(np.linalg.norm(moved))
        return [float(x) for x in moved / norm] if norm > 0 else None
