"""Hybrid retrieval: dense + BM25 under one filter, fused, then gated by served version."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from retrieval.encoders import DenseEncoder, SparseEncoder
from retrieval.index.base import ChunkIndex, SearchFilter, SearchMode

ServedVersions = Callable[[Iterable[str]], dict[str, int]]


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
    rrf_k: int = 60


class HybridRetriever:
    """Search inside a filter built by ``retrieval.access.search_filter`` only.

    ``served_versions`` tells, per document, the version readers may see (the
    registry's); hits of any other version (mid-update, or deleted documents whose
    chunks are still being removed) are dropped, so over-fetch a little to fill top-k.
    """

    def __init__(
        self,
        index: ChunkIndex,
        dense: DenseEncoder,
        sparse: SparseEncoder,
        served_versions: ServedVersions,
        config: RetrievalConfig | None = None,
    ) -> None:
        self._index = index
        self._dense = dense
        self._sparse = sparse
        self._served = served_versions
        self.config = config or RetrievalConfig()

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
        hits = self._index.search(
            dense=dense,
            sparse=sparse,
            flt=flt,
            limit=top_k * 2,
            mode=mode,
            prefetch_limit=max(self.config.prefetch_limit, top_k * 2),
            rrf_k=self.config.rrf_k,
        )
        served = self._served(str(h.payload["document_id"]) for h in hits)
        chunks = [
            RetrievedChunk.from_payload(h.id, h.score, dict(h.payload))
            for h in hits
            if served.get(str(h.payload["document_id"])) == int(h.payload["document_version"])
        ]
        return chunks[:top_k]
