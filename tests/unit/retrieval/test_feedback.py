"""Dense pseudo-relevance feedback in hybrid search: what moves, and what may not steer it.

A real qdrant-edge index with hand-placed 4-d vectors, so the geometry is exact; the
query's vector comes from ``FixedQueryEncoder``, which stands in for the embedding
model (the model is not what is tested here). The query's one word matches no chunk,
so the dense side alone decides the order and the feedback's effect is visible.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from chunkers.base import TokenCounter
from retrieval.hybrid import HybridRetriever, RetrievalConfig
from retrieval.index.base import IndexedChunk, SearchFilter
from retrieval.index.edge import EdgeIndex
from retrieval.served_memory import Served
from retrieval.sparse import BM25SparseEncoder

pytestmark = pytest.mark.unit

DIM = 4
ENG = SearchFilter(roles=frozenset({"eng"}))
QUERY = "zebra"  # in no chunk: the sparse side returns nothing

# name -> vector. Cosine to the query (axis 0): g .96, a .93, c .89, b .86, e .60, h .55,
# d .50. a, b and c lean towards axis 1, so feedback from them lifts d (axis 1) over e
# (axis 2); g leans towards axis 3, so feedback from g lifts h instead.
VECTORS: dict[str, tuple[float, ...]] = {
    "a": (1.0, 0.4, 0.0, 0.0),
    "b": (1.0, 0.6, 0.0, 0.0),
    "c": (1.0, 0.5, 0.0, 0.0),
    "d": (0.5, 0.866, 0.0, 0.0),
    "e": (0.6, 0.0, 0.8, 0.0),
    "g": (1.0, 0.0, 0.0, 0.3),
    "h": (0.55, 0.0, 0.0, 0.835),
}


def cid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


@dataclass(frozen=True)
class FixedQueryEncoder:
    """Stands in for the embedding model: every question embeds to ``vector``."""

    vector: tuple[float, ...]
    dim: int = DIM

    @property
    def tokens(self) -> TokenCounter:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [list(self.vector) for _ in texts]

    def embed_one(self, text: str) -> list[float]:
        return list(self.vector)


@dataclass(frozen=True)
class Doc:
    version: int
    roles: frozenset[str]


def build(tmp_path: Path, names: Iterable[str]) -> EdgeIndex:
    encoder = BM25SparseEncoder()
    index = EdgeIndex(tmp_path / "edge", DIM)
    index.ensure_ready()
    index.upsert(
        [
            IndexedChunk(
                cid(name),
                list(VECTORS[name]),
                encoder.encode_documents([f"chunk {name} text"])[0],
                {
                    "document_id": name,
                    "document_version": 1,
                    "roles": ["eng"],
                    "text": f"chunk {name} text",
                    "name": name,
                },
            )
            for name in names
        ]
    )
    return index


def retrieve(
    index: EdgeIndex, served: Mapping[str, Doc], *, depth: int, top_k: int = 7
) -> list[str]:
    def lookup(ids: Iterable[str]) -> Mapping[str, Served]:
        return {i: served[i] for i in ids if i in served}

    retriever = HybridRetriever(
        index,
        FixedQueryEncoder((1.0, 0.0, 0.0, 0.0)),
        BM25SparseEncoder(),
        lookup,
        RetrievalConfig(feedback_depth=depth, feedback_weight=1.0, served_memory_ttl_s=0),
    )
    return [c.document_id for c in retriever.retrieve(QUERY, ENG, top_k=top_k)]


def everyone(names: Iterable[str]) -> dict[str, Doc]:
    return {name: Doc(1, frozenset({"eng"})) for name in names}


def test_feedback_pulls_the_query_towards_the_best_chunks(tmp_path: Path) -> None:
    names = ["a", "b", "c", "d", "e"]
    index = build(tmp_path, names)
    try:
        assert retrieve(index, everyone(names), depth=0) == ["a", "c", "b", "e", "d"]
        assert retrieve(index, everyone(names), depth=3) == ["a", "c", "b", "d", "e"]
    finally:
        index.close()


def test_a_chunk_the_gate_drops_never_steers_the_feedback(tmp_path: Path) -> None:
    names = ["a", "b", "c", "d", "e", "g", "h"]
    index = build(tmp_path, names)
    try:
        # g readable: it is the best chunk, and its feedback lifts h above e and d.
        assert retrieve(index, everyone(names), depth=1) == ["g", "a", "c", "b", "h", "e", "d"]
        # g's roles narrowed in the registry (its payload still says eng): the gate
        # drops g, a feeds back instead, and h stays last.
        narrowed = everyone(names) | {"g": Doc(1, frozenset({"hr"}))}
        assert retrieve(index, narrowed, depth=1) == ["a", "c", "b", "d", "e", "h"]
        # An old version of g (the registry serves version 2) is dropped the same way.
        stale = everyone(names) | {"g": Doc(2, frozenset({"eng"}))}
        assert retrieve(index, stale, depth=1) == ["a", "c", "b", "d", "e", "h"]
    finally:
        index.close()
