"""What a ``SearchFilter`` means, once, for every adapter to translate.

A chunk matches when each listed payload field holds one of the allowed values (for
the list field ``roles``: shares at least one). Every condition is a "must"; adapters
only change the spelling (``qdrant_edge.FieldCondition`` / ``models.FieldCondition``
with match-any). Values are sorted so the engine request is the same for equal filters.
"""

from __future__ import annotations

from retrieval.index.base import SearchFilter


def can_match(flt: SearchFilter) -> bool:
    """Deny by default: no roles, or a narrowing given as an empty set, matches nothing."""
    narrowing = (flt.doc_types, flt.buckets, flt.document_ids)
    return bool(flt.roles) and all(values is None or values for values in narrowing)


def match_any_conditions(flt: SearchFilter) -> list[tuple[str, list[str]]]:
    """``(payload field, allowed values)`` pairs, all of which must hold."""
    conditions = [("roles", sorted(flt.roles))]
    narrowing = (
        ("doc_type", flt.doc_types),
        ("bucket", flt.buckets),
        ("document_id", flt.document_ids),
    )
    conditions.extend((key, sorted(values)) for key, values in narrowing if values is not None)
    return conditions
