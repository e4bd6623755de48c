"""What a search asks each engine for, and how the answers become one ranking.

Both adapters run the same plan: the engine scores the dense side and the sparse side,
each under the caller's filter, in one batched call; this module ranks each side and
fuses the two (``base.Fusion``: a convex combination of min-max normalised scores, the
default, or reciprocal rank fusion). Fusion happens here rather than in the engine
(Qdrant's ``Fusion.Rrf`` / ``RrfQuery``) because the engines order equal scores their
own way, not by id, before fusing: two chunks with the same BM25 score (a repeated
boilerplate paragraph, a document's old and new version) get different ranks, hence
different fused scores, in qdrant-edge and in qdrant-client's local mode, and the
fused order differs between adapters (the contract suite fails without this module's
tie-break) and can change when an engine rewrites its segments.
Ranking each side by ``(-score, id)`` first makes the order a function of the scores
alone. Equal fused scores go to the chunk the first side (dense, in a hybrid search)
ranked higher, then by id: RRF gives exact ties often (5 of 43 MS MARCO queries have
one inside the top 10), and an id is no reason to rank one chunk above another.

The RRF formula is Qdrant's, so scores match what its server-side fusion would give:
a point at 0-based position ``p`` of a side earns ``1 / (k + p)``; the sums are fused.

A search is three steps, each usable alone: the side rankings (``SearchPlan.rank``,
``ChunkIndex.rank_sides``), their fusion (``fuse_rankings``), the payloads of the fused
ids (``hits_of``). ``search`` runs all three; the retriever's feedback search re-runs
only the side whose query changed and fuses it with the other side's earlier ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from retrieval.index.base import (
    Fusion,
    Hit,
    SearchFilter,
    SearchMode,
    Side,
    SideRanking,
    SparseVector,
)
from retrieval.index.filters import can_match
from retrieval.index.validation import check_dense, check_sparse

_MODES: frozenset[str] = frozenset({"hybrid", "dense", "sparse"})
# The order the sides are planned, ranked and fused in: the first breaks fused ties.
_SIDES: tuple[Side, ...] = ("dense", "sparse")


@dataclass(frozen=True, slots=True)
class SideQuery:
    """One engine query: nearest neighbours of ``vector`` in the named vector ``side``."""

    side: Side
    vector: Sequence[float] | SparseVector
    limit: int


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """The side queries to run (each under the same filter) and how to combine them."""

    sides: tuple[SideQuery, ...]
    fuse: bool
    limit: int
    fusion: Fusion

    def rank(self, results: Sequence[Iterable[tuple[str, float]]]) -> dict[Side, SideRanking]:
        """The engine's ``(id, score)`` per side, in ``sides`` order -> each side's ranking."""
        return {
            query.side: rank_by_score(answer)
            for query, answer in zip(self.sides, results, strict=True)
        }

    def combine(self, results: Sequence[Iterable[tuple[str, float]]]) -> list[tuple[str, float]]:
        """``(id, score)`` per side, in ``sides`` order -> the final ``limit`` pairs."""
        return fuse_rankings(
            self.rank(results), fuse=self.fuse, limit=self.limit, fusion=self.fusion
        )


def fuse_rankings(
    rankings: Mapping[Side, Sequence[tuple[str, float]]],
    *,
    fuse: bool,
    limit: int,
    fusion: Fusion,
) -> list[tuple[str, float]]:
    """Each side's ranking (``rank_by_score`` order) -> the final ``limit`` pairs.

    What ``ChunkIndex.search`` does with ``rank_sides``' answer (``fuse`` is a hybrid
    search's): the dense side first, whatever the mapping's order, so that a caller
    mixing a fresh ranking of one side with an earlier one of the other fuses exactly
    as one search would. Without ``fuse``, the one side there is, cut at ``limit``.
    """
    present = [(side, rankings[side]) for side in _SIDES if side in rankings]
    if not fuse:
        return list(present[0][1][:limit]) if present else []
    lists = [ranking for _, ranking in present]
    if fusion.method == "rrf":
        return reciprocal_rank_fusion(lists, k=fusion.rrf_k)[:limit]
    weights = [
        fusion.dense_weight if side == "dense" else 1.0 - fusion.dense_weight for side, _ in present
    ]
    return convex_fusion(lists, weights)[:limit]


def hits_of(
    ranked: Iterable[tuple[str, float]], payloads: Mapping[str, Mapping[str, Any]]
) -> list[Hit]:
    """Fused pairs and their payloads -> hits. A point deleted between the query and the
    payload read has no payload: it is simply gone."""
    return [
        Hit(id=point_id, score=score, payload=payloads[point_id])
        for point_id, score in ranked
        if point_id in payloads
    ]


def plan_search(
    *,
    dense: Sequence[float] | None,
    sparse: SparseVector | None,
    flt: SearchFilter,
    limit: int,
    mode: SearchMode,
    prefetch_limit: int,
    fusion: Fusion,
    dim: int,
) -> SearchPlan | None:
    """Validate a search and plan it; ``None`` means the answer is ``[]`` without a query.

    Nothing is queried when the filter can match nothing (no roles, or a narrowing set
    given empty) or when the only side asked for has no terms. In hybrid mode a missing
    or empty side is left out and the other is still ranked by RRF. Each side fetches
    ``max(prefetch_limit, limit)`` candidates, in every mode: a large ``limit`` is not
    capped by the prefetch, and chunks tied at the ``limit`` cut are all fetched, so the
    id tie-break, not the engine, picks which make the cut. (Ties that straddle the
    prefetch cut are still the engine's pick; they only touch the tail of a fusion.)

    Raises ``ValueError`` for an unknown mode, non-positive limits, a malformed
    vector (see ``validation``), or a mode whose vector is missing.
    """
    if mode not in _MODES:
        raise ValueError(f"unknown search mode {mode!r}")
    if limit < 1 or prefetch_limit < 1:
        raise ValueError("limit and prefetch_limit must be >= 1")
    if dense is not None:
        check_dense(dense, dim)
    if sparse is not None:
        check_sparse(sparse)
    if mode == "dense" and dense is None:
        raise ValueError("dense mode needs a dense vector")
    if mode == "sparse" and sparse is None:
        raise ValueError("sparse mode needs a sparse vector")
    if mode == "hybrid" and dense is None and sparse is None:
        raise ValueError("hybrid mode needs a dense or a sparse vector")
    if not can_match(flt):
        return None

    per_side = max(prefetch_limit, limit)
    sides: list[SideQuery] = []
    if mode in ("hybrid", "dense") and dense is not None:
        sides.append(SideQuery("dense", dense, per_side))
    if mode in ("hybrid", "sparse") and sparse is not None and sparse.indices:
        sides.append(SideQuery("sparse", sparse, per_side))
    if not sides:
        return None
    return SearchPlan(sides=tuple(sides), fuse=mode == "hybrid", limit=limit, fusion=fusion)


def rank_by_score(scored: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """Best score first; equal scores in id order."""
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[tuple[str, float]]], *, k: int
) -> list[tuple[str, float]]:
    """Fuse ranked lists: ``sum(1 / (k + position))`` per id, best first.

    Ties go to the id the first ranking placed higher (absent counts as last), then
    to the smaller id.
    """
    fused: dict[str, float] = {}
    for ranking in rankings:
        for position, (point_id, _) in enumerate(ranking):
            fused[point_id] = fused.get(point_id, 0.0) + 1.0 / (k + position)
    return _by_fused_score(fused, rankings)


def convex_fusion(
    rankings: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float]
) -> list[tuple[str, float]]:
    """``sum(weight * normalised score)`` per id, best first, ties as in RRF.

    Each ranking's scores are min-max normalised over its own candidates (its best
    1, its last 0; all equal: all 1); an id a ranking lacks scores 0 there. Cosine
    and BM25 live on different scales, and a BM25 scale differs per query: only
    normalised, do the two weigh what the weights say.
    """
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        high, low = ranking[0][1], ranking[-1][1]
        spread = high - low
        for point_id, score in ranking:
            normalised = (score - low) / spread if spread > 0 else 1.0
            fused[point_id] = fused.get(point_id, 0.0) + weight * normalised
    return _by_fused_score(fused, rankings)


def _by_fused_score(
    fused: dict[str, float], rankings: Sequence[Sequence[tuple[str, float]]]
) -> list[tuple[str, float]]:
    first = {point_id: p for p, (point_id, _) in enumerate(rankings[0])} if rankings else {}
    last = len(first)
    return sorted(fused.items(), key=lambda pair: (-pair[1], first.get(pair[0], last), pair[0]))
