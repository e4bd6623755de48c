"""``QdrantClientIndex``: the chunk index on a Qdrant server, or qdrant-client's local mode.

The distributed deployment points every process at one Qdrant server (``from_url``).
qdrant-client's local mode (``from_local_path``) runs the same client calls against a
pure-Python engine: slow and single-process, it is what the contract tests use to check
this adapter here, where no server can run.

A search is one ``query_batch_points`` call (a dense and a sparse query, each under the
caller's filter) and one ``retrieve`` of the payloads of the final hits; ranking and RRF
are done by ``retrieval.index.ranking`` exactly as for ``EdgeIndex``. Writes use
``wait=True`` so a search issued after ``upsert`` or ``delete_document`` returns sees them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from qdrant_client import QdrantClient, models

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

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

ENGINE = "qdrant"
DENSE = "dense"
SPARSE = "sparse"


class QdrantClientIndex:
    """``ChunkIndex`` over ``collection`` of a ``QdrantClient`` with ``dim``-sized vectors.

    ``serialize_reads`` makes searches take the write lock too: local mode's engine is
    plain Python data structures, not safe to read while another thread writes. A server
    needs no such lock. The index owns ``client`` and closes it in ``close``.

    Raises ``ValueError`` for a non-positive ``dim`` or ``batch_size`` (and, from its
    methods, for malformed chunks or queries); ``ConfigurationError`` from
    ``ensure_ready`` when the collection exists with other vector settings;
    ``DependencyUnavailableError`` for every engine failure or after ``close``.
    """

    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        dim: int,
        *,
        batch_size: int = 256,
        serialize_reads: bool = False,
    ) -> None:
        if dim < 1:
            raise ValueError("dim must be >= 1")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if not collection:
            raise ValueError("collection must be a non-empty name")
        self.collection = collection
        self.dim = dim
        self._client = client
        self._batch_size = batch_size
        self._write_lock = threading.Lock()
        self._read_lock: AbstractContextManager[object] = (
            self._write_lock if serialize_reads else contextlib.nullcontext()
        )
        self._closed = False

    def ensure_ready(self) -> None:
        self._check_open()
        with self._write_lock, engine_errors(ENGINE, "prepare the collection"):
            if not self._client.collection_exists(self.collection):
                self._create_collection()
            info = self._client.get_collection(self.collection)
            _check_vector_config(info, self.dim)
            for name in (*KEYWORD_INDEXED_FIELDS, *INTEGER_INDEXED_FIELDS):
                if name in info.payload_schema:
                    continue
                schema = (
                    models.PayloadSchemaType.KEYWORD
                    if name in KEYWORD_INDEXED_FIELDS
                    else models.PayloadSchemaType.INTEGER
                )
                self._client.create_payload_index(
                    self.collection, field_name=name, field_schema=schema, wait=True
                )

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        points = [self._point(chunk) for chunk in chunks]  # validate all before writing any
        if not points:
            return
        self._check_open()
        with self._write_lock, engine_errors(ENGINE, "write chunks"):
            for batch in _batches(points, self._batch_size):
                self._client.upsert(self.collection, points=batch, wait=True)

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
        self._check_open()
        engine_filter = _client_filter(flt)
        requests = [_side_request(side, engine_filter) for side in plan.sides]
        with self._read_lock, engine_errors(ENGINE, "search"):
            answers = self._client.query_batch_points(self.collection, requests=requests)
            ranked = plan.combine(
                [[(canonical_id(str(p.id)), p.score) for p in answer.points] for answer in answers]
            )
            records = self._client.retrieve(
                self.collection,
                ids=[point_id for point_id, _ in ranked],
                with_payload=True,
                with_vectors=False,
            )
        payloads = {canonical_id(str(r.id)): r.payload or {} for r in records}
        # A point deleted between the query and the payload read is simply gone.
        return [
            Hit(id=point_id, score=score, payload=payloads[point_id])
            for point_id, score in ranked
            if point_id in payloads
        ]

    def delete_document(self, document_id: str, *, keep_version: int | None = None) -> None:
        must_not: list[models.Condition] | None = None
        if keep_version is not None:
            must_not = [
                models.FieldCondition(
                    key="document_version", match=models.MatchValue(value=keep_version)
                )
            ]
        selector = models.FilterSelector(
            filter=models.Filter(must=[_document_condition(document_id)], must_not=must_not)
        )
        self._check_open()
        with self._write_lock, engine_errors(ENGINE, "delete a document's chunks"):
            self._client.delete(self.collection, points_selector=selector, wait=True)

    def delete_version(self, document_id: str, version: int) -> None:
        version_condition = models.FieldCondition(
            key="document_version", match=models.MatchValue(value=version)
        )
        selector = models.FilterSelector(
            filter=models.Filter(must=[_document_condition(document_id), version_condition])
        )
        self._check_open()
        with self._write_lock, engine_errors(ENGINE, "delete a version's chunks"):
            self._client.delete(self.collection, points_selector=selector, wait=True)

    def set_roles(self, document_id: str, roles: Sequence[str]) -> None:
        self._check_open()
        with self._write_lock, engine_errors(ENGINE, "change a document's roles"):
            self._client.set_payload(
                self.collection,
                payload={"roles": sorted(roles)},
                points=models.Filter(must=[_document_condition(document_id)]),
                wait=True,
            )

    def count(self, *, document_id: str | None = None) -> int:
        flt = None
        if document_id is not None:
            flt = models.Filter(must=[_document_condition(document_id)])
        self._check_open()
        with self._read_lock, engine_errors(ENGINE, "count chunks"):
            return self._client.count(self.collection, count_filter=flt, exact=True).count

    def close(self) -> None:
        """Close the client (local mode: release its folder); idempotent; later calls raise.

        Best effort: a failure is logged, not raised, so shutting down never fails.
        """
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - shutdown is best effort; logged with traceback
                logger.warning("%s: could not close the client cleanly", ENGINE, exc_info=True)

    def _check_open(self) -> None:
        if self._closed:
            raise DependencyUnavailableError("The search index is closed.")

    def _create_collection(self) -> None:
        try:
            self._client.create_collection(
                self.collection,
                vectors_config={
                    DENSE: models.VectorParams(size=self.dim, distance=models.Distance.COSINE)
                },
                sparse_vectors_config={
                    SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )
        except Exception:
            # Another process may have created it between the check and the call.
            if not self._client.collection_exists(self.collection):
                raise

    def _point(self, chunk: IndexedChunk) -> models.PointStruct:
        check_dense(chunk.dense, self.dim)
        check_sparse(chunk.sparse)
        return models.PointStruct(
            id=canonical_id(chunk.id),
            vector={
                DENSE: [float(x) for x in chunk.dense],
                SPARSE: models.SparseVector(
                    indices=list(chunk.sparse.indices), values=list(chunk.sparse.values)
                ),
            },
            payload=payload_dict(chunk.payload),
        )


def from_url(
    url: str,
    api_key: SecretStr | str | None,
    collection: str,
    dim: int,
    *,
    timeout_s: int = 10,
) -> QdrantClientIndex:
    """An index on the Qdrant server at ``url``; nothing is contacted until first use.

    The client's background version check is off: it would contact the server from the
    constructor and report only through warnings; ``ensure_ready`` is the real check.
    """
    key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    client = QdrantClient(
        url=url, api_key=key or None, timeout=timeout_s, check_compatibility=False
    )
    return QdrantClientIndex(client, collection, dim)


def from_local_path(path: Path, collection: str, dim: int) -> QdrantClientIndex:
    """An index in qdrant-client's local mode under ``path`` (one process at a time).

    Raises ``DependencyUnavailableError`` when another client holds the folder.
    """
    try:
        client = QdrantClient(path=str(path))
    except Exception as exc:
        raise DependencyUnavailableError(
            "The search index is in use by another client; local mode allows one at a time."
        ) from exc
    return QdrantClientIndex(client, collection, dim, serialize_reads=True)


def _check_vector_config(info: models.CollectionInfo, dim: int) -> None:
    vectors = info.config.params.vectors
    sparse = info.config.params.sparse_vectors or {}
    dense = vectors.get(DENSE) if isinstance(vectors, dict) else None
    sparse_params = sparse.get(SPARSE)
    if (
        dense is None
        or dense.size != dim
        or dense.distance != models.Distance.COSINE
        or sparse_params is None
        or sparse_params.modifier != models.Modifier.IDF
    ):
        raise ConfigurationError(
            "The search index collection exists with a different vector configuration "
            f"(expected {dim}-dim cosine 'dense' and IDF 'sparse' vectors); re-index into "
            "a new collection."
        )


def _client_filter(flt: SearchFilter) -> models.Filter:
    must: list[models.Condition] = [
        models.FieldCondition(key=key, match=models.MatchAny(any=values))
        for key, values in match_any_conditions(flt)
    ]
    return models.Filter(must=must)


def _document_condition(document_id: str) -> models.FieldCondition:
    return models.FieldCondition(key="document_id", match=models.MatchValue(value=document_id))


def _side_request(side: SideQuery, engine_filter: models.Filter) -> models.QueryRequest:
    vector = side.vector
    query: models.SparseVector | list[float]
    if isinstance(vector, SparseVector):
        query = models.SparseVector(indices=list(vector.indices), values=list(vector.values))
    else:
        query = [float(x) for x in vector]
    return models.QueryRequest(
        query=query,
        using=side.side,
        filter=engine_filter,
        limit=side.limit,
        with_payload=False,
        with_vector=False,
    )


def _batches(items: list[models.PointStruct], size: int) -> Iterator[list[models.PointStruct]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
