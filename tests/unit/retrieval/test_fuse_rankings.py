"""``fuse_rankings``: fusing side rankings the caller holds, exactly as a search would.

The feedback search fuses a fresh dense ranking with the first search's BM25 one; what
it gets must be what ``SearchPlan.combine`` gives for the engine's answers, whatever
order the caller's mapping holds the sides in (the dense side breaks fused ties).
"""

from __future__ import annotations

import pytest

from retrieval.index.base import Fusion, Hit, SearchFilter, SparseVector
from retrieval.index.ranking import fuse_rankings, hits_of, plan_search

pytestmark = pytest.mark.unit

ENG = SearchFilter(roles=frozenset({"eng"}))
# Equal fused scores everywhere unless the dense side breaks the ties.
DENSE = [("b", 0.9), ("a", 0.8), ("c", 0.7)]
SPARSE = [("a", 3.0), ("b", 2.0), ("d", 1.0)]
FUSIONS = (Fusion(), Fusion(method="rrf"), Fusion(dense_weight=0.8), Fusion(dense_weight=0.0))


@pytest.mark.parametrize("fusion", FUSIONS)
def test_fusing_held_rankings_is_what_the_plan_combines(fusion: Fusion) -> None:
    plan = plan_search(
        dense=[1.0, 0.0],
        sparse=SparseVector((1,), (1.0,)),
        flt=ENG,
        limit=3,
        mode="hybrid",
        prefetch_limit=5,
        fusion=fusion,
        dim=2,
    )
    assert plan is not None
    # The engine answers in its own order; combine ranks each side first.
    combined = plan.combine([list(reversed(DENSE)), list(reversed(SPARSE))])
    in_order = fuse_rankings({"dense": DENSE, "sparse": SPARSE}, fuse=True, limit=3, fusion=fusion)
    held_backwards = fuse_rankings(
        {"sparse": SPARSE, "dense": DENSE}, fuse=True, limit=3, fusion=fusion
    )
    assert in_order == held_backwards == combined
    assert plan.rank([list(reversed(DENSE)), list(reversed(SPARSE))]) == {
        "dense": DENSE,
        "sparse": SPARSE,
    }


def test_a_tie_goes_to_the_dense_sides_order_whatever_the_mapping_order() -> None:
    # b and a tie under RRF (first on one side, second on the other): dense says b.
    fused = fuse_rankings(
        {"sparse": SPARSE, "dense": DENSE}, fuse=True, limit=2, fusion=Fusion(method="rrf")
    )
    assert [point_id for point_id, _ in fused] == ["b", "a"]
    assert fused[0][1] == fused[1][1]


def test_without_fusion_the_one_side_is_cut_at_the_limit() -> None:
    assert fuse_rankings({"sparse": SPARSE}, fuse=False, limit=2, fusion=Fusion()) == SPARSE[:2]
    assert fuse_rankings({}, fuse=True, limit=2, fusion=Fusion()) == []


def test_hits_leave_out_points_without_a_payload() -> None:
    payloads = {"a": {"text": "x"}, "c": {"text": "z"}}
    assert hits_of([("a", 0.9), ("b", 0.5), ("c", 0.1)], payloads) == [
        Hit("a", 0.9, {"text": "x"}),
        Hit("c", 0.1, {"text": "z"}),
    ]
