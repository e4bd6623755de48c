"""Pseudo-relevance feedback: the first search's best chunks sharpen the second.

Two moves, both from chunks that passed the registry gate (so nothing the caller may
not read steers what the caller gets), both measured in the README's fusion study:

- **dense** (Rocchio): the query vector plus ``weight`` times the mean of the chunks'
  vectors, renormalised. It lifts chunks near what was found, not only near the words
  of the question;
- **lexical** (off by default: ``expansion_terms`` 0), for short queries only: the
  chunks' strongest BM25 terms join the
  sparse query at up to ``weight`` of a question term. Short questions ("tide range
  bay") leave out words the answer uses; long ones name what they want, and extra
  terms only dilute their rare names (on HaluEval's multi-entity questions expansion
  cost 0.005-0.011 nDCG@10, on MS MARCO's short ones it gained 0.016).

Terms are picked by their stored BM25 weight summed over the chunks, not weighted by
IDF: the engine applies IDF at search time and does not expose it, and stopwords never
reach a sparse vector. Without IDF, boilerplate every document repeats is picked too,
which is why the lexical move is opt-in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retrieval.index.base import SparseVector


def moved_query(
    query: Sequence[float], vectors: Sequence[Sequence[float]], weight: float
) -> list[float] | None:
    """``query + weight * mean(vectors)``, unit length; None when there is nothing to add."""
    if not vectors or weight <= 0:
        return None
    centroid = np.mean(np.asarray(vectors, dtype=np.float64), axis=0)
    moved = np.asarray(query, dtype=np.float64) + weight * centroid
    norm = float(np.linalg.norm(moved))
    return [float(x) for x in moved / norm] if norm > 0 else None


def expanded_query(
    query: SparseVector,
    found: Sequence[SparseVector],
    *,
    terms: int,
    weight: float,
    max_query_terms: int,
) -> SparseVector | None:
    """``query`` plus the ``terms`` strongest other terms of ``found``, or None.

    Each added term weighs ``weight`` times its summed stored weight over the best
    one's; question terms keep their own. None: the query is longer than
    ``max_query_terms``, or there is nothing to add.
    """
    if terms < 1 or weight <= 0 or not found or len(query.indices) > max_query_terms:
        return None
    asked = set(query.indices)
    gathered: dict[int, float] = {}
    for vector in found:
        for index, value in zip(vector.indices, vector.values, strict=True):
            if index not in asked:
                gathered[index] = gathered.get(index, 0.0) + value
    chosen = sorted(gathered.items(), key=lambda item: (-item[1], item[0]))[:terms]
    if not chosen:
        return None
    top = chosen[0][1]
    weights = dict(zip(query.indices, query.values, strict=True))
    weights |= {index: weight * value / top for index, value in chosen}
    indices = sorted(weights)
    return SparseVector(tuple(indices), tuple(weights[i] for i in indices))
