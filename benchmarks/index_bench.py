"""Index adapters side by side: upsert time and hybrid filtered query latency.

Synthetic chunks: random unit 384-dim dense vectors and ~20-term sparse vectors drawn
from a Zipf-like vocabulary (so some terms are common, most rare, as in text); each
chunk has one or two of four roles. Queries are hybrid (dense + sparse, RRF) under a
role filter that admits about 40% of the chunks, through the public ``ChunkIndex`` API
(so payload retrieval and the Python-side fusion are included).

qdrant-client's local mode is pure Python and slow, so it gets fewer chunks by default.
``EdgeIndex`` is measured twice: as written (every point in a plain segment, scored by
brute force) and after ``optimize`` (the HNSW graph), which is also timed: its row's
"optimize s" is how long the process stood still building it (see ``retrieval.index.edge``).

Run from the repository root:

    .venv/bin/python -m benchmarks.index_bench [--n 20000] [--client-n 2000] [--queries 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from retrieval.index.base import ChunkIndex, IndexedChunk, SearchFilter, SparseVector
from retrieval.index.client import from_local_path
from retrieval.index.edge import EdgeIndex

ROLES = ("eng", "hr", "sales", "legal")
VOCABULARY = 30_000


def synthetic_chunks(n: int, dim: int, rng: np.random.Generator) -> list[IndexedChunk]:
    dense = rng.standard_normal((n, dim)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    chunks = []
    for i in range(n):
        terms = np.unique(rng.zipf(1.3, size=20) % VOCABULARY)
        weights = rng.uniform(0.5, 2.0, size=len(terms))
        roles = sorted(set(rng.choice(ROLES, size=int(rng.integers(1, 3))).tolist()))
        chunks.append(
            IndexedChunk(
                id=str(uuid.UUID(int=i + 1)),
                dense=dense[i].tolist(),
                sparse=SparseVector(
                    indices=tuple(int(t) for t in terms),
                    values=tuple(float(w) for w in weights),
                ),
                payload={
                    "document_id": f"doc-{i // 20}",
                    "document_version": 1,
                    "bucket": "bench",
                    "doc_type": "pdf" if i % 3 else "html",
                    "roles": roles,
                    "chunk_index": i % 20,
                    "text": f"synthetic chunk {i}",
                },
            )
        )
    return chunks


Row = dict[str, float | str | int]


def query_latencies(
    index: ChunkIndex, queries: int, dim: int, rng: np.random.Generator
) -> tuple[float, float]:
    """p50 and p95 in ms of ``queries`` hybrid searches under the ``eng`` role filter."""
    flt = SearchFilter(roles=frozenset({"eng"}))
    latencies = []
    for _ in range(queries):
        dense = rng.standard_normal(dim)
        dense /= np.linalg.norm(dense)
        terms = np.unique(rng.zipf(1.3, size=4) % VOCABULARY)
        sparse = SparseVector(tuple(int(t) for t in terms), tuple(1.0 for _ in terms))
        start = time.perf_counter()
        hits = index.search(dense=dense.tolist(), sparse=sparse, flt=flt, limit=10)
        latencies.append((time.perf_counter() - start) * 1000)
        assert all("eng" in h.payload["roles"] for h in hits)
    latencies.sort()
    return statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]


def measure(
    name: str,
    open_index: Callable[[], ChunkIndex],
    chunks: list[IndexedChunk],
    queries: int,
    dim: int,
    rng: np.random.Generator,
) -> list[Row]:
    index = open_index()
    try:
        index.ensure_ready()
        start = time.perf_counter()
        index.upsert(chunks)
        upsert_s = time.perf_counter() - start
        row: Row = {"adapter": name, "chunks": len(chunks), "upsert_s": upsert_s}
        row["per_s"] = len(chunks) / upsert_s
        row["p50_ms"], row["p95_ms"] = query_latencies(index, queries, dim, rng)
        rows = [row]
        if isinstance(index, EdgeIndex):
            start = time.perf_counter()
            index.optimize()
            optimized: Row = {**row, "adapter": f"{name}, optimised"}
            optimized["optimize_s"] = time.perf_counter() - start
            optimized["p50_ms"], optimized["p95_ms"] = query_latencies(index, queries, dim, rng)
            rows.append(optimized)
        return rows
    finally:
        index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="chunks for qdrant-edge")
    parser.add_argument(
        "--client-n", type=int, default=2_000, help="chunks for local mode (0: skip it)"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    chunks = synthetic_chunks(max(args.n, args.client_n), args.dim, rng)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ragline-index-bench-") as tmp:
        root = Path(tmp)
        rows += measure(
            "EdgeIndex (qdrant-edge)",
            lambda: EdgeIndex(root / "edge", args.dim),
            chunks[: args.n],
            args.queries,
            args.dim,
            rng,
        )
        if args.client_n > 0:
            rows += measure(
                "QdrantClientIndex (local mode)",
                lambda: from_local_path(root / "local", "bench", args.dim),
                chunks[: args.client_n],
                args.queries,
                args.dim,
                rng,
            )

    print(f"hybrid query: dense + sparse, role filter, RRF, top 10; {args.queries} queries")
    print(
        f"| {'adapter':<34} | {'chunks':>7} | {'upsert s':>9} | {'chunks/s':>9} "
        f"| {'optimize s':>10} | {'p50 ms':>8} | {'p95 ms':>8} |"
    )
    print(f"|{'-' * 36}|{'-' * 9}|{'-' * 11}|{'-' * 11}|{'-' * 12}|{'-' * 10}|{'-' * 10}|")
    for row in rows:
        optimize_s = f"{row['optimize_s']:.1f}" if "optimize_s" in row else "-"
        print(
            f"| {row['adapter']:<34} | {row['chunks']:>7} | {row['upsert_s']:>9.2f} "
            f"| {row['per_s']:>9.0f} | {optimize_s:>10} | {row['p50_ms']:>8.2f} "
            f"| {row['p95_ms']:>8.2f} |"
        )


if __name__ == "__main__":
    main()
