"""Hybrid retrieval: dense + BM25 under one filter, fused, then gated by served version.

A question is searched once, then again with the query the first search's best chunks
fed back (``retrieval.feedback``). The second search asks the index only for the side
whose query changed: the dense side, and the BM25 side only when the lexical expansion
added terms (off by default). The other side's ranking and every payload already read
are the first search's, and the sides are fused exactly as ``ChunkIndex.search`` fuses
them (``ranking.fuse_rankings``), so the answer is the one two full searches would give,
for less index work (README, "The index at 100k chunks").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from retrieval.encoders import DenseEncoder, SparseEncoder
from retrieval.feedback import expanded_query, moved_query
from retrieval.index.base import (
    DEFAULT_FUSION,
    ChunkIndex,
    Fusion,
    Hit,
    SearchFilter,
    SearchMode,
    Side,
    SideRanking,
    SparseVector,
)
from retrieval.index.ranking import fuse_rankings, hits_of
from retrieval.served_memory import (
    DEFAULT_MAX_DOCUMENTS,
    DEFAULT_TTL_S,
    Served,
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
    # Pseudo-relevance feedback in hybrid search (retrieval.feedback; depth 0 turns it
    # off): the first search's best `feedback_depth` gated chunks move the query vector
    # by `feedback_weight`, and, for questions of at most `expansion_max_query_terms`
    # terms, add their `expansion_terms` strongest terms to the BM25 query at up to
    # `expansion_weight`; then the search runs again.
    feedback_depth: int = 3
    feedback_weight: float = 1.0
    expansion_terms: int = 0  # off by default: README, "Hybrid retrieval", says why
    expansion_weight: float = 0.5
    expansion_max_query_terms: int = 6
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
        served: dict[str, Served | None] = {}
        payloads: dict[str, Mapping[str, Any]] = {}
        rankings = self._rank_sides(dense, sparse, flt, top_k, mode)
        chunks = self._gated(self._fused(rankings, top_k, mode, payloads), flt, served)
        if mode == "hybrid" and dense is not None and sparse is not None:
            again = self._feedback(dense, sparse, chunks)
            if again is not None:
                moved, expanded = again
                # Only the sides whose query changed are asked again.
                rankings = rankings | self._rank_sides(moved, expanded, flt, top_k, mode)
                chunks = self._gated(self._fused(rankings, top_k, mode, payloads), flt, served)
        return chunks[:top_k]

    def _rank_sides(
        self,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        flt: SearchFilter,
        top_k: int,
        mode: SearchMode,
    ) -> dict[Side, SideRanking]:
        return self._index.rank_sides(
            dense=dense,
            sparse=sparse,
            flt=flt,
            limit=top_k * 2,
            mode=mode,
            prefetch_limit=max(self.config.prefetch_limit, top_k * 2),
        )

    def _fused(
        self,
        rankings: Mapping[Side, SideRanking],
        top_k: int,
        mode: SearchMode,
        payloads: dict[str, Mapping[str, Any]],
    ) -> list[Hit]:
        """What ``ChunkIndex.search`` answers for these rankings. ``payloads`` holds those
        read during this question, so the feedback search reads only the new ones."""
        ranked = fuse_rankings(
            rankings, fuse=mode == "hybrid", limit=top_k * 2, fusion=self.config.fusion
        )
        unread = [point_id for point_id, _ in ranked if point_id not in payloads]
        if unread:
            payloads |= self._index.stored_payloads(unread)
        return hits_of(ranked, payloads)

    def _gated(
        self, hits: Sequence[Hit], flt: SearchFilter, served: dict[str, Served | None]
    ) -> list[RetrievedChunk]:
        """The hits the registry serves to the caller. ``served`` holds what the registry
        said during this question, so the feedback search asks it only about documents it
        has not seen."""
        unseen = {str(h.payload["document_id"]) for h in hits} - served.keys()
        if unseen:
            found = self.served_memory(unseen)
            served |= {doc_id: found.get(doc_id) for doc_id in unseen}
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
        self, dense: Sequence[float], sparse: SparseVector, chunks: Sequence[RetrievedChunk]
    ) -> tuple[list[float] | None, SparseVector | None] | None:
        """The second search's changed queries (None: that side's query is unchanged)
        from the first's gated chunks, or None when neither changed.

        Only chunks that passed the gate feed back: a chunk the caller may not read
        never steers what the caller gets.
        """
        config = self.config
        if config.feedback_depth < 1 or not chunks:
            return None
        stored = self._index.stored_vectors([c.chunk_id for c in chunks[: config.feedback_depth]])
        if not stored:
            return None
        moved = moved_query(dense, [v.dense for v in stored.values()], config.feedback_weight)
        expanded = expanded_query(
            sparse,
            [v.sparse for v in stored.values()],
            terms=config.expansion_terms,
            weight=config.expansion_weight,
            max_query_terms=config.expansion_max_query_terms,
        )
        if moved is None and expanded is None:
            return None
        return moved, expanded
