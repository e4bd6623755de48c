"""Who is calling: a bearer key turned into a :class:`Principal`, or refused.

Built once at start-up so the edge middleware can authenticate before a body is
read, and the route dependencies reuse the same answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from kernel.errors import AuthenticationError
from kernel.settings import KeyIdentity
from retrieval.access import Principal

PRINCIPAL_STATE_KEY = "principal"


class KeyRing:
    def __init__(self, keys: Mapping[str, KeyIdentity | frozenset[str]], secret: bytes) -> None:
        self._keys = [
            (key.encode(), _principal(key, identity, secret)) for key, identity in keys.items()
        ]

    def from_header(self, authorization: str | None) -> Principal:
        """The principal for an ``Authorization`` header value; 401 when missing or unknown."""
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
        return self.from_key(credentials.strip())

    def from_key(self, presented: str) -> Principal:
        raw = presented.encode()
        found: Principal | None = None
        for key, principal in self._keys:
            # Every key is compared, so the time taken does not tell which one matched.
            if hmac.compare_digest(key, raw):
                found = principal
        if found is None:
            raise AuthenticationError("invalid API key")
        return found


def _principal(key: str, identity: KeyIdentity | frozenset[str], secret: bytes) -> Principal:
    if not isinstance(identity, KeyIdentity):
        identity = KeyIdentity(roles=frozenset(identity))
    return Principal.from_key(key, identity.roles, secret, team=identity.team, name=identity.name)
