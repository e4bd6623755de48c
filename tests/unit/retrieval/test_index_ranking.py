"""The adapter-independent part of the index: plans, RRF, tie-breaks, filters, checks."""

from __future__ import annotations

import pytest

from retrieval.index.base import Fusion, SearchFilter, SparseVector
from retrieval.index.filters import can_match, match_any_conditions
from retrieval.index.ranking import (
    convex_fusion,
    plan_search,
    rank_by_score,
    reciprocal_rank_fusion,
)
from retrieval.index.validation import canonical_id, check_dense, check_sparse, payload_dict

pytestmark = pytest.mark.unit

ENG = SearchFilter(roles=frozenset({"eng"}))
SPARSE = SparseVector(indices=(1, 2), values=(1.0, 1.0))
RRF = Fusion(method="rrf", rrf_k=60)


def test_rank_by_score_breaks_ties_by_id() -> None:
    assert rank_by_score([("b", 0.5), ("c", 0.9), ("a", 0.5)]) == [
        ("c", 0.9),
        ("a", 0.5),
        ("b", 0.5),
    ]


def test_rrf_uses_qdrants_zero_based_formula() -> None:
    dense = [("a", 0.9), ("b", 0.8)]
    sparse = [("b", 7.0), ("c", 3.0)]
    fused = reciprocal_rank_fusion([dense, sparse], k=60)
    assert [point_id for point_id, _ in fused] == ["b", "a", "c"]
    assert [score for _, score in fused] == pytest.approx([1 / 61 + 1 / 60, 1 / 60, 1 / 61])


def test_rrf_ties_go_to_the_first_rankings_order_not_the_id() -> None:
    # z and a tie (each is first on one side): the dense side, listed first, decides.
    fused = reciprocal_rank_fusion([[("z", 1.0)], [("a", 1.0)]], k=60)
    assert [point_id for point_id, _ in fused] == ["z", "a"]
    # Equal again, and both absent from the first ranking: then the id decides.
    fused = reciprocal_rank_fusion([[("m", 1.0)], [("y", 1.0), ("b", 1.0)]], k=1)
    assert [point_id for point_id, _ in fused] == ["m", "y", "b"]


def test_convex_fusion_weighs_normalised_scores() -> None:
    dense = [("a", 0.9), ("b", 0.7), ("c", 0.5)]  # normalised 1, 0.5, 0
    sparse = [("c", 12.0), ("d", 4.0), ("b", 2.0)]  # normalised 1, 0.2, 0
    fused = convex_fusion([dense, sparse], [0.5, 0.5])
    assert [point_id for point_id, _ in fused] == ["a", "c", "b", "d"]
    assert [score for _, score in fused] == pytest.approx([0.5, 0.5, 0.25, 0.1])
    # The tie between a and c goes to the dense side's order; weights move it.
    lexical = convex_fusion([dense, sparse], [0.3, 0.7])
    assert [point_id for point_id, _ in lexical][:2] == ["c", "a"]


def test_convex_fusion_of_one_candidate_or_equal_scores_gives_full_weight() -> None:
    fused = convex_fusion([[("a", 0.4)], [("b", 3.0), ("c", 3.0)]], [0.6, 0.4])
    assert fused == [
        ("a", pytest.approx(0.6)),
        ("b", pytest.approx(0.4)),
        ("c", pytest.approx(0.4)),
    ]


def test_convex_plan_weighs_the_dense_side_by_name() -> None:
    plan = plan_search(
        dense=[1.0, 0.0],
        sparse=SPARSE,
        flt=ENG,
        limit=3,
        mode="hybrid",
        prefetch_limit=50,
        fusion=Fusion(method="convex", dense_weight=0.8),
        dim=2,
    )
    assert plan is not None
    combined = plan.combine([[("d", 0.9), ("s", 0.1)], [("s", 5.0), ("d", 1.0)]])
    assert [point_id for point_id, _ in combined] == ["d", "s"]
    assert [score for _, score in combined] == pytest.approx([0.8, 0.2])


@pytest.mark.parametrize(
    "change", [{"rrf_k": 0}, {"dense_weight": 1.5}, {"dense_weight": -0.1}, {"method": "max"}]
)
def test_invalid_fusions_are_value_errors(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Fusion(**change)  # type: ignore[arg-type]


def test_plan_combines_by_rank_then_id() -> None:
    plan = plan_search(
        dense=[1.0, 0.0],
        sparse=SPARSE,
        flt=ENG,
        limit=2,
        mode="hybrid",
        prefetch_limit=50,
        fusion=RRF,
        dim=2,
    )
    assert plan is not None
    assert [s.side for s in plan.sides] == ["dense", "sparse"]
    # The engine's own order of equal scores (y before x) must not matter.
    combined = plan.combine([[("y", 0.5), ("x", 0.5)], [("x", 2.0), ("y", 2.0)]])
    assert [point_id for point_id, _ in combined] == ["x", "y"]
    assert [score for _, score in combined] == pytest.approx([2 / 60, 2 / 61])


def test_single_side_plan_keeps_engine_scores() -> None:
    plan = plan_search(
        dense=[1.0, 0.0],
        sparse=SPARSE,
        flt=ENG,
        limit=1,
        mode="dense",
        prefetch_limit=50,
        fusion=RRF,
        dim=2,
    )
    assert plan is not None
    assert [s.side for s in plan.sides] == ["dense"]
    assert plan.combine([[("b", 0.7), ("a", 0.7)]]) == [("a", 0.7)]


@pytest.mark.parametrize(("limit", "expected"), [(5, 50), (80, 80)])
def test_each_side_fetches_at_least_limit(limit: int, expected: int) -> None:
    for mode in ("hybrid", "dense", "sparse"):
        plan = plan_search(
            dense=[1.0, 0.0],
            sparse=SPARSE,
            flt=ENG,
            limit=limit,
            mode=mode,  # type: ignore[arg-type]
            prefetch_limit=50,
            fusion=RRF,
            dim=2,
        )
        assert plan is not None
        assert {s.limit for s in plan.sides} == {expected}


def test_hybrid_without_terms_plans_the_dense_side_only() -> None:
    plan = plan_search(
        dense=[1.0, 0.0],
        sparse=SparseVector((), ()),
        flt=ENG,
        limit=3,
        mode="hybrid",
        prefetch_limit=50,
        fusion=RRF,
        dim=2,
    )
    assert plan is not None
    assert [s.side for s in plan.sides] == ["dense"]
    assert plan.fuse


@pytest.mark.parametrize(
    "flt",
    [
        SearchFilter(roles=frozenset()),
        SearchFilter(roles=frozenset({"eng"}), doc_types=frozenset()),
        SearchFilter(roles=frozenset({"eng"}), buckets=frozenset()),
        SearchFilter(roles=frozenset({"eng"}), document_ids=frozenset()),
    ],
)
def test_filters_that_match_nothing_plan_no_query(flt: SearchFilter) -> None:
    assert not can_match(flt)
    plan = plan_search(
        dense=[1.0, 0.0],
        sparse=SPARSE,
        flt=flt,
        limit=3,
        mode="hybrid",
        prefetch_limit=50,
        fusion=RRF,
        dim=2,
    )
    assert plan is None


def test_sparse_mode_without_terms_plans_no_query() -> None:
    plan = plan_search(
        dense=None,
        sparse=SparseVector((), ()),
        flt=ENG,
        limit=3,
        mode="sparse",
        prefetch_limit=50,
        fusion=RRF,
        dim=2,
    )
    assert plan is None


@pytest.mark.parametrize(
    "change",
    [
        {"mode": "fuzzy"},
        {"limit": 0},
        {"prefetch_limit": 0},
        {"dense": [1.0]},
        {"dense": None, "mode": "dense"},
        {"sparse": None, "mode": "sparse"},
        {"dense": None, "sparse": None},
        {"sparse": SparseVector((1, 1), (1.0, 1.0))},
    ],
)
def test_invalid_searches_are_value_errors(change: dict[str, object]) -> None:
    args: dict[str, object] = {
        "dense": [1.0, 0.0],
        "sparse": SPARSE,
        "flt": ENG,
        "limit": 3,
        "mode": "hybrid",
        "prefetch_limit": 50,
        "fusion": RRF,
        "dim": 2,
    }
    args.update(change)
    with pytest.raises(ValueError):
        plan_search(**args)  # type: ignore[arg-type]


def test_filter_conditions_are_all_must_and_sorted() -> None:
    flt = SearchFilter(
        roles=frozenset({"hr", "eng"}),
        doc_types=frozenset({"pdf", "html"}),
        document_ids=frozenset({"d2", "d1"}),
    )
    assert match_any_conditions(flt) == [
        ("roles", ["eng", "hr"]),
        ("doc_type", ["html", "pdf"]),
        ("document_id", ["d1", "d2"]),
    ]


def test_canonical_id() -> None:
    upper = "6F9619FF-8B86-D011-B42D-00CF4FC964FF"
    assert canonical_id(upper) == "6f9619ff-8b86-d011-b42d-00cf4fc964ff"
    assert canonical_id("{" + upper + "}") == "6f9619ff-8b86-d011-b42d-00cf4fc964ff"
    with pytest.raises(ValueError):
        canonical_id("chunk-1")


@pytest.mark.parametrize(
    "vector",
    [[1.0, 2.0, 3.0], [float("nan"), 1.0], [0.0, 0.0]],
    ids=["wrong-size", "nan", "zero"],
)
def test_check_dense_refuses(vector: list[float]) -> None:
    with pytest.raises(ValueError):
        check_dense(vector, 2)


@pytest.mark.parametrize(
    "vector",
    [
        SparseVector((1,), (1.0, 2.0)),
        SparseVector((1, 1), (1.0, 2.0)),
        SparseVector((-1,), (1.0,)),
        SparseVector((2**32,), (1.0,)),
        SparseVector((1,), (float("inf"),)),
    ],
    ids=["lengths", "repeat", "negative", "over-u32", "inf"],
)
def test_check_sparse_refuses(vector: SparseVector) -> None:
    with pytest.raises(ValueError):
        check_sparse(vector)


def test_payload_dict_makes_sets_and_tuples_lists() -> None:
    payload = {"roles": frozenset({"hr", "eng"}), "pages": (1, 2), "title": "t"}
    assert payload_dict(payload) == {"roles": ["eng", "hr"], "pages": [1, 2], "title": "t"}
