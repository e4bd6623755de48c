"""``EdgeIndex`` optimises its shard: the dense side is searched through an HNSW graph.

qdrant-edge builds no graph by itself; without ``optimize`` every search scores every
point under the filter, which at 100k chunks is most of the retrieval budget. The real
indexing threshold is about 6,500 chunks of 384 dimensions and building their graph
takes tens of seconds here, so each shard below is created by the engine itself with a
threshold of 1 KB (the engine's own setting, kept by ``EdgeIndex`` when it opens the
shard) and small vectors: the same optimiser runs on a few hundred points.

"Indexed" is read from the engine: ``indexed_vectors_count`` counts the sparse vectors
(always in an inverted index) plus the dense vectors that are in a graph, so a shard
whose dense side is graphed reports twice its points.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from qdrant_edge import (
    Distance,
    EdgeConfig,
    EdgeOptimizersConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    Modifier,
    UpdateOperation,
)

from retrieval.index import edge_requests
from retrieval.index.base import Hit, IndexedChunk, SearchFilter, SparseVector
from retrieval.index.edge import EdgeIndex

pytestmark = pytest.mark.service

DIM = 8
POINTS = 300
ROLES = ("eng", "hr", "sales")


def _low_threshold_shard(path: Path) -> None:
    """A shard whose optimiser indexes any segment past 1 KB of vectors."""
    EdgeShard.create(
        str(path),
        EdgeConfig(
            vectors={"dense": EdgeVectorParams(size=DIM, distance=Distance.Cosine)},
            sparse_vectors={"sparse": EdgeSparseVectorParams(modifier=Modifier.Idf)},
            optimizers=EdgeOptimizersConfig(indexing_threshold=1),
        ),
    ).close()


def _chunks(n: int = POINTS) -> list[IndexedChunk]:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, DIM))
    return [
        IndexedChunk(
            id=str(uuid.UUID(int=i + 1)),
            dense=[float(x) for x in vectors[i]],
            sparse=SparseVector(indices=(1, 2 + i % 40), values=(1.0, 1.0)),
            payload={
                "document_id": f"doc-{i // 10}",
                "document_version": 1,
                "bucket": "b",
                "doc_type": "txt",
                "roles": [ROLES[(i // 10) % len(ROLES)]],
                "text": f"chunk {i}",
            },
        )
        for i in range(n)
    ]


def _graphed(path: Path) -> bool:
    shard = EdgeShard.load(str(path))
    try:
        info = shard.info()
        return info.indexed_vectors_count == 2 * info.points_count > 0
    finally:
        shard.close()


def _dense_hits(index: EdgeIndex, query: Sequence[float], role: str) -> list[Hit]:
    """Every chunk ``role`` may read, nearest first."""
    flt = SearchFilter(roles=frozenset({role}))
    return index.search(
        dense=query, sparse=None, flt=flt, limit=POINTS, mode="dense", prefetch_limit=POINTS
    )


def test_a_process_that_wrote_leaves_the_index_graphed_at_close(tmp_path: Path) -> None:
    _low_threshold_shard(tmp_path)
    index = EdgeIndex(tmp_path, DIM)
    index.ensure_ready()
    index.upsert(_chunks())
    index.close()
    assert _graphed(tmp_path)


def test_a_serving_process_leaves_optimising_to_the_next_open(tmp_path: Path) -> None:
    """A server must stop within its supervisor's grace period: no minutes-long
    optimisation at its close; the next process to open the index builds the graph."""
    _low_threshold_shard(tmp_path)
    index = EdgeIndex(tmp_path, DIM, optimize_on_close=False)
    index.ensure_ready()
    index.upsert(_chunks())
    index.close()
    assert not _graphed(tmp_path)

    with EdgeIndex(tmp_path, DIM) as reopened:
        assert reopened.count() == POINTS
    assert _graphed(tmp_path)


def test_opening_an_index_written_without_optimising_graphs_it(tmp_path: Path) -> None:
    # Written by the engine directly, as a process of an older ragline (or one killed
    # before its close) leaves it.
    _low_threshold_shard(tmp_path)
    shard = EdgeShard.load(str(tmp_path))
    points = [edge_requests.point(chunk, DIM) for chunk in _chunks()]
    shard.update(UpdateOperation.upsert_points(points))
    shard.close()
    assert not _graphed(tmp_path)

    with EdgeIndex(tmp_path, DIM) as index:
        assert index.count() == POINTS
    assert _graphed(tmp_path)


def test_optimising_keeps_every_write_and_the_role_filter(tmp_path: Path) -> None:
    _low_threshold_shard(tmp_path)
    chunks = _chunks()
    with EdgeIndex(tmp_path, DIM) as index:
        index.upsert(chunks)
        # Writes made before the optimiser rewrites the segments: a narrowing of
        # roles and the deletion of a document and of a version must survive the rewrite.
        index.set_roles("doc-0", ["hr"])  # was eng
        index.delete_document("doc-1")
        index.delete_version("doc-2", 1)
        query = chunks[5].dense
        before = {role: _dense_hits(index, query, role) for role in ROLES}
        assert index.optimize()
        assert not index.optimize()  # nothing left to do: a second call is a no-op
        assert index.count() == POINTS - 20
        assert index.count(document_id="doc-1") == 0
        for role in ROLES:
            hits = _dense_hits(index, query, role)
            assert hits, role
            assert all(role in hit.payload["roles"] for hit in hits)
            assert {h.id for h in hits} == {h.id for h in before[role]}
            assert not {str(h.payload["document_id"]) for h in hits} & {"doc-1", "doc-2"}
        eng = {str(h.payload["document_id"]) for h in before["eng"]}
        assert "doc-0" not in eng
    assert _graphed(tmp_path)


def test_a_small_index_is_left_as_it_is(tmp_path: Path) -> None:
    # Below the engine's real threshold the optimiser plans nothing: opening and
    # closing a small index costs nothing and changes no segment.
    with EdgeIndex(tmp_path, DIM) as index:
        index.upsert(_chunks(50))
        assert not index.optimize()
        assert index.count() == 50
