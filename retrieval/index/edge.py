"""``EdgeIndex``: the chunk index inside the ragline process, on qdrant-edge.

qdrant-edge is Qdrant's engine as a library (HNSW, sparse vectors with the IDF modifier,
payload indexes, a write-ahead log), so the embedded mode needs no server. One process
owns a shard directory: a second open, from any process, fails on the WAL lock and is
reported as "in use by another process". Within the process one ``EdgeIndex`` is shared
by all threads: searches run concurrently; writes, opening and closing take a lock.

The shard is opened (created if the directory holds none) by ``ensure_ready`` or by the
first operation that needs it. Upserts are durable once ``upsert`` returns (the WAL),
without ``flush``.

Known difference from qdrant-client's local mode: edge computes IDF from its sparse
index, which (like a Qdrant server) keeps counting deleted points until a segment
optimisation drops them, while local mode counts live points only. BM25 scores, hence
hybrid orders, can differ slightly between the two after deletions; on the same live
data they agree (``tests/contract``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    MatchAny,
    MatchValue,
    Modifier,
    PayloadSchemaType,
    Point,
    Query,
    QueryBatchRequest,
    QueryRequest,
    UpdateOperation,
)
from qdrant_edge import SparseVector as EdgeSparseVector

from kernel.errors import ConfigurationError, DependencyUnavailableError
from retrieval.index.base import (
    INTEGER_INDEXED_FIELDS,
    KEYWORD_INDEXED_FIELDS,
    Hit,
    IndexedChunk,
    SearchFilter,
    SearchMode,
    SparseVector,
)
from retrieval.index.engine_errors import engine_errors, logger
from retrieval.index.filters import match_any_conditions
from retrieval.index.ranking import SideQuery, plan_search
from retrieval.index.validation import canonical_id, check_dense, check_sparse, payload_dict

if TYPE_CHECKING:  # aliases that exist only in qdrant-edge's stub
    from qdrant_edge import ConditionType, NamedVector

ENGINE = "qdrant-edge"
DENSE = "dense"
SPARSE = "sparse"


class EdgeIndex:
    """``ChunkIndex`` over a qdrant-edge shard at ``path`` with ``dim``-sized dense vectors.

    Raises ``ValueError`` for a non-positive ``dim`` or ``batch_size`` (and, from its
    methods, for malformed chunks or queries); ``ConfigurationError`` when the shard at
    ``path`` was built with another vector size; ``DependencyUnavailableError`` for every
    engine failure, including a shard held by another process or an index already closed.
    """

    def __init__(self, path: Path, dim: int, *, batch_size: int = 512) -> None:
        if dim < 1:
            raise ValueError("dim must be >= 1")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.path = Path(path)
        self.dim = dim
        self._batch_size = batch_size
        self._write_lock = threading.Lock()
        self._shard: EdgeShard | None = None
        self._closed = False

    def ensure_ready(self) -> None:
        with self._write_lock:
            shard = self._open_locked()
            with engine_errors(ENGINE, "create payload indexes"):
                existing = shard.info().payload_schema
                for name in KEYWORD_INDEXED_FIELDS:
                    if name not in existing:
                        shard.update(
                            UpdateOperation.create_field_index(name, PayloadSchemaType.Keyword)
                        )
                for name in INTEGER_INDEXED_FIELDS:
                    if name not in existing:
                        shard.update(
                            UpdateOperation.create_field_index(name, PayloadSchemaType.Integer)
                        )

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        points = [self._point(chunk) for chunk in chunks]  # validate all before writing any
        if not points:
            return
        shard = self._ready_shard()
        with self._write_lock, engine_errors(ENGINE, "write chunks"):
            for batch in _batches(points, self._batch_size):
                shard.update(UpdateOperation.upsert_points(batch))

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
    ) -> list[Hit]:
        plan = plan_search(
            dense=dense,
            sparse=sparse,
            flt=flt,
            limit=limit,
            mode=mode,
            prefetch_limit=prefetch_limit,
            rrf_k=rrf_k,
            dim=self.dim,
        )
        if plan is None:
            return []
        shard = self._ready_shard()
        engine_filter = _edge_filter(flt)
        requests = [_side_request(side, engine_filter) for side in plan.sides]
        with engine_errors(ENGINE, "search"):
            if len(requests) == 1:
                answers = [shard.query(requests[0])]
            else:
                answers = shard.query_batch(QueryBatchRequest(requests))
            ranked = plan.combine([[(str(p.id), p.score) for p in answer] for answer in answers])
            records = shard.retrieve(
                [point_id for point_id, _ in ranked], with_payload=True, with_vector=False
            )
        payloads = {str(record.id): record.payload or {} for record in records}
        # A point deleted between the query and the payload read is simply gone.
        return [
            Hit(id=point_id, score=score, payload=payloads[point_id])
            for point_id, score in ranked
            if point_id in payloads
        ]

    def delete_document(self, document_id: str, *, keep_version: int | None = None) -> None:
        must: list[ConditionType] = [FieldCondition("document_id", match=MatchValue(document_id))]
        must_not: list[ConditionType] | None = None
        if keep_version is not None:
            must_not = [FieldCondition("document_version", match=MatchValue(keep_version))]
        shard = self._ready_shard()
        with self._write_lock, engine_errors(ENGINE, "delete a document's chunks"):
            shard.update(
                UpdateOperation.delete_points_by_filter(Filter(must=must, must_not=must_not))
            )

    def delete_version(self, document_id: str, version: int) -> None:
        must: list[ConditionType] = [
            FieldCondition("document_id", match=MatchValue(document_id)),
            FieldCondition("document_version", match=MatchValue(version)),
        ]
        shard = self._ready_shard()
        with self._write_lock, engine_errors(ENGINE, "delete a version's chunks"):
            shard.update(UpdateOperation.delete_points_by_filter(Filter(must=must)))

    def set_roles(self, document_id: str, roles: Sequence[str]) -> None:
        flt = Filter(must=[FieldCondition("document_id", match=MatchValue(document_id))])
        shard = self._ready_shard()
        with self._write_lock, engine_errors(ENGINE, "change a document's roles"):
            shard.update(UpdateOperation.set_payload_by_filter(flt, {"roles": sorted(roles)}))

    def count(self, *, document_id: str | None = None) -> int:
        flt = None
        if document_id is not None:
            flt = Filter(must=[FieldCondition("document_id", match=MatchValue(document_id))])
        shard = self._ready_shard()
        with engine_errors(ENGINE, "count chunks"):
            return shard.count(CountRequest(exact=True, filter=flt))

    def close(self) -> None:
        """Release the shard and its WAL lock; idempotent; later operations raise.

        Best effort: a failure to flush or close is logged, not raised, so shutting down
        never fails because the engine already broke (the WAL holds acknowledged writes).
        """
        with self._write_lock:
            self._closed = True
            shard, self._shard = self._shard, None
            if shard is None:
                return
            try:
                shard.flush()
                shard.close()
            except Exception:  # noqa: BLE001 - shutdown is best effort; logged with traceback
                logger.warning("%s: could not close the index cleanly", ENGINE, exc_info=True)

    def __enter__(self) -> EdgeIndex:
        self.ensure_ready()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _ready_shard(self) -> EdgeShard:
        shard = self._shard
        if shard is None:
            self.ensure_ready()
            shard = self._shard
        if shard is None or self._closed:
            raise DependencyUnavailableError("The search index is closed.")
        return shard

    def _open_locked(self) -> EdgeShard:
        if self._closed:
            raise DependencyUnavailableError("The search index is closed.")
        if self._shard is not None:
            return self._shard
        config = EdgeConfig(
            vectors={DENSE: EdgeVectorParams(size=self.dim, distance=Distance.Cosine)},
            sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # With a config, load creates the shard in an empty directory and checks an
            # existing one against it.
            self._shard = EdgeShard.load(str(self.path), config)
        except Exception as exc:
            raise _open_error(exc) from exc
        return self._shard

    def _point(self, chunk: IndexedChunk) -> Point:
        check_dense(chunk.dense, self.dim)
        check_sparse(chunk.sparse)
        vectors: dict[str, NamedVector] = {
            DENSE: [float(x) for x in chunk.dense],
            SPARSE: EdgeSparseVector(list(chunk.sparse.indices), list(chunk.sparse.values)),
        }
        return Point(canonical_id(chunk.id), vectors, payload_dict(chunk.payload))


def _edge_filter(flt: SearchFilter) -> Filter:
    must: list[ConditionType] = [
        FieldCondition(key, match=MatchAny(values)) for key, values in match_any_conditions(flt)
    ]
    return Filter(must=must)


def _side_request(side: SideQuery, engine_filter: Filter) -> QueryRequest:
    vector = side.vector
    if isinstance(vector, SparseVector):
        query = Query.Nearest(
            EdgeSparseVector(list(vector.indices), list(vector.values)), using=SPARSE
        )
    else:
        query = Query.Nearest([float(x) for x in vector], using=DENSE)
    return QueryRequest(
        limit=side.limit,
        query=query,
        filter=engine_filter,
        with_payload=False,
        with_vector=False,
    )


def _open_error(exc: Exception) -> Exception:
    """Name the two failures an operator can act on; everything else is an outage."""
    text = str(exc)
    logger.warning("%s: could not open the index", ENGINE, exc_info=True)
    if "incompatible" in text.lower():
        return ConfigurationError(
            "The search index was built with a different vector configuration "
            "(embedding size); re-index or point the service at a new index."
        )
    if "WAL" in text or "WouldBlock" in text:
        return DependencyUnavailableError(
            "The search index is in use by another process; only one process may open "
            "the embedded index at a time (send writes through the running server)."
        )
    return DependencyUnavailableError(
        f"The search index is unavailable: {ENGINE} could not open the index."
    )


def _batches(items: list[Point], size: int) -> Iterator[list[Point]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
