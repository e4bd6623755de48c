"""Ranking metrics as trec_eval computes them: nDCG@k, Recall@k, MRR@k.

Pure functions over a run (``{query_id: {doc_id: score}}``) and qrels (``{query_id:
{doc_id: grade}}``). They follow trec_eval (``ndcg_cut``, ``recall``, ``recip_rank``),
so a number here means what it means in a paper:

- **Order.** A run is ranked by score, highest first; equal scores are ordered by doc
  id *descending* (trec_eval's ``strcmp`` the other way round). Retrievers that tie
  get the same order here as in trec_eval, not the order they returned.
- **Relevance.** A document is relevant when its grade is >= 1; unjudged documents
  and grades <= 0 count as not relevant.
- **nDCG@k.** Gain is the grade itself (graded, not binary), discounted by
  ``log2(rank + 1)``; the ideal ranking is the qrels' grades sorted, cut at k.
- **Recall@k.** Relevant documents in the top k over all relevant documents.
- **MRR@k.** 1 / rank of the first relevant document if it is in the top k, else 0.
  (trec_eval's ``recip_rank`` has no cut: it equals MRR@k on a run cut to k.)
- **Which queries.** A query counts when the qrels give it at least one relevant
  document; trec_eval's measures are undefined for the others, which are skipped. A
  judged query the run lacks scores 0 (trec_eval ``-c``): a retriever that returns
  nothing must not look better for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from statistics import fmean

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]
PerQuery = Callable[[list[str], Mapping[str, int], int], float]


def ranked(results: Mapping[str, float]) -> list[str]:
    """Doc ids in trec_eval's order: score descending, then doc id descending."""
    return [doc for doc, _ in _trec_order(results)]


def top(results: Mapping[str, float], k: int) -> dict[str, float]:
    """The first ``k`` results in trec_eval's order (the cut a run file would hold)."""
    return dict(_trec_order(results)[:k])


def judged_queries(qrels: Qrels) -> list[str]:
    """Queries with at least one relevant document, the ones every metric averages over."""
    return sorted(q for q, judged in qrels.items() if any(g >= 1 for g in judged.values()))


def ndcg_at(ranking: list[str], judged: Mapping[str, int], k: int) -> float:
    dcg = sum(
        _gain(judged, doc) / math.log2(rank + 1) for rank, doc in enumerate(ranking[:k], start=1)
    )
    ideal_gains = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal_gains, start=1))
    return dcg / ideal if ideal else 0.0


def recall_at(ranking: list[str], judged: Mapping[str, int], k: int) -> float:
    relevant = sum(1 for g in judged.values() if g >= 1)
    found = sum(1 for doc in ranking[:k] if judged.get(doc, 0) >= 1)
    return found / relevant if relevant else 0.0


def mrr_at(ranking: list[str], judged: Mapping[str, int], k: int) -> float:
    for rank, doc in enumerate(ranking[:k], start=1):
        if judged.get(doc, 0) >= 1:
            return 1.0 / rank
    return 0.0


def per_query(metric: PerQuery, run: Run, qrels: Qrels, k: int) -> dict[str, float]:
    """``metric`` at ``k`` for every judged query (a query missing from the run scores 0)."""
    return {q: metric(ranked(run.get(q, {})), qrels[q], k) for q in judged_queries(qrels)}


def mean(values: Mapping[str, float]) -> float:
    """The mean over queries; 0.0 when there is none (nothing judged, nothing found)."""
    return fmean(values.values()) if values else 0.0


def ndcg(run: Run, qrels: Qrels, k: int) -> float:
    return mean(per_query(ndcg_at, run, qrels, k))


def recall(run: Run, qrels: Qrels, k: int) -> float:
    return mean(per_query(recall_at, run, qrels, k))


def mrr(run: Run, qrels: Qrels, k: int) -> float:
    return mean(per_query(mrr_at, run, qrels, k))


def _gain(judged: Mapping[str, int], doc: str) -> float:
    return float(max(judged.get(doc, 0), 0))


def _trec_order(results: Mapping[str, float]) -> list[tuple[str, float]]:
    # Two stable sorts: doc id descending first, then score descending on top of it.
    by_doc = sorted(results.items(), key=lambda item: item[0], reverse=True)
    return sorted(by_doc, key=lambda item: -item[1])
