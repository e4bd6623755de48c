"""What an ``EdgeIndex`` sends to a qdrant-edge shard, built from the port's values.

Points (validated first), update operations (upsert, delete by document or version,
set roles) and query requests under the caller's filter: plain values, so the live
index and a generation being built send exactly the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from qdrant_edge import (
    FieldCondition,
    Filter,
    MatchAny,
    MatchValue,
    Point,
    Query,
    QueryRequest,
    UpdateOperation,
)
from qdrant_edge import SparseVector as EdgeSparseVector

from retrieval.index.base import IndexedChunk, SearchFilter, SparseVector, StoredVectors
from retrieval.index.filters import match_any_conditions
from retrieval.index.ranking import SideQuery
from retrieval.index.validation import canonical_id, check_dense, check_sparse, payload_dict

if TYPE_CHECKING:  # aliases that exist only in qdrant-edge's stub
    from qdrant_edge import ConditionType, NamedVector

DENSE = "dense"
SPARSE = "sparse"


def point(chunk: IndexedChunk, dim: int) -> Point:
    """A shard point; ``ValueError`` for a malformed chunk (see ``validation``)."""
    check_dense(chunk.dense, dim)
    check_sparse(chunk.sparse)
    vectors: dict[str, NamedVector] = {
        DENSE: [float(x) for x in chunk.dense],
        SPARSE: EdgeSparseVector(list(chunk.sparse.indices), list(chunk.sparse.values)),
    }
    return Point(canonical_id(chunk.id), vectors, payload_dict(chunk.payload))


def upserts(points: list[Point], size: int) -> list[UpdateOperation]:
    return [UpdateOperation.upsert_points(batch) for batch in _batches(points, size)]


def delete_document_op(document_id: str, keep_version: int | None) -> UpdateOperation:
    must: list[ConditionType] = [FieldCondition("document_id", match=MatchValue(document_id))]
    must_not: list[ConditionType] | None = None
    if keep_version is not None:
        must_not = [FieldCondition("document_version", match=MatchValue(keep_version))]
    return UpdateOperation.delete_points_by_filter(Filter(must=must, must_not=must_not))


def delete_version_op(document_id: str, version: int) -> UpdateOperation:
    must: list[ConditionType] = [
        FieldCondition("document_id", match=MatchValue(document_id)),
        FieldCondition("document_version", match=MatchValue(version)),
    ]
    return UpdateOperation.delete_points_by_filter(Filter(must=must))


def set_roles_op(document_id: str, roles: Sequence[str]) -> UpdateOperation:
    flt = Filter(must=[FieldCondition("document_id", match=MatchValue(document_id))])
    return UpdateOperation.set_payload_by_filter(flt, {"roles": sorted(roles)})


def engine_filter(flt: SearchFilter) -> Filter:
    must: list[ConditionType] = [
        FieldCondition(key, match=MatchAny(values)) for key, values in match_any_conditions(flt)
    ]
    return Filter(must=must)


def side_request(side: SideQuery, engine_filter: Filter) -> QueryRequest:
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


def _batches(items: list[Point], size: int) -> Iterator[list[Point]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def vectors_of(records: Iterable[Any]) -> dict[str, StoredVectors]:
    """``{id: vectors}`` of retrieved records; a record missing either vector is left out."""
    out: dict[str, StoredVectors] = {}
    for record in records:
        vectors = record.vector if isinstance(record.vector, dict) else {}
        dense, sparse = vectors.get("dense"), vectors.get("sparse")
        if dense is None or sparse is None:
            continue
        out[str(record.id)] = StoredVectors(
            dense=[float(x) for x in dense],
            sparse=SparseVector(
                indices=tuple(int(i) for i in sparse.indices),
                values=tuple(float(v) for v in sparse.values),
            ),
        )
    return out


def texts_of(records: Iterable[Any]) -> dict[str, str]:
    """``{id: text}`` of retrieved records; a record without a text payload is left out."""
    out: dict[str, str] = {}
    for record in records:
        text = (record.payload or {}).get("text")
        if isinstance(text, str):
            out[str(record.id)] = text
    return out
