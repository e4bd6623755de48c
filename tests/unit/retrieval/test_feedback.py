"""Pseudo-relevance feedback in hybrid search: what moves, and what may not steer it.

A real qdrant-edge index with hand-placed 4-d vectors, so the geometry is exact; the
query's vector comes from ``FixedQueryEncoder``, which stands in for the embedding
model (the model is not what is tested here). The query's one word matches no chunk,
so in the dense tests (expansion off) the dense side alone decides the order and the
feedback's effect is visible; the expansion tests give chunks words of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chunkers.base import TokenCounter
from retrieval.feedback import expanded_query, moved_query
from retrieval.hybrid import HybridRetriever, RetrievalConfig
from retrieval.index.base import IndexedChunk, SearchFilter, SparseVector
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


@dataclass
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


def build(
    tmp_path: Path, names: Iterable[str], texts: Mapping[str, str] | None = None
) -> EdgeIndex:
    texts = texts or {}
    encoder = BM25SparseEncoder()
    index = EdgeIndex(tmp_path / "edge", DIM)
    index.ensure_ready()
    index.upsert(
        [
            IndexedChunk(
                cid(name),
                list(VECTORS[name]),
                encoder.encode_documents([texts.get(name, f"chunk {name} text")])[0],
                {
                    "document_id": name,
                    "document_version": 1,
                    "roles": ["eng"],
                    "text": texts.get(name, f"chunk {name} text"),
                    "name": name,
                },
            )
            for name in names
        ]
    )
    return index


def retriever(index: EdgeIndex, served: Mapping[str, Doc], **config: Any) -> HybridRetriever:
    """The retriever under test over ``index``; ``served`` is the registry's word."""

    def lookup(ids: Iterable[str]) -> Mapping[str, Served]:
        return {i: served[i] for i in ids if i in served}

    return HybridRetriever(
        index,
        FixedQueryEncoder((1.0, 0.0, 0.0, 0.0)),
        BM25SparseEncoder(),
        lookup,
        RetrievalConfig(served_memory_ttl_s=0, **config),
    )


def retrieve(index: EdgeIndex, served: Mapping[str, Doc], *, depth: int) -> list[str]:
    """Dense feedback alone (no expansion): the order of the documents found."""
    found = retriever(index, served, feedback_depth=depth, expansion_terms=0)
    return [c.document_id for c in found.retrieve(QUERY, ENG, top_k=7)]


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


# Expansion: "zebra" is in a, b, c and g; only g and h share "okapi". Feedback from g
# adds "okapi" to the query, and h, which "zebra" does not match, gains a BM25 score.
TEXTS = {
    "a": "zebra herd grazing",
    "b": "zebra stripes pattern",
    "c": "zebra foals run",
    "d": "savanna grass",
    "e": "river crossing",
    "g": "zebra okapi relatives",
    "h": "okapi okapi forest giraffe",
}


def scores(index: EdgeIndex, served: Mapping[str, Doc], expansion_terms: int) -> dict[str, float]:
    found = retriever(index, served, feedback_depth=1, expansion_terms=expansion_terms)
    return {c.document_id: c.score for c in found.retrieve("zebra", ENG, top_k=7)}


def test_expansion_from_a_readable_chunk_lifts_chunks_sharing_its_words(
    tmp_path: Path,
) -> None:
    names = list(TEXTS)
    index = build(tmp_path, names, TEXTS)
    try:
        plain = scores(index, everyone(names), expansion_terms=0)
        expanded = scores(index, everyone(names), expansion_terms=3)
        assert max(plain, key=plain.__getitem__) == "g"
        assert expanded["h"] > plain["h"] + 0.02
    finally:
        index.close()


def test_a_chunk_the_gate_drops_never_lends_its_words(tmp_path: Path) -> None:
    names = list(TEXTS)
    index = build(tmp_path, names, TEXTS)
    try:
        narrowed = everyone(names) | {"g": Doc(1, frozenset({"hr"}))}
        plain = scores(index, narrowed, expansion_terms=0)
        expanded = scores(index, narrowed, expansion_terms=3)
        assert "g" not in expanded
        # a feeds back instead: its own words (herd, grazing) are in no other chunk, and
        # h, which only g's "okapi" could match, keeps the score it had.
        assert expanded["h"] == pytest.approx(plain["h"])
    finally:
        index.close()


def test_moved_query_is_the_unit_rocchio_vector() -> None:
    moved = moved_query([1.0, 0.0], [[0.0, 1.0], [0.0, 1.0]], 1.0)
    assert moved == pytest.approx([2**-0.5, 2**-0.5])
    assert moved_query([1.0, 0.0], [], 1.0) is None
    assert moved_query([1.0, 0.0], [[0.0, 1.0]], 0.0) is None


def test_expanded_query_adds_the_strongest_other_terms_scaled_to_weight() -> None:
    query = SparseVector((7,), (1.0,))
    found = [SparseVector((3, 7, 9), (2.0, 1.0, 0.5)), SparseVector((3, 5), (1.0, 0.4))]
    expanded = expanded_query(query, found, terms=2, weight=0.5, max_query_terms=6)
    # 3: 2.0 + 1.0 = 3.0 (the strongest: 0.5); 9: 0.5 (0.5 * 0.5 / 3); 5 (0.4) is left out.
    assert expanded is not None
    assert expanded.indices == (3, 7, 9)
    assert expanded.values == pytest.approx((0.5, 1.0, 0.5 * 0.5 / 3.0))


def test_long_questions_and_nothing_new_are_not_expanded() -> None:
    long_query = SparseVector(tuple(range(7)), (1.0,) * 7)
    found = [SparseVector((100,), (1.0,))]
    assert expanded_query(long_query, found, terms=5, weight=0.5, max_query_terms=6) is None
    query = SparseVector((1,), (1.0,))
    assert (
        expanded_query(query, [SparseVector((1,), (2.0,))], terms=5, weight=0.5, max_query_terms=6)
        is None
    )
    assert expanded_query(query, found, terms=0, weight=0.5, max_query_terms=6) is None
