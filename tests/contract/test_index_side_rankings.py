"""``ChunkIndex.rank_sides`` and ``stored_payloads``, run against every adapter.

What ``retrieval.hybrid``'s feedback search relies on to ask the engine only for the
side whose query changed: each side's ranking on its own, under the caller's filter,
and the payloads of ids. ``search`` must be exactly those rankings fused plus the
payloads, so the two paths cannot give different answers. The fixtures, corpora and
helpers are the main contract suite's (``test_index_contract``).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from retrieval.index.base import (
    DEFAULT_FUSION,
    ChunkIndex,
    Fusion,
    GenerationalIndex,
    SearchFilter,
)
from retrieval.index.ranking import fuse_rankings, hits_of
from retrieval.sparse import BM25SparseEncoder
from tests.contract import test_index_contract as suite
from tests.contract.test_index_contract import (
    DIM,
    ENG,
    HR,
    MODES,
    QUERY_DENSE,
    QUERY_TEXT,
    cid,
    open_client,
    open_edge,
    random_corpus,
    renamed,
    role_corpus,
    versioned_corpus,
)

pytestmark = [
    pytest.mark.service,
    pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning"),
]

# The suite's fixtures, by the names the tests ask for.
adapter, encoder, index, gindex = suite.adapter, suite.encoder, suite.index, suite.gindex

FUSIONS = (DEFAULT_FUSION, Fusion(method="rrf"), Fusion(dense_weight=0.8))


def test_search_is_the_side_rankings_fused_with_their_payloads(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    """The one-code-path property the retriever's reuse depends on, score for score."""
    index.upsert(random_corpus(encoder))
    rng = random.Random(5)
    filters = [ENG, HR, SearchFilter(roles=frozenset({"eng", "hr"}), doc_types=frozenset({"pdf"}))]
    compared = 0
    for text in ["salary bands", "pump valve x-200", "holiday", "firmware v2.1 review"]:
        dense = [rng.uniform(-1.0, 1.0) for _ in range(DIM)]
        sparse = encoder.encode_query(text)
        for flt in filters:
            for mode in MODES:
                for fusion in FUSIONS:
                    hits = index.search(
                        dense=dense,
                        sparse=sparse,
                        flt=flt,
                        limit=6,
                        mode=mode,
                        prefetch_limit=8,
                        fusion=fusion,
                    )
                    rankings = index.rank_sides(
                        dense=dense, sparse=sparse, flt=flt, limit=6, mode=mode, prefetch_limit=8
                    )
                    ranked = fuse_rankings(rankings, fuse=mode == "hybrid", limit=6, fusion=fusion)
                    payloads = index.stored_payloads([point_id for point_id, _ in ranked])
                    assert hits_of(ranked, payloads) == hits, (text, flt, mode, fusion)
                    compared += len(hits)
    assert compared > 300  # the searches really return hits to compare


def test_side_rankings_hold_only_the_callers_roles_on_every_side(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    """hr-secret and nobody are the best match on both sides: an eng caller's rankings
    must not hold them, not even as low-ranked candidates that fusion might drop."""
    corpus = role_corpus(encoder)
    index.upsert(corpus)
    roles_of = {c.id: set(c.payload["roles"]) for c in corpus}
    for flt, role in ((ENG, "eng"), (HR, "hr")):
        rankings = index.rank_sides(
            dense=QUERY_DENSE, sparse=encoder.encode_query(QUERY_TEXT), flt=flt, limit=10
        )
        assert list(rankings) == ["dense", "sparse"]
        assert rankings["dense"] and rankings["sparse"]
        for ranking in rankings.values():
            assert all(role in roles_of[point_id] for point_id, _ in ranking), (role, ranking)
            assert [score for _, score in ranking] == sorted(
                (score for _, score in ranking), reverse=True
            )
    eng = index.rank_sides(
        dense=QUERY_DENSE, sparse=encoder.encode_query(QUERY_TEXT), flt=ENG, limit=10
    )
    assert cid("hr-secret") not in {point_id for r in eng.values() for point_id, _ in r}
    assert cid("nobody") not in {point_id for r in eng.values() for point_id, _ in r}
    assert {point_id for point_id, _ in eng["dense"]} == {
        cid(n) for n in ("eng-1", "eng-2", "both")
    }


def test_rank_sides_queries_only_the_sides_it_is_given(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    index.upsert(role_corpus(encoder))
    sparse = encoder.encode_query(QUERY_TEXT)
    assert list(index.rank_sides(dense=QUERY_DENSE, sparse=None, flt=ENG, limit=5)) == ["dense"]
    assert list(index.rank_sides(dense=None, sparse=sparse, flt=ENG, limit=5)) == ["sparse"]
    assert list(
        index.rank_sides(dense=QUERY_DENSE, sparse=sparse, flt=ENG, limit=5, mode="dense")
    ) == ["dense"]
    assert list(
        index.rank_sides(dense=QUERY_DENSE, sparse=sparse, flt=ENG, limit=5, mode="sparse")
    ) == ["sparse"]
    # Nothing the caller may read, nothing asked: as search returns [] without querying.
    nobody = SearchFilter(roles=frozenset())
    assert index.rank_sides(dense=QUERY_DENSE, sparse=sparse, flt=nobody, limit=5) == {}
    narrowed_to_nothing = SearchFilter(roles=frozenset({"eng"}), document_ids=frozenset())
    assert (
        index.rank_sides(dense=QUERY_DENSE, sparse=sparse, flt=narrowed_to_nothing, limit=5) == {}
    )
    with pytest.raises(ValueError):
        index.rank_sides(dense=None, sparse=None, flt=ENG, limit=5)
    with pytest.raises(ValueError):
        index.rank_sides(dense=[1.0], sparse=sparse, flt=ENG, limit=5)


def test_each_side_fetches_max_of_limit_and_prefetch_candidates(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    index.upsert(random_corpus(encoder))
    dense = [0.3] * DIM
    sparse = encoder.encode_query("salary bands review policy")
    both = SearchFilter(roles=frozenset({"eng", "hr"}))
    small = index.rank_sides(dense=dense, sparse=sparse, flt=both, limit=3, prefetch_limit=4)
    large = index.rank_sides(dense=dense, sparse=sparse, flt=both, limit=12, prefetch_limit=4)
    assert [len(r) for r in small.values()] == [4, 4]
    assert [len(r) for r in large.values()] == [12, 12]


def test_stored_payloads_are_what_was_written(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = role_corpus(encoder)
    index.upsert(corpus)
    unknown = cid("never-written")
    payloads = index.stored_payloads([corpus[0].id, corpus[2].id, unknown])
    assert payloads == {corpus[0].id: corpus[0].payload, corpus[2].id: corpus[2].payload}
    assert index.stored_payloads([]) == {}


def test_a_point_deleted_between_ranking_and_payload_read_is_dropped(
    index: ChunkIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = versioned_corpus(encoder)
    index.upsert(corpus)
    flt = SearchFilter(roles=frozenset({"eng", "hr"}))
    rankings = index.rank_sides(
        dense=QUERY_DENSE, sparse=encoder.encode_query(QUERY_TEXT), flt=flt, limit=10
    )
    ranked = fuse_rankings(rankings, fuse=True, limit=10, fusion=DEFAULT_FUSION)
    ranked_ids = [point_id for point_id, _ in ranked]
    doomed = {c.id for c in corpus if c.payload["document_id"] == "doc-a"}
    assert doomed & set(ranked_ids) and set(ranked_ids) - doomed

    index.delete_document("doc-a")

    payloads = index.stored_payloads(ranked_ids)
    assert set(payloads) == set(ranked_ids) - doomed
    hits = hits_of(ranked, payloads)
    assert [h.id for h in hits] == [i for i in ranked_ids if i not in doomed]
    assert all(h.payload["document_id"] != "doc-a" for h in hits)


def test_a_generation_ranks_and_reads_its_own_chunks(
    gindex: GenerationalIndex, encoder: BM25SparseEncoder
) -> None:
    corpus = role_corpus(encoder)
    gindex.upsert(corpus)
    generation = gindex.create_generation()
    try:
        new = renamed(corpus, "new-")
        generation.upsert(new)
        sparse = encoder.encode_query(QUERY_TEXT)
        old_ids, new_ids = {c.id for c in corpus}, {c.id for c in new}

        def ranked_ids(idx: ChunkIndex) -> set[str]:
            rankings = idx.rank_sides(dense=QUERY_DENSE, sparse=sparse, flt=ENG, limit=10)
            return {point_id for ranking in rankings.values() for point_id, _ in ranking}

        assert ranked_ids(gindex) and ranked_ids(gindex) <= old_ids
        assert ranked_ids(generation) and ranked_ids(generation) <= new_ids
        assert set(generation.stored_payloads([*new_ids, *old_ids])) == new_ids
        assert set(gindex.stored_payloads([*new_ids, *old_ids])) == old_ids
        assert generation.search(dense=QUERY_DENSE, sparse=sparse, flt=ENG, limit=5) == hits_of(
            fuse_rankings(
                generation.rank_sides(dense=QUERY_DENSE, sparse=sparse, flt=ENG, limit=5),
                fuse=True,
                limit=5,
                fusion=DEFAULT_FUSION,
            ),
            generation.stored_payloads(list(new_ids)),
        )
    finally:
        generation.close()


def test_side_rankings_are_identical_across_adapters(
    tmp_path: Path, encoder: BM25SparseEncoder
) -> None:
    corpus = random_corpus(encoder)
    edge, client = open_edge(tmp_path), open_client(tmp_path)
    rng = random.Random(13)
    try:
        for idx in (edge, client):
            idx.ensure_ready()
            idx.upsert(corpus)
        for text in ["salary bands", "pump valve x-200", "holiday"]:
            dense = [rng.uniform(-1.0, 1.0) for _ in range(DIM)]
            sparse = encoder.encode_query(text)
            for flt in (ENG, HR):
                a = edge.rank_sides(dense=dense, sparse=sparse, flt=flt, limit=8)
                b = client.rank_sides(dense=dense, sparse=sparse, flt=flt, limit=8)
                assert list(a) == list(b) == ["dense", "sparse"]
                for side in a:
                    assert [i for i, _ in a[side]] == [i for i, _ in b[side]], (text, side)
                    assert [s for _, s in a[side]] == pytest.approx(
                        [s for _, s in b[side]], rel=1e-5
                    )
    finally:
        edge.close()
        client.close()
