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

``--retrieve`` measures ``HybridRetriever.retrieve``'s index work instead (the query
vectors are given, so no embedding), on the optimised ``EdgeIndex``, three ways per
query, in rotating order so that load drifts hit all three alike: without feedback;
with it as the retriever runs it (the feedback search asks only for the dense side and
the payloads not read yet); and with it as two full ``search`` calls (what the
retriever did before, kept here only to compare against).

Run from the repository root:

    .venv/bin/python -m benchmarks.index_bench [--n 20000] [--client-n 2000] [--queries 200]
    .venv/bin/python -m benchmarks.index_bench --retrieve --n 30000 [--queries 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chunkers.base import TokenCounter
from retrieval.feedback import moved_query
from retrieval.hybrid import HybridRetriever, RetrievalConfig
from retrieval.index.base import ChunkIndex, IndexedChunk, SearchFilter, SparseVector
from retrieval.index.client import from_local_path
from retrieval.index.edge import EdgeIndex
from retrieval.served_memory import Served

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


@dataclass(frozen=True, slots=True)
class _Served:
    version: int = 1
    roles: frozenset[str] = frozenset(ROLES)


def _every_document_served(ids: Iterable[str]) -> Mapping[str, Served]:
    return {doc_id: _Served() for doc_id in ids}


class _GivenQueries:
    """Dense and sparse "encoders" answering each question with its prepared vector, so
    that ``retrieve`` is timed without the embedding model."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.dense: dict[str, list[float]] = {}
        self.sparse: dict[str, SparseVector] = {}

    @property
    def tokens(self) -> TokenCounter:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.dense[t] for t in texts]

    def embed_one(self, text: str) -> list[float]:
        return self.dense[text]

    def encode_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        raise NotImplementedError

    def encode_query(self, text: str) -> SparseVector:
        return self.sparse[text]


def _two_full_searches(
    index: ChunkIndex,
    retriever: HybridRetriever,
    given: _GivenQueries,
    question: str,
    flt: SearchFilter,
    top_k: int,
) -> int:
    """What ``retrieve`` did before it reused the first search: search, feed back, search
    again from scratch (dense feedback, the default). Returns the hits kept."""
    config = retriever.config
    dense, sparse = given.dense[question], given.sparse[question]

    def search(vector: Sequence[float]) -> list[str]:
        hits = index.search(
            dense=vector,
            sparse=sparse,
            flt=flt,
            limit=top_k * 2,
            prefetch_limit=max(config.prefetch_limit, top_k * 2),
            fusion=config.fusion,
        )
        served = retriever.served_memory({str(h.payload["document_id"]) for h in hits})
        return [h.id for h in hits if str(h.payload["document_id"]) in served]

    first = search(dense)
    stored = index.stored_vectors(first[: config.feedback_depth])
    moved = moved_query(dense, [v.dense for v in stored.values()], config.feedback_weight)
    return len(search(moved)[:top_k] if moved is not None else first[:top_k])


def retrieve_latencies(
    index: ChunkIndex, queries: int, dim: int, top_k: int, rng: np.random.Generator
) -> dict[str, tuple[float, float]]:
    """p50 and p95 in ms of ``retrieve`` per variant, the variants interleaved."""
    given = _GivenQueries(dim)
    plain = HybridRetriever(
        index, given, given, _every_document_served, RetrievalConfig(feedback_depth=0)
    )
    feedback = HybridRetriever(index, given, given, _every_document_served, RetrievalConfig())
    flt = SearchFilter(roles=frozenset({"eng"}))
    variants: dict[str, Callable[[str], object]] = {
        "retrieve, no feedback": lambda q: plain.retrieve(q, flt, top_k=top_k),
        "retrieve, feedback (reuses sides)": lambda q: feedback.retrieve(q, flt, top_k=top_k),
        "retrieve, feedback (2 full searches)": lambda q: _two_full_searches(
            index, feedback, given, q, flt, top_k
        ),
    }
    latencies: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(queries):
        question = str(i)
        dense = rng.standard_normal(dim)
        given.dense[question] = (dense / np.linalg.norm(dense)).tolist()
        terms = np.unique(rng.zipf(1.3, size=4) % VOCABULARY)
        given.sparse[question] = SparseVector(
            tuple(int(t) for t in terms), tuple(1.0 for _ in terms)
        )
        for name in names[i % 3 :] + names[: i % 3]:
            start = time.perf_counter()
            variants[name](question)
            latencies[name].append((time.perf_counter() - start) * 1000)
    out = {}
    for name, measured in latencies.items():
        measured.sort()
        out[name] = (statistics.median(measured), measured[int(0.95 * (len(measured) - 1))])
    return out


def measure_retrieve(
    path: Path, chunks: list[IndexedChunk], queries: int, dim: int, rng: np.random.Generator
) -> None:
    index = EdgeIndex(path, dim)
    try:
        index.ensure_ready()
        index.upsert(chunks)
        index.optimize()
        results = retrieve_latencies(index, queries, dim, 5, rng)
    finally:
        index.close()
    print(f"retrieve index work, EdgeIndex optimised, {len(chunks)} chunks, top 5, convex")
    print(f"fusion, {queries} queries per variant, interleaved")
    print(f"| {'variant':<38} | {'p50 ms':>8} | {'p95 ms':>8} |")
    print(f"|{'-' * 40}|{'-' * 10}|{'-' * 10}|")
    for name, (p50, p95) in results.items():
        print(f"| {name:<38} | {p50:>8.2f} | {p95:>8.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="chunks for qdrant-edge")
    parser.add_argument(
        "--client-n", type=int, default=2_000, help="chunks for local mode (0: skip it)"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--retrieve", action="store_true", help="time HybridRetriever.retrieve (edge, --n)"
    )
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    if args.retrieve:
        with tempfile.TemporaryDirectory(prefix="ragline-index-bench-") as tmp:
            chunks = synthetic_chunks(args.n, args.dim, rng)
            measure_retrieve(Path(tmp) / "edge", chunks, args.queries, args.dim, rng)
        return
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
