"""What ``QdrantClientIndex`` asks of one collection, by its concrete name.

Create and check a collection, write points, search, count, change roles: the same
calls whether the collection is the live generation, the one being built, or both
(a mirrored write), so the two cannot be asked differently.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from qdrant_client import QdrantClient, models

from kernel.errors import ConfigurationError
from retrieval.index.base import (
    INTEGER_INDEXED_FIELDS,
    KEYWORD_INDEXED_FIELDS,
    Hit,
    IndexedChunk,
    SearchFilter,
    Side,
    SideRanking,
    SparseVector,
    StoredVectors,
)
from retrieval.index.filters import match_any_conditions
from retrieval.index.ranking import SearchPlan, SideQuery, hits_of
from retrieval.index.validation import canonical_id, check_dense, check_sparse, payload_dict

DENSE = "dense"
SPARSE = "sparse"


def create_collection(client: QdrantClient, name: str, dim: int) -> None:
    try:
        client.create_collection(
            name,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
    except Exception:
        # Another process may have created it between the check and the call.
        if not client.collection_exists(name):
            raise


def prepare_collection(client: QdrantClient, name: str, dim: int) -> None:
    """Check the vectors of ``name`` and create the payload indexes it lacks."""
    info = client.get_collection(name)
    check_vector_config(info, dim)
    for field_name in (*KEYWORD_INDEXED_FIELDS, *INTEGER_INDEXED_FIELDS):
        if field_name in info.payload_schema:
            continue
        schema = (
            models.PayloadSchemaType.KEYWORD
            if field_name in KEYWORD_INDEXED_FIELDS
            else models.PayloadSchemaType.INTEGER
        )
        client.create_payload_index(name, field_name=field_name, field_schema=schema, wait=True)


def stored_vectors_in(
    client: QdrantClient, name: str, ids: Sequence[str]
) -> dict[str, StoredVectors]:
    records = client.retrieve(name, ids=list(ids), with_payload=False, with_vectors=True)
    out: dict[str, StoredVectors] = {}
    for record in records:
        vectors = record.vector if isinstance(record.vector, dict) else {}
        dense, sparse = vectors.get("dense"), vectors.get("sparse")
        if not isinstance(dense, list) or not isinstance(sparse, models.SparseVector):
            continue
        numbers = [float(x) for x in dense if isinstance(x, float | int)]
        if len(numbers) == len(dense):  # a plain vector, not a multivector
            out[canonical_id(str(record.id))] = StoredVectors(
                dense=numbers,
                sparse=SparseVector(tuple(sparse.indices), tuple(sparse.values)),
            )
    return out


def stored_texts_in(client: QdrantClient, name: str, ids: Sequence[str]) -> dict[str, str]:
    records = client.retrieve(name, ids=list(ids), with_payload=["text"], with_vectors=False)
    out: dict[str, str] = {}
    for record in records:
        text = (record.payload or {}).get("text")
        if isinstance(text, str):
            out[canonical_id(str(record.id))] = text
    return out


def search_in(client: QdrantClient, name: str, plan: SearchPlan, flt: SearchFilter) -> list[Hit]:
    """The plan's side queries in one batch, fused, then the payloads of the fused hits."""
    ranked = plan.combine(_side_answers(client, name, plan, flt))
    return hits_of(ranked, payloads_in(client, name, [point_id for point_id, _ in ranked]))


def rank_sides_in(
    client: QdrantClient, name: str, plan: SearchPlan, flt: SearchFilter
) -> dict[Side, SideRanking]:
    return plan.rank(_side_answers(client, name, plan, flt))


def payloads_in(
    client: QdrantClient, name: str, ids: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    records = client.retrieve(name, ids=list(ids), with_payload=True, with_vectors=False)
    return {canonical_id(str(r.id)): r.payload or {} for r in records}


def _side_answers(
    client: QdrantClient, name: str, plan: SearchPlan, flt: SearchFilter
) -> list[list[tuple[str, float]]]:
    query_filter = engine_filter(flt)
    requests = [side_request(side, query_filter) for side in plan.sides]
    answers = client.query_batch_points(name, requests=requests)
    return [[(canonical_id(str(p.id)), p.score) for p in answer.points] for answer in answers]


def count_in(client: QdrantClient, name: str, document_id: str | None) -> int:
    flt = None
    if document_id is not None:
        flt = models.Filter(must=[document_condition(document_id)])
    return client.count(name, count_filter=flt, exact=True).count


def set_roles_in(client: QdrantClient, name: str, document_id: str, roles: Sequence[str]) -> None:
    client.set_payload(
        name,
        payload={"roles": sorted(roles)},
        points=models.Filter(must=[document_condition(document_id)]),
        wait=True,
    )


def document_selector(document_id: str, keep_version: int | None) -> models.FilterSelector:
    must_not: list[models.Condition] | None = None
    if keep_version is not None:
        must_not = [
            models.FieldCondition(
                key="document_version", match=models.MatchValue(value=keep_version)
            )
        ]
    return models.FilterSelector(
        filter=models.Filter(must=[document_condition(document_id)], must_not=must_not)
    )


def version_selector(document_id: str, version: int) -> models.FilterSelector:
    version_condition = models.FieldCondition(
        key="document_version", match=models.MatchValue(value=version)
    )
    return models.FilterSelector(
        filter=models.Filter(must=[document_condition(document_id), version_condition])
    )


def point(chunk: IndexedChunk, dim: int) -> models.PointStruct:
    check_dense(chunk.dense, dim)
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


def check_vector_config(info: models.CollectionInfo, dim: int) -> None:
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


def engine_filter(flt: SearchFilter) -> models.Filter:
    must: list[models.Condition] = [
        models.FieldCondition(key=key, match=models.MatchAny(any=values))
        for key, values in match_any_conditions(flt)
    ]
    return models.Filter(must=must)


def document_condition(document_id: str) -> models.FieldCondition:
    return models.FieldCondition(key="document_id", match=models.MatchValue(value=document_id))


def side_request(side: SideQuery, engine_filter: models.Filter) -> models.QueryRequest:
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


def batches(items: list[models.PointStruct], size: int) -> Iterator[list[models.PointStruct]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
