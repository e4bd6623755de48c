"""Checks every adapter applies before an engine sees a chunk or a query vector.

A malformed vector or id is a bug in the caller, not an outage: it must fail here as
``ValueError`` rather than reach the engine and come back as
``DependencyUnavailableError`` (a 503 that invites a retry). Ids are also canonicalised
so both adapters store, return and tie-break on the same spelling, and payloads are made
JSON-shaped so both engines store the same values.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from retrieval.index.base import SparseVector

_MAX_SPARSE_INDEX = 2**32 - 1  # Qdrant stores sparse indices as u32


def canonical_id(point_id: str) -> str:
    """The lowercase hyphenated form of a UUID string; ``ValueError`` if it is not one."""
    try:
        return str(uuid.UUID(point_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"chunk id {point_id!r} is not a UUID") from exc


def check_dense(vector: Sequence[float], dim: int) -> None:
    """``ValueError`` unless ``vector`` holds ``dim`` finite numbers, not all zero."""
    if len(vector) != dim:
        raise ValueError(f"dense vector has {len(vector)} values, the index holds {dim}")
    if not all(math.isfinite(x) for x in vector):
        raise ValueError("dense vector holds a non-finite value")
    if not any(vector):
        raise ValueError("dense vector is all zeros: cosine similarity is undefined")


def check_sparse(vector: SparseVector) -> None:
    """``ValueError`` unless indices are distinct u32 values, paired with finite values."""
    if len(vector.indices) != len(vector.values):
        raise ValueError("sparse vector has different numbers of indices and values")
    if len(set(vector.indices)) != len(vector.indices):
        raise ValueError("sparse vector repeats an index")
    if any(not 0 <= i <= _MAX_SPARSE_INDEX for i in vector.indices):
        raise ValueError("sparse vector index outside 0..2**32-1")
    if not all(math.isfinite(v) for v in vector.values):
        raise ValueError("sparse vector holds a non-finite value")


def payload_dict(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-shaped copy: top-level tuples become lists and sets sorted lists.

    ``roles`` is often held as a ``frozenset``; neither engine stores sets.
    """
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, set | frozenset):
            out[key] = sorted(value)
        elif isinstance(value, tuple):
            out[key] = list(value)
        else:
            out[key] = value
    return out
