"""The ``ChunkIndex`` and ``GenerationalIndex`` contracts, run against every adapter.

``EdgeIndex`` (qdrant-edge, in-process) and ``QdrantClientIndex`` in qdrant-client's
local mode (the same client code that talks to a Qdrant server) get the same upserts,
filters and queries and must give the same ids in the same order. Dense vectors are
small (dim 8) and built by hand so the expected order is known; sparse vectors come
from the real BM25 encoder.
"""

from __future__ import annotations

import gc
import math
import random
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr
from qdrant_client import QdrantClient, models
from qdrant_edge import (
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    Modifier,
    Point,
    UpdateOperation,
)
from qdrant_edge import SparseVector as EdgeSparseVector

from kernel.errors import (
    ConfigurationError,
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
)
from retrieval.index.base import (
    DEFAULT_FUSION,
    ChunkIndex,
    Fusion,
    GenerationalIndex,
    Hit,
    IndexedChunk,
    SearchFilter,
    SearchMode,
)
from retrieval.index.client import QdrantClientIndex, from_local_path, from_url
from retrieval.index.edge import EdgeIndex
from retrieval.sparse import BM25SparseEncoder

pytestmark = [
    pytest.mark.service,
    # qdrant-client's local mode warns that payload indexes do nothing there; the
    # adapter creates them because a Qdrant server needs them.
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning"),
]

DIM = 8
ADAPTERS = ("edge", "client")
MODES: tuple[SearchMode, ...] = ("dense", "sparse", "hybrid")
ENG = SearchFilter(roles=frozenset({"eng"}))
HR = SearchFilter(roles=frozenset({"hr"}))

Opener = Callable[[Path, int], ChunkIndex]


def open_edge(path: Path, dim: int = DIM) -> ChunkIndex:
    return EdgeIndex(path / "edge", dim)


def open_client(path: Path, dim: int = DIM) -> ChunkIndex:
    return from_local_path(path / "qdrant-local", "chunks", dim)


OPENERS: dict[str, Opener] = {"edge": open_edge, "client": open_client}


@pytest.fixture(scope="module")
def encoder() -> BM25SparseEncoder:
    return BM25SparseEncoder()


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def index(adapter: str, tmp_path: Path) -> Iterator[ChunkIndex]:
    idx = OPENERS[adapter](tmp_path, DIM)
    idx.ensure_ready()
    yield idx
    idx.close()


# --- test data ------------------------------------------------------------------------


def cid(name: str) -> str:
    """A stable UUID per test chunk name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ragline-test/{name}"))


def vec(*weights: tuple[int, float]) -> list[float]:
    """A dense vector from (axis, weight) pairs."""
    v = [0.0] * DIM
    for axis, weight in weights:
        v[axis] = weight
    return v


def chunk(
    encoder: BM25SparseEncoder,
    name: str,
    text: str,
    dense: Sequence[float],
    *,
    roles: Sequence[str],
    document_id: str = "doc-a",
    version: int = 1,
    doc_type: str = "pdf",
    bucket: str = "main",
    title: str = "t",
) -> IndexedChunk:
    return IndexedChunk(
        id=cid(name),
        dense=dense,
        sparse=encoder.encode_documents([text])[0],
        payload={
            "document_id": document_id,
            "document_version": version,
            "bucket": bucket,
            "doc_type": doc_type,
            "roles": list(roles),
            "title": title,
            "text": text,
            "name": name,
        },
    )


def names(hits: Sequence[Hit]) -> list[str]:
    return [str(h.payload["name"]) for h in hits]


QUERY_DENSE = vec((0, 1.0))
QUERY_TEXT = "salary bands"


def role_corpus(encoder: BM25SparseEncoder) -> list[IndexedChunk]:
    """The best match on both sides is hr-only; another is visible to nobody.

    Dense (cosine to axis 0): hr-secret = nobody = 1.0 > eng-1 .99 > eng-2 .71 > both .29.
    Sparse (BM25 on "salary bands"): nobody > hr-secret > both (short) > eng-1 (longer);
    eng-2 and hr-2 have none of the terms.
    """
    return [
        chunk(
            encoder,
            "hr-secret",
            "salary bands salary bands confidential",
            vec((0, 1.0)),
            roles=["hr"],
        ),
        chunk(encoder, "nobody", "salary bands salary bands", vec((0, 1.0)), roles=[]),
        chunk(
            encoder,
            "eng-1",
            "salary bands overview engineering ladder promotions",
            vec((0, 0.9), (1, 0.1)),
            roles=["eng"],
        ),
        chunk(encoder, "eng-2", "office parking rules", vec((0, 0.5), (2, 0.5)), roles=["eng"]),
        chunk(encoder, "hr-2", "holiday calendar", vec((3, 1.0)), roles=["hr"]),
        chunk(
            encoder,
            "both",
            "bands of the salary committee",
            vec((0, 0.3), (4, 1.0)),
            roles=["eng", "hr"],
        ),
    ]


def search(
    idx: ChunkIndex,
    encoder: BM25SparseEncoder,
    flt: SearchFilter,
    mode: SearchMode = "hybrid",
    *,
    limit: int = 10,
    dense: Sequence[float] = QUERY_DENSE,
    text: str = QUERY_TEXT,
    fusion: Fusion = DEFAULT_FUSION,
) -> list[Hit]:
    return idx.search(
        dense=dense,
        sparse=encoder.encode_query(text),
        flt=flt,
        limit=limit,
        mode=mode,
        fusion=fusion,
    )


# --- lifecycle and writes -------------------------------------------------------------


def test_ensure_ready_is_idempotent(index: ChunkIndex, encoder: BM25SparseEncoder) -> None:
    assert index.count() == 0
    index.upsert(role_corpus(encoder))
    index.ensure_ready()
    index.ensure_ready()
    assert index.count() == 6
    assert names(search(index, encoder, ENG)) == ["eng-1", "both", "eng-2"]


def test_upsert_is_idempotent_by_id(index: ChunkIndex, encoder: BM25SparseEncoder) -> None:
    corpus = role_corpus(encoder)
    index.upsert(corpus)
    index.upsert(corpus)
    assert index.count() == len(corpus)

    # Same id, new payload: still one point, and the new payload is what comes back.
    renamed = chunk(
        encoder,
        "eng-1",
        "salary bands overview engineering ladder promotions",
        vec((0, 0.9), (1, 0.1)),
        roles=["eng"],
        title="renamed",
    )
    index.upsert([renamed])
    assert index.count() == len(corpus)
    hits = search(index, encoder, ENG, "dense")
    assert hits[0].id == cid("eng-1")
    assert hits[0].payload["title"] == "renamed"


def test_stored_vectors_are_what_was_written_dense_normalised(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = role_corpus(encoder)
    index.upsert(corpus)
    stored = index.stored_vectors([cid("eng-1"), cid("both"), cid("never-written")])
    assert set(stored) == {cid("eng-1"), cid("both")}
    for name in ("eng-1", "both"):
        written = next(c for c in corpus if c.id == cid(name))
        norm = sum(x * x for x in written.dense) ** 0.5
        # Cosine collections keep vectors normalised: the direction is what comes back.
        assert stored[cid(name)].dense == pytest.approx([x / norm for x in written.dense], abs=1e-5)
        assert stored[cid(name)].sparse.indices == written.sparse.indices
        assert stored[cid(name)].sparse.values == pytest.approx(written.sparse.values)
    assert index.stored_vectors([]) == {}


def test_stored_texts_are_what_was_written_and_go_with_the_document(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = versioned_corpus(encoder)
    index.upsert(corpus)
    a_ids = [c.id for c in corpus if c.payload["document_id"] == "doc-a"]
    b_ids = [c.id for c in corpus if c.payload["document_id"] == "doc-b"]
    texts = index.stored_texts([*a_ids, b_ids[0], cid("never-written")])
    assert texts == {c.id: c.payload["text"] for c in corpus if c.id in {*a_ids, b_ids[0]}}
    assert index.stored_texts([]) == {}

    index.delete_document("doc-a")

    assert index.stored_texts(a_ids) == {}
    assert set(index.stored_texts([*a_ids, *b_ids])) == set(b_ids)


def test_upsert_of_nothing_is_a_no_op(index: ChunkIndex) -> None:
    index.upsert([])
    assert index.count() == 0


def test_malformed_chunks_are_refused_before_any_write(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    good = role_corpus(encoder)[0]
    bad_id = IndexedChunk("not-a-uuid", good.dense, good.sparse, good.payload)
    bad_dim = IndexedChunk(cid("x"), [1.0] * (DIM + 1), good.sparse, good.payload)
    for bad in (bad_id, bad_dim):
        with pytest.raises(ValueError):
            index.upsert([good, bad])
    assert index.count() == 0


# --- access control: the filter is applied by the engine, on every side ----------------


@pytest.mark.parametrize("mode", MODES)
def test_role_filter_hides_the_best_match_from_other_roles(
    index: ChunkIndex, encoder: BM25SparseEncoder, mode: SearchMode
) -> None:
    """The "score mask" trap: fewer allowed chunks than ``limit``, the best one forbidden."""
    index.upsert(role_corpus(encoder))
    expected_eng = {
        "dense": ["eng-1", "eng-2", "both"],
        "sparse": ["both", "eng-1"],
        "hybrid": ["eng-1", "both", "eng-2"],
    }[mode]
    expected_hr = {
        "dense": ["hr-secret", "both", "hr-2"],
        "sparse": ["hr-secret", "both"],
        "hybrid": ["hr-secret", "both", "hr-2"],
    }[mode]
    assert names(search(index, encoder, ENG, mode, limit=10)) == expected_eng
    # The control: for hr the hidden chunk is the best match, so the test above can fail.
    assert names(search(index, encoder, HR, mode, limit=10)) == expected_hr
    # A small limit must still be filled with allowed chunks only.
    assert names(search(index, encoder, ENG, mode, limit=1)) == expected_eng[:1]


@pytest.mark.parametrize("mode", MODES)
def test_chunk_without_roles_is_returned_to_nobody(
    index: ChunkIndex, encoder: BM25SparseEncoder, mode: SearchMode
) -> None:
    index.upsert(role_corpus(encoder))
    every_role = SearchFilter(roles=frozenset({"eng", "hr", "admin", "public", ""}))
    hits = search(index, encoder, every_role, mode)
    assert "nobody" not in names(hits)
    assert names(hits)[0] == "hr-secret"


def test_empty_roles_return_nothing_without_querying(
    adapter: str, tmp_path: Path, encoder: BM25SparseEncoder
) -> None:
    idx = OPENERS[adapter](tmp_path, DIM)
    idx.ensure_ready()
    idx.upsert(role_corpus(encoder))
    no_roles = SearchFilter(roles=frozenset())
    assert search(idx, encoder, no_roles) == []
    idx.close()
    # A closed index raises on any query, so an empty answer here proves none was made.
    for mode in MODES:
        assert search(idx, encoder, no_roles, mode) == []
    with pytest.raises(DependencyUnavailableError):
        search(idx, encoder, ENG)


# --- narrowing filters ----------------------------------------------------------------


def narrowing_corpus(encoder: BM25SparseEncoder) -> list[IndexedChunk]:
    """Four chunks, all visible to eng, dense similarity falling with the number."""
    spec = [
        ("n1", "doc-a", "pdf", "main"),
        ("n2", "doc-b", "html", "main"),
        ("n3", "doc-c", "pdf", "legal"),
        ("n4", "doc-d", "docx", "legal"),
    ]
    return [
        chunk(
            encoder,
            name,
            f"salary bands {name}",
            vec((0, 1.0), (1, 0.2 * i)),
            roles=["eng"],
            document_id=doc,
            doc_type=doc_type,
            bucket=bucket,
        )
        for i, (name, doc, doc_type, bucket) in enumerate(spec)
    ]


@pytest.mark.parametrize(
    ("narrowing", "expected"),
    [
        ({}, ["n1", "n2", "n3", "n4"]),
        ({"doc_types": frozenset({"pdf"})}, ["n1", "n3"]),
        ({"doc_types": frozenset({"pdf", "docx"})}, ["n1", "n3", "n4"]),
        ({"buckets": frozenset({"legal"})}, ["n3", "n4"]),
        ({"document_ids": frozenset({"doc-b", "doc-d"})}, ["n2", "n4"]),
        ({"doc_types": frozenset({"pdf"}), "buckets": frozenset({"legal"})}, ["n3"]),
        ({"doc_types": frozenset({"html"}), "buckets": frozenset({"legal"})}, []),
        ({"doc_types": frozenset()}, []),
        ({"buckets": frozenset({"nope"})}, []),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_narrowing_filters(
    index: ChunkIndex,
    encoder: BM25SparseEncoder,
    mode: SearchMode,
    narrowing: dict[str, frozenset[str]],
    expected: list[str],
) -> None:
    index.upsert(narrowing_corpus(encoder))
    flt = SearchFilter(roles=frozenset({"eng"}), **narrowing)
    hits = search(index, encoder, flt, mode)
    if mode == "dense":
        assert names(hits) == expected
    else:
        # BM25 and RRF orders depend on lengths and ties; the set is what narrowing decides.
        assert sorted(names(hits)) == expected
    # Narrowing never widens past the roles.
    assert search(index, encoder, SearchFilter(roles=frozenset({"hr"}), **narrowing)) == []


# --- ranking: RRF, ties, identical across adapters -------------------------------------


def tie_corpus(encoder: BM25SparseEncoder) -> list[IndexedChunk]:
    """Exact ties on both sides, inserted in reverse id order so engines cannot agree by luck.

    dup-x and dup-y: same text, same vector (tie on both sides).
    same-text: dup's text, a weaker vector (ties dup-* on the sparse side only).
    dense-only: the best vector, none of the query terms.
    """
    specs = [
        ("dup-x", "salary bands review", vec((0, 1.0), (1, 0.5))),
        ("dup-y", "salary bands review", vec((0, 1.0), (1, 0.5))),
        ("same-text", "salary bands review", vec((0, 1.0), (2, 1.0))),
        ("dense-only", "parking rules", vec((0, 1.0), (1, 0.1))),
        ("sparse-best", "salary bands", vec((5, 1.0))),
    ]
    chunks = [chunk(encoder, name, text, dense, roles=["eng"]) for name, text, dense in specs]
    return sorted(chunks, key=lambda c: c.id, reverse=True)


def expected_tie_order() -> list[tuple[str, float]]:
    """Hand-ranked, ties by id, fused with Qdrant's RRF (k=60, 0-based positions);
    equal sums go to the better dense position, then the id."""
    by_id = sorted(["dup-x", "dup-y"], key=cid)
    dense_rank = ["dense-only", *by_id, "same-text", "sparse-best"]
    sparse_rank = ["sparse-best", *sorted([*by_id, "same-text"], key=cid)]
    fused: dict[str, float] = {}
    for ranking in (dense_rank, sparse_rank):
        for position, name in enumerate(ranking):
            fused[name] = fused.get(name, 0.0) + 1 / (60 + position)
    return sorted(
        fused.items(), key=lambda item: (-item[1], dense_rank.index(item[0]), cid(item[0]))
    )


def test_hybrid_rrf_breaks_ties_by_dense_rank_then_id(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    index.upsert(tie_corpus(encoder))
    hits = search(index, encoder, ENG, "hybrid", limit=5, fusion=Fusion(method="rrf"))
    expected = expected_tie_order()
    assert names(hits) == [name for name, _ in expected]
    assert [h.score for h in hits] == pytest.approx([score for _, score in expected])
    dense_hits = search(index, encoder, ENG, "dense", limit=3)
    assert names(dense_hits) == ["dense-only", *sorted(["dup-x", "dup-y"], key=cid)]


def test_rrf_k_changes_the_scores(index: ChunkIndex, encoder: BM25SparseEncoder) -> None:
    index.upsert(tie_corpus(encoder))
    hits = index.search(
        dense=QUERY_DENSE,
        sparse=encoder.encode_query(QUERY_TEXT),
        flt=ENG,
        limit=1,
        fusion=Fusion(method="rrf", rrf_k=1),
    )
    # sparse-best: sparse position 0 and dense position 4 -> 1/1 + 1/5.
    assert names(hits) == ["sparse-best"]
    assert hits[0].score == pytest.approx(1 / 1 + 1 / 5)


def test_hybrid_default_is_the_convex_fusion_of_both_sides(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    index.upsert(tie_corpus(encoder))
    dense = {h.payload["name"]: h.score for h in search(index, encoder, ENG, "dense", limit=50)}
    sparse = {h.payload["name"]: h.score for h in search(index, encoder, ENG, "sparse", limit=50)}

    def normalised(side: dict[str, float]) -> dict[str, float]:
        high, low = max(side.values()), min(side.values())
        return {name: (score - low) / (high - low) for name, score in side.items()}

    d, s = normalised(dense), normalised(sparse)
    weight = DEFAULT_FUSION.dense_weight
    expected = {
        name: weight * d.get(name, 0.0) + (1 - weight) * s.get(name, 0.0)
        for name in set(d) | set(s)
    }
    hits = search(index, encoder, ENG, "hybrid", limit=50)
    assert {h.payload["name"]: h.score for h in hits} == pytest.approx(expected)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(hits) == len(expected) == 5


def random_corpus(encoder: BM25SparseEncoder, n: int = 60) -> list[IndexedChunk]:
    rng = random.Random(7)
    words = ["salary", "bands", "pump", "valve", "firmware", "x-200", "v2.1", "parking"]
    words += ["holiday", "review", "policy"]
    out = []
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        dense = [rng.uniform(-1.0, 1.0) for _ in range(DIM)]
        roles = rng.choice([["eng"], ["hr"], ["eng", "hr"], []])
        doc_type = rng.choice(["pdf", "html"])
        out.append(chunk(encoder, f"r{i}", text, dense, roles=roles, doc_type=doc_type))
    # A few exact duplicates: ties the engines would order by internal offset.
    out += [
        IndexedChunk(cid(f"dup{i}"), c.dense, c.sparse, {**c.payload, "name": f"dup{i}"})
        for i, c in enumerate(out[:5])
    ]
    return out


def test_hybrid_order_is_identical_across_adapters(
    tmp_path: Path, encoder: BM25SparseEncoder
) -> None:
    corpus = random_corpus(encoder)
    edge, client = open_edge(tmp_path), open_client(tmp_path)
    rng = random.Random(11)
    queries = [
        ([rng.uniform(-1.0, 1.0) for _ in range(DIM)], text)
        for text in ["salary bands", "pump valve x-200", "firmware v2.1 review", "holiday"]
    ]
    filters = [
        ENG,
        HR,
        SearchFilter(roles=frozenset({"eng", "hr"}), doc_types=frozenset({"pdf"})),
    ]
    try:
        for idx in (edge, client):
            idx.ensure_ready()
            idx.upsert(corpus)
        compared = 0
        for dense, text in queries:
            for flt in filters:
                for mode in MODES:
                    a = search(edge, encoder, flt, mode, dense=dense, text=text, limit=8)
                    b = search(client, encoder, flt, mode, dense=dense, text=text, limit=8)
                    assert [h.id for h in a] == [h.id for h in b], (text, flt, mode)
                    assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-5)
                    assert all(h.payload == g.payload for h, g in zip(a, b, strict=True))
                    compared += len(a)
        assert compared > 150  # the queries really return results to compare
    finally:
        edge.close()
        client.close()


# --- deletes and counts ---------------------------------------------------------------


def versioned_corpus(encoder: BM25SparseEncoder) -> list[IndexedChunk]:
    a = [
        chunk(encoder, f"a{i}", f"salary bands a{i}", vec((0, 1.0), (1, 0.1 * i)), roles=["eng"])
        for i in range(3)
    ]
    b = [
        chunk(
            encoder,
            f"b-v{version}-{i}",
            f"salary bands b{i}",
            vec((0, 1.0), (2, 0.1 * i + 0.05 * version)),
            roles=["eng"],
            document_id="doc-b",
            version=version,
        )
        for version in (1, 2)
        for i in range(2)
    ]
    return a + b


def test_count_by_document(index: ChunkIndex, encoder: BM25SparseEncoder) -> None:
    index.upsert(versioned_corpus(encoder))
    assert index.count() == 7
    assert index.count(document_id="doc-a") == 3
    assert index.count(document_id="doc-b") == 4
    assert index.count(document_id="doc-zzz") == 0


def test_delete_document(index: ChunkIndex, encoder: BM25SparseEncoder) -> None:
    index.upsert(versioned_corpus(encoder))
    index.delete_document("doc-a")
    assert index.count(document_id="doc-a") == 0
    assert index.count(document_id="doc-b") == 4
    for mode in MODES:
        assert not [n for n in names(search(index, encoder, ENG, mode)) if n.startswith("a")]
    index.delete_document("doc-a")  # deleting what is gone is fine
    index.delete_document("doc-unknown")
    assert index.count() == 4


def test_delete_document_keeping_one_version(index: ChunkIndex, encoder: BM25SparseEncoder) -> None:
    index.upsert(versioned_corpus(encoder))
    index.delete_document("doc-b", keep_version=2)
    assert index.count(document_id="doc-b") == 2
    assert index.count(document_id="doc-a") == 3
    flt = SearchFilter(roles=frozenset({"eng"}), document_ids=frozenset({"doc-b"}))
    assert names(search(index, encoder, flt, "dense")) == ["b-v2-0", "b-v2-1"]
    # Keeping a version that does not exist removes them all.
    index.delete_document("doc-b", keep_version=9)
    assert index.count(document_id="doc-b") == 0


def test_delete_version_removes_that_version_only(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    index.upsert(versioned_corpus(encoder))
    index.delete_version("doc-b", 1)
    assert index.count(document_id="doc-b") == 2
    assert index.count(document_id="doc-a") == 3
    flt = SearchFilter(roles=frozenset({"eng"}), document_ids=frozenset({"doc-b"}))
    assert names(search(index, encoder, flt, "dense")) == ["b-v2-0", "b-v2-1"]
    index.delete_version("doc-b", 7)  # a version that is not there: nothing happens
    assert index.count(document_id="doc-b") == 2


@pytest.mark.parametrize("mode", MODES)
def test_set_roles_applies_to_every_side_at_once(
    index: ChunkIndex, encoder: BM25SparseEncoder, mode: SearchMode
) -> None:
    index.upsert(role_corpus(encoder))
    assert "hr-secret" in names(search(index, encoder, HR, mode))
    doc_b = chunk(
        encoder, "other-doc", "salary bands", vec((0, 1.0)), roles=["hr"], document_id="b"
    )
    index.upsert([doc_b])
    index.set_roles("doc-a", ["board"])
    # Narrowed: hr sees none of doc-a's chunks on any side; the other document keeps its roles.
    assert names(search(index, encoder, HR, mode)) == ["other-doc"]
    assert names(search(index, encoder, ENG, mode)) == []
    board = SearchFilter(roles=frozenset({"board"}))
    assert len(search(index, encoder, board, mode)) >= 1
    assert "other-doc" not in names(search(index, encoder, board, mode))
    index.set_roles("doc-unknown", ["x"])  # no chunks: nothing happens


# --- persistence and failure ----------------------------------------------------------


def test_search_after_reopening(adapter: str, tmp_path: Path, encoder: BM25SparseEncoder) -> None:
    first = OPENERS[adapter](tmp_path, DIM)
    first.ensure_ready()
    first.upsert(role_corpus(encoder))
    before = [(h.id, h.score) for h in search(first, encoder, HR)]
    first.close()

    reopened = OPENERS[adapter](tmp_path, DIM)
    try:
        reopened.ensure_ready()
        assert reopened.count() == 6
        after = search(reopened, encoder, HR)
        assert [h.id for h in after] == [i for i, _ in before]
        assert names(after) == ["hr-secret", "both", "hr-2"]
    finally:
        reopened.close()


@pytest.mark.parametrize(
    "operation",
    [
        lambda idx, _: idx.ensure_ready(),
        lambda idx, c: idx.upsert(c),
        lambda idx, _: idx.count(),
        lambda idx, _: idx.delete_document("doc-a"),
        lambda idx, _: idx.search(dense=QUERY_DENSE, sparse=None, flt=ENG, limit=3),
    ],
    ids=["ensure_ready", "upsert", "count", "delete_document", "search"],
)
def test_closed_index_raises_dependency_unavailable(
    adapter: str,
    tmp_path: Path,
    encoder: BM25SparseEncoder,
    operation: Callable[[ChunkIndex, list[IndexedChunk]], object],
) -> None:
    idx = OPENERS[adapter](tmp_path, DIM)
    idx.ensure_ready()
    corpus = role_corpus(encoder)
    idx.upsert(corpus)
    idx.close()
    idx.close()  # idempotent
    with pytest.raises(DependencyUnavailableError):
        operation(idx, corpus)


# The refused local-mode client leaves its lock file to the garbage collector; it is
# collected inside the test (below) so that this filter, not a later test, sees it.
@pytest.mark.filterwarnings("ignore:unclosed file .*qdrant-local/.lock:ResourceWarning")
def test_second_owner_of_the_same_path_is_refused_with_a_clear_message(
    adapter: str, tmp_path: Path
) -> None:
    owner = OPENERS[adapter](tmp_path, DIM)
    owner.ensure_ready()
    try:
        with pytest.raises(DependencyUnavailableError) as caught:
            intruder = OPENERS[adapter](tmp_path, DIM)
            intruder.ensure_ready()
        message = caught.value.message
        assert "in use by another" in message
        assert str(tmp_path) not in message  # no internals in what a client may see
        assert isinstance(caught.value.__cause__, Exception)  # the log keeps the cause
        assert owner.count() == 0  # the owner is unaffected
    finally:
        owner.close()
        caught = None  # type: ignore[assignment]  # drop the traceback holding the lock file
        gc.collect()


def test_reopening_with_another_dimension_is_a_configuration_error(
    adapter: str, tmp_path: Path
) -> None:
    first = OPENERS[adapter](tmp_path, DIM)
    first.ensure_ready()
    first.close()
    other = OPENERS[adapter](tmp_path, DIM * 2)
    try:
        with pytest.raises(ConfigurationError):
            other.ensure_ready()
    finally:
        other.close()


def test_broken_engine_surfaces_as_dependency_unavailable(
    adapter: str, tmp_path: Path, encoder: BM25SparseEncoder
) -> None:
    """An engine failure mid-operation (here: the collection dropped behind the adapter's
    back, or the shard closed under it) is a 503-type error, not a raw engine exception."""
    idx = OPENERS[adapter](tmp_path, DIM)
    idx.ensure_ready()
    idx.upsert(role_corpus(encoder))
    if isinstance(idx, QdrantClientIndex):
        idx._client.delete_collection(f"{idx.collection}__g{idx.live_generation()}")
    else:
        assert isinstance(idx, EdgeIndex)
        live = idx._live
        assert live is not None
        live.shard.close()
    try:
        with pytest.raises(DependencyUnavailableError) as caught:
            search(idx, encoder, ENG)
        assert "could not search" in caught.value.message
        with pytest.raises(DependencyUnavailableError):
            idx.count()
    finally:
        idx.close()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dense": [1.0] * (DIM - 1)},
        {"dense": [math.nan] * DIM},
        {"dense": None, "mode": "dense"},
        {"limit": 0},
        {"mode": "fuzzy"},
    ],
    ids=["wrong-dim", "nan", "dense-mode-without-vector", "zero-limit", "unknown-mode"],
)
def test_malformed_queries_are_value_errors_not_outages(
    index: ChunkIndex, encoder: BM25SparseEncoder, kwargs: dict[str, object]
) -> None:
    args: dict[str, object] = {
        "dense": QUERY_DENSE,
        "sparse": encoder.encode_query(QUERY_TEXT),
        "flt": ENG,
        "limit": 3,
    }
    args.update(kwargs)
    with pytest.raises(ValueError):
        index.search(**args)  # type: ignore[arg-type]


def test_all_stopword_query_falls_back_to_the_dense_side(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    index.upsert(role_corpus(encoder))
    empty = encoder.encode_query("the of and")
    assert empty.indices == ()
    assert index.search(dense=None, sparse=empty, flt=ENG, limit=5, mode="sparse") == []
    hybrid = index.search(dense=QUERY_DENSE, sparse=empty, flt=ENG, limit=5)
    assert names(hybrid) == ["eng-1", "eng-2", "both"]


def test_concurrent_searches_during_writes(adapter: str, tmp_path: Path) -> None:
    """One index shared by threads: searches keep answering while another thread writes."""
    encoder = BM25SparseEncoder()
    idx = OPENERS[adapter](tmp_path, DIM)
    idx.ensure_ready()
    idx.upsert(role_corpus(encoder))
    extra = [
        chunk(encoder, f"w{i}", f"salary bands w{i}", vec((6, 1.0), (7, i / 40)), roles=["hr"])
        for i in range(40)
    ]

    def read() -> None:
        for _ in range(15):
            assert names(search(idx, encoder, ENG)) == ["eng-1", "both", "eng-2"]

    def write() -> None:
        for i in range(0, len(extra), 5):
            idx.upsert(extra[i : i + 5])

    try:
        with ThreadPoolExecutor(max_workers=5) as pool:
            futures = [pool.submit(read) for _ in range(4)] + [pool.submit(write)]
            for future in futures:
                future.result()  # re-raises a reader's or the writer's failure here
        assert idx.count() == 6 + len(extra)
    finally:
        idx.close()


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection:UserWarning")
def test_unreachable_server_is_dependency_unavailable_without_leaking_the_key() -> None:
    """``from_url`` contacts nothing until used; then a dead server is a 503-type error."""
    idx = from_url("http://127.0.0.1:9", SecretStr("s3cret-key"), "chunks", DIM, timeout_s=2)
    try:
        with pytest.raises(DependencyUnavailableError) as caught:
            idx.ensure_ready()
        assert "s3cret-key" not in caught.value.message
        assert "127.0.0.1" not in caught.value.message
        with pytest.raises(DependencyUnavailableError):
            idx.search(dense=QUERY_DENSE, sparse=None, flt=ENG, limit=3)
    finally:
        idx.close()


# --- generations: rebuild beside the live index, switch atomically ----------------------


def open_generational(adapter: str, path: Path, dim: int = DIM) -> GenerationalIndex:
    opened = OPENERS[adapter](path, dim)
    assert isinstance(opened, GenerationalIndex)
    return opened


@pytest.fixture
def gindex(adapter: str, tmp_path: Path) -> Iterator[GenerationalIndex]:
    idx = open_generational(adapter, tmp_path)
    idx.ensure_ready()
    yield idx
    idx.close()


def renamed(corpus: Sequence[IndexedChunk], prefix: str) -> list[IndexedChunk]:
    """The same chunks under other ids and names: what a rebuild with new chunk ids gives."""
    return [
        IndexedChunk(
            cid(f"{prefix}{c.payload['name']}"),
            c.dense,
            c.sparse,
            {**c.payload, "name": f"{prefix}{c.payload['name']}"},
        )
        for c in corpus
    ]


OLD_ENG = ["eng-1", "both", "eng-2"]
NEW_ENG = ["new-eng-1", "new-both", "new-eng-2"]


def test_a_fresh_index_is_generation_1(gindex: GenerationalIndex) -> None:
    assert gindex.live_generation() == 1
    assert gindex.generations() == [1]


def test_a_new_generation_is_invisible_until_switched_to(
    gindex: GenerationalIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = role_corpus(encoder)
    gindex.upsert(corpus)
    generation = gindex.create_generation()
    assert generation.number == 2
    assert gindex.generations() == [1, 2]
    generation.upsert(renamed(corpus, "new-"))

    assert names(search(gindex, encoder, ENG)) == OLD_ENG  # live: the old chunks only
    assert names(search(generation, encoder, ENG)) == NEW_ENG  # the new one: its own
    new_ids = [cid(f"new-{c.payload['name']}") for c in corpus]
    assert generation.stored_texts([*new_ids, corpus[0].id]) == {
        cid(f"new-{c.payload['name']}"): c.payload["text"] for c in corpus
    }
    assert gindex.stored_texts(new_ids) == {}
    assert gindex.live_generation() == 1

    gindex.switch_to(generation.number)

    assert gindex.live_generation() == 2
    for mode in MODES:
        assert all(n.startswith("new-") for n in names(search(gindex, encoder, ENG, mode)))
    assert names(search(gindex, encoder, ENG)) == NEW_ENG
    assert set(gindex.stored_texts([*new_ids, corpus[0].id])) == set(new_ids)
    assert gindex.count() == len(corpus)
    gindex.switch_to(2)  # switching to the live one does nothing
    assert gindex.live_generation() == 2


def test_writes_through_the_live_index_reach_the_generation_being_built(
    gindex: GenerationalIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = versioned_corpus(encoder)
    gindex.upsert(corpus[:3])  # doc-a, before the new generation exists: not copied
    generation = gindex.create_generation()

    gindex.upsert(corpus[3:])  # doc-b, versions 1 and 2: mirrored
    assert generation.count() == 4
    assert generation.count(document_id="doc-a") == 0
    gindex.delete_version("doc-b", 1)
    assert generation.count(document_id="doc-b") == 2
    gindex.set_roles("doc-b", ["hr"])
    hr_b = SearchFilter(roles=frozenset({"hr"}), document_ids=frozenset({"doc-b"}))
    assert names(search(generation, encoder, hr_b, "dense")) == ["b-v2-0", "b-v2-1"]
    gindex.delete_document("doc-b", keep_version=7)
    assert generation.count() == 0
    assert gindex.count() == 3  # the live writes happened too

    gindex.upsert(corpus[3:])
    gindex.switch_to(generation.number)
    assert gindex.count() == 4  # live now: what was mirrored, nothing of doc-a
    gindex.upsert(corpus[:3])
    assert gindex.count() == 7


def test_a_dropped_generation_leaves_the_live_index_untouched(
    gindex: GenerationalIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = role_corpus(encoder)
    gindex.upsert(corpus)
    generation = gindex.create_generation()
    generation.upsert(renamed(corpus, "new-"))
    before = [(h.id, h.score) for h in search(gindex, encoder, HR)]

    gindex.drop_generation(generation.number)

    assert gindex.generations() == [1]
    assert gindex.live_generation() == 1
    assert [(h.id, h.score) for h in search(gindex, encoder, HR)] == before
    assert gindex.count() == len(corpus)
    with pytest.raises(DependencyUnavailableError):
        generation.upsert(corpus[:1])
    with pytest.raises(DependencyUnavailableError):
        generation.count()
    gindex.upsert(renamed(corpus[:1], "late-"))  # no longer mirrored anywhere: still fine
    assert gindex.count() == len(corpus) + 1
    again = gindex.create_generation()  # the next build can start
    assert again.count() == 0
    assert gindex.generations() == [1, again.number]


def test_generation_misuse_is_refused(gindex: GenerationalIndex) -> None:
    with pytest.raises(ConflictError):
        gindex.drop_generation(1)
    with pytest.raises(NotFoundError):
        gindex.switch_to(9)
    gindex.drop_generation(9)  # unknown: nothing to do
    gindex.create_generation()
    with pytest.raises(ConflictError):
        gindex.create_generation()  # one build at a time
    assert gindex.live_generation() == 1


def test_after_a_restart_the_switched_generation_is_the_one_opened(
    adapter: str, tmp_path: Path, encoder: BM25SparseEncoder
) -> None:
    corpus = role_corpus(encoder)
    first = open_generational(adapter, tmp_path)
    try:
        first.ensure_ready()
        first.upsert(corpus)
        generation = first.create_generation()
        generation.upsert(renamed(corpus, "new-"))
        first.switch_to(generation.number)
    finally:
        first.close()

    reopened = open_generational(adapter, tmp_path)
    try:
        reopened.ensure_ready()
        assert reopened.live_generation() == 2
        assert names(search(reopened, encoder, ENG)) == NEW_ENG
        assert reopened.generations() == [1, 2]  # the old one waits to be dropped
        reopened.drop_generation(1)
        assert reopened.generations() == [2]
        assert names(search(reopened, encoder, ENG)) == NEW_ENG
    finally:
        reopened.close()


def test_a_failed_build_dropped_after_a_restart_leaves_the_live_index_untouched(
    adapter: str, tmp_path: Path, encoder: BM25SparseEncoder
) -> None:
    """A re-index that died mid-way: its half-built generation is dropped by the next one."""
    corpus = role_corpus(encoder)
    first = open_generational(adapter, tmp_path)
    try:
        first.ensure_ready()
        first.upsert(corpus)
        first.create_generation().upsert(renamed(corpus[:2], "new-"))
    finally:
        first.close()  # the process dies here

    reopened = open_generational(adapter, tmp_path)
    try:
        reopened.ensure_ready()
        assert reopened.live_generation() == 1
        assert reopened.generations() == [1, 2]
        assert names(search(reopened, encoder, ENG)) == OLD_ENG
        reopened.drop_generation(2)
        assert reopened.generations() == [1]
        assert names(search(reopened, encoder, ENG)) == OLD_ENG
        assert reopened.create_generation().number == 2
    finally:
        reopened.close()


def test_searches_across_a_switch_see_the_old_or_the_new_generation_never_an_error(
    gindex: GenerationalIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = role_corpus(encoder)
    gindex.upsert(corpus)
    stop = threading.Event()
    seen: list[list[str]] = []

    def ask() -> None:
        while not stop.is_set():
            seen.append(names(search(gindex, encoder, ENG)))

    with ThreadPoolExecutor(max_workers=3) as pool:
        readers = [pool.submit(ask) for _ in range(3)]
        try:
            for round_ in range(3):
                generation = gindex.create_generation()
                generation.upsert(renamed(corpus, "new-" if round_ % 2 == 0 else ""))
                previous = gindex.live_generation()
                gindex.switch_to(generation.number)
                gindex.drop_generation(previous)
        finally:
            stop.set()
        for reader in readers:
            reader.result()  # re-raises a reader's error
    assert seen
    assert {tuple(s) for s in seen} <= {tuple(OLD_ENG), tuple(NEW_ENG)}
    assert names(search(gindex, encoder, ENG)) == NEW_ENG
    assert gindex.generations() == [4]


def make_generation_0(adapter: str, path: Path, corpus: Sequence[IndexedChunk]) -> None:
    """An index as ragline wrote it before generations: a shard in the index path itself,
    or a plain collection named like the configured one (as the cluster's collection job
    creates it)."""
    if adapter == "edge":
        config = EdgeConfig(
            vectors={"dense": EdgeVectorParams(size=DIM, distance=Distance.Cosine)},
            sparse_vectors={"sparse": EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        (path / "edge").mkdir()
        shard = EdgeShard.load(str(path / "edge"), config)
        points = [
            Point(
                c.id,
                {
                    "dense": list(c.dense),
                    "sparse": EdgeSparseVector(list(c.sparse.indices), list(c.sparse.values)),
                },
                dict(c.payload),
            )
            for c in corpus
        ]
        shard.update(UpdateOperation.upsert_points(points))
        shard.close()
        return
    client = QdrantClient(path=str(path / "qdrant-local"))
    client.create_collection(
        "chunks",
        vectors_config={"dense": models.VectorParams(size=DIM, distance=models.Distance.COSINE)},
        sparse_vectors_config={"sparse": models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    client.upsert(
        "chunks",
        points=[
            models.PointStruct(
                id=c.id,
                vector={
                    "dense": list(c.dense),
                    "sparse": models.SparseVector(
                        indices=list(c.sparse.indices), values=list(c.sparse.values)
                    ),
                },
                payload=dict(c.payload),
            )
            for c in corpus
        ],
    )
    client.close()


def test_an_index_from_before_generations_is_generation_0_and_switches_away(
    adapter: str, tmp_path: Path, encoder: BM25SparseEncoder
) -> None:
    corpus = role_corpus(encoder)
    make_generation_0(adapter, tmp_path, corpus)
    idx = open_generational(adapter, tmp_path)
    try:
        idx.ensure_ready()
        assert idx.live_generation() == 0
        assert idx.generations() == [0]
        assert names(search(idx, encoder, ENG)) == OLD_ENG
        idx.upsert(renamed(corpus[:1], "late-"))  # it keeps taking writes
        assert idx.count() == len(corpus) + 1

        generation = idx.create_generation()
        assert generation.number == 1
        generation.upsert(renamed(corpus, "new-"))
        assert names(search(idx, encoder, ENG)) == OLD_ENG
        idx.switch_to(1)
        assert idx.live_generation() == 1
        assert names(search(idx, encoder, ENG)) == NEW_ENG
        foreign = tmp_path / "edge" / "operator-notes.txt"  # not the engine's: must stay
        if adapter == "edge":
            foreign.write_text("keep me")
        idx.drop_generation(0)
        assert idx.generations() == [1]
        assert names(search(idx, encoder, ENG)) == NEW_ENG
        if adapter == "edge":
            assert foreign.read_text() == "keep me"
            assert sorted(p.name for p in (tmp_path / "edge").iterdir()) == [
                "LIVE",
                "g1",
                "operator-notes.txt",
            ]
    finally:
        idx.close()
    reopened = open_generational(adapter, tmp_path)
    try:
        reopened.ensure_ready()
        assert (reopened.live_generation(), reopened.generations()) == (1, [1])
        assert names(search(reopened, encoder, ENG)) == NEW_ENG
    finally:
        reopened.close()


def test_a_switch_away_from_generation_0_interrupted_half_way_is_finished(
    tmp_path: Path, encoder: BM25SparseEncoder
) -> None:
    """The server adapter's one two-step switch: generation 0's collection deleted, the
    alias not yet made. Readers already see the new generation; the next start finishes."""
    corpus = role_corpus(encoder)
    make_generation_0("client", tmp_path, corpus)
    idx = from_local_path(tmp_path / "qdrant-local", "chunks", DIM)
    try:
        idx.ensure_ready()
        idx.create_generation().upsert(renamed(corpus, "new-"))
        idx._client.delete_collection("chunks")  # the switch stops after its first step
        assert names(search(idx, encoder, ENG)) == NEW_ENG
        assert idx.live_generation() == 1
        idx.ensure_ready()
        aliases = {a.alias_name: a.collection_name for a in idx._client.get_aliases().aliases}
        assert aliases == {"chunks": "chunks__g1"}
        idx.upsert(renamed(corpus[:1], "late-"))
        assert idx.count() == len(corpus) + 1
    finally:
        idx.close()
