"""Who is calling: a bearer key or token turned into a :class:`Principal`, or refused.

Built once at start-up so the edge middleware can authenticate before a body is
read, and the route dependencies reuse the same answer. A bearer value is, in order:

1. a key configured in the settings (``RAGLINE_API_KEYS``, or the embedded mode's
   local key file): compared in constant time, in memory; works with the database down;
2. a managed key (``rk_...``, ``governance.keys``): looked up in the database on every
   request, so a revocation holds at once on every replica; with the database down it
   fails closed with 503;
3. a JWT, when bearer tokens are configured (``governance.tokens``); when they are not,
   a JWT is just an unknown key (401).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool

from governance.keys import KeyStore, looks_managed
from governance.tokens import TokenIdentity, TokenVerifier, looks_like_jwt
from kernel.errors import AuthenticationError
from kernel.settings import DEFAULT_TEAM, KeyIdentity
from retrieval.access import Principal

PRINCIPAL_STATE_KEY = "principal"


class KeyRing:
    def __init__(
        self,
        keys: Mapping[str, KeyIdentity | frozenset[str]],
        secret: bytes,
        *,
        managed: KeyStore | None = None,
        tokens: TokenVerifier | None = None,
    ) -> None:
        self._keys = [
            (key.encode(), _principal(key, identity, secret)) for key, identity in keys.items()
        ]
        self._secret = secret
        self._managed = managed
        self._tokens = tokens

    def from_header(self, authorization: str | None) -> Principal:
        """The principal for an ``Authorization`` header value; 401 when missing or unknown."""
        return self.from_key(_credentials(authorization))

    async def authenticate(self, authorization: str | None) -> Principal:
        """As :meth:`from_header`, for the event loop: lookups that do I/O (the database,
        the identity provider) run in a worker thread, configured keys do not."""
        presented = _credentials(authorization)
        configured = self._configured(presented)
        if configured is not None:
            return configured
        return await run_in_threadpool(self._beyond_configured, presented)

    def from_key(self, presented: str) -> Principal:
        """Raises :class:`AuthenticationError` (401), or ``DependencyUnavailableError`` (503)
        when the database or the identity provider is needed and cannot be reached."""
        configured = self._configured(presented)
        if configured is not None:
            return configured
        return self._beyond_configured(presented)

    def _configured(self, presented: str) -> Principal | None:
        raw = presented.encode()
        found: Principal | None = None
        for key, principal in self._keys:
            # Every key is compared, so the time taken does not tell which one matched.
            if hmac.compare_digest(key, raw):
                found = principal
        return found

    def _beyond_configured(self, presented: str) -> Principal:
        if self._managed is not None and looks_managed(presented):
            key = self._managed.authenticate(presented)
            return Principal(
                key_id=key.id, roles=frozenset(key.roles), team=key.team, name=key.name
            )
        if self._tokens is not None and looks_like_jwt(presented):
            return self._token_principal(self._tokens.verify(presented))
        raise AuthenticationError("invalid API key")

    def _token_principal(self, identity: TokenIdentity) -> Principal:
        # Keyed, so the id in logs and records cannot be turned back into the subject.
        subject = f"{identity.issuer}\x00{identity.subject}".encode()
        mac = hmac.new(self._secret, subject, hashlib.sha256).hexdigest()
        return Principal(
            key_id=f"jwt-{mac[:12]}",
            roles=identity.roles,
            team=identity.team or DEFAULT_TEAM,
            name=identity.name,
        )


def _credentials(authorization: str | None) -> str:
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
    return credentials.strip()


def _principal(key: str, identity: KeyIdentity | frozenset[str], secret: bytes) -> Principal:
    if not isinstance(identity, KeyIdentity):
        identity = KeyIdentity(roles=frozenset(identity))
    return Principal.from_key(key, identity.roles, secret, team=identity.team, name=identity.name)
