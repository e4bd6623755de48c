"""Access control: the one place where a caller becomes an index filter.

Roles come only from the authenticated key. A request may narrow the search (by
document type, bucket) but never widen it; a principal with no roles sees nothing.
Nothing else in the code base builds role filters.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from retrieval.index.base import SearchFilter


@lru_cache(maxsize=1)
def _process_secret() -> bytes:
    """Made on first use, not at import: importing a module draws no randomness."""
    return secrets.token_bytes(32)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``key_id`` is a fingerprint, safe to log; never the key."""

    key_id: str
    roles: frozenset[str]
    # Who pays for the key's answers (budgets, cost reports), and the key's given name.
    team: str = "default"
    name: str | None = None

    @classmethod
    def from_key(
        cls,
        key: str,
        roles: Iterable[str],
        secret: bytes | None = None,
        *,
        team: str = "default",
        name: str | None = None,
    ) -> Principal:
        """Fingerprint with a keyed hash: a plain hash of a short key can be reversed.

        The API passes the server's persistent secret so fingerprints stay comparable
        across restarts; without one a per-process secret still never leaves them unkeyed.
        """
        mac = hmac.new(secret or _process_secret(), key.encode(), hashlib.sha256)
        return cls(
            key_id=f"key-{mac.hexdigest()[:12]}", roles=frozenset(roles), team=team, name=name
        )

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class RequestedFilters:
    """What a request asks to narrow to; ``None`` means no narrowing on that field."""

    doc_types: frozenset[str] | None = None
    buckets: frozenset[str] | None = None


def search_filter(principal: Principal, requested: RequestedFilters | None = None) -> SearchFilter:
    requested = requested or RequestedFilters()
    return SearchFilter(
        roles=frozenset(principal.roles),
        doc_types=requested.doc_types,
        buckets=requested.buckets,
    )
