"""OIDC/JWT bearer tokens: verified against the identity provider's keys, groups mapped to roles.

A token is accepted only when all of these hold: its header names an algorithm of
``RAGLINE_AUTH__ALGORITHMS`` (asymmetric only, so neither ``none`` nor an HMAC keyed
with a public key can pass), its key id is in the provider's JWKS and the key's
type fits that algorithm, its signature verifies, and its ``iss``, ``aud``, ``exp``
(with ``leeway_s``) and ``sub`` are present and right.

Roles come from groups only: the union of the roles ``group_roles`` maps the token's
groups to. A group not mapped gives nothing, so a valid token with no mapped group
authenticates and sees nothing (deny by default).

The JWKS comes from a file (read at start-up, so a broken file stops the service) or
a URL (fetched on first use with a timeout). Keys are cached by key id; a token naming
an unknown key id makes the set be read again, at most once per ``min_refresh_s``, so
a provider's key rotation is picked up and a flood of made-up key ids costs no
flood of fetches. A provider that cannot be reached when its keys are needed is a
:class:`DependencyUnavailableError` (503), never an acceptance.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from kernel.errors import AuthenticationError, ConfigurationError, DependencyUnavailableError
from kernel.settings import AuthSettings

log = logging.getLogger(__name__)

# A compact JWS: three base64url parts, the header a JSON object ("eyJ" is '{"').
_JWT_SHAPE = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_MIN_REFRESH_S = 30.0
_MAX_AGE_S = 3600.0  # the whole set is read again after this, so a dropped key goes
_NAME_MAX = 64
_MISFIT = "invalid token: algorithm does not fit the signing key"
_TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

Monotonic = Callable[[], float]


def looks_like_jwt(value: str) -> bool:
    return bool(_JWT_SHAPE.match(value))


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    """Who a verified token says the caller is; ``roles`` are already mapped from groups."""

    issuer: str
    subject: str
    name: str
    team: str | None
    groups: tuple[str, ...]
    roles: frozenset[str]


class JwksKeys:
    """The provider's public keys by key id, read through ``load`` (a file or a URL)."""

    def __init__(
        self,
        load: Callable[[], bytes],
        *,
        min_refresh_s: float = _MIN_REFRESH_S,
        max_age_s: float = _MAX_AGE_S,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._load = load
        self._min_refresh_s = min_refresh_s
        self._max_age_s = max_age_s
        self._monotonic = monotonic
        self._keys: dict[str, dict[str, Any]] = {}
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def prime(self) -> None:
        """Read the set now (start-up): a set that cannot be read is a configuration error."""
        with self._lock:
            self._refresh()

    def key_for(self, kid: str | None) -> dict[str, Any]:
        """The JWK with this key id; a token without one is accepted only from a one-key set."""
        with self._lock:
            now = self._monotonic()
            stale = self._loaded_at is None or now - self._loaded_at >= self._max_age_s
            if stale:
                self._refresh_or_keep()
            found = self._find(kid)
            may_refresh = self._loaded_at is None or now - self._loaded_at >= self._min_refresh_s
            if found is None and not stale and may_refresh:
                self._refresh_or_keep()
                found = self._find(kid)
        if found is None:
            raise AuthenticationError("invalid token: signed with a key the provider does not list")
        return found

    def _find(self, kid: str | None) -> dict[str, Any] | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _refresh_or_keep(self) -> None:
        """Read the set again; if that fails with keys in hand, keep them and say so."""
        try:
            self._refresh()
        except DependencyUnavailableError:
            if not self._keys:
                raise
            log.warning("token keys not refreshed: the identity provider is unavailable")

    def _refresh(self) -> None:
        raw = self._load()
        self._keys = _parse_jwks(raw)
        self._loaded_at = self._monotonic()


def _parse_jwks(raw: bytes) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ConfigurationError("the JWKS is not JSON") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list):
        raise ConfigurationError('the JWKS has no "keys" list')
    usable: dict[str, dict[str, Any]] = {}
    for number, key in enumerate(keys):
        if not isinstance(key, dict) or key.get("use", "sig") != "sig":
            continue
        if key.get("kty") not in set(_KEY_TYPES.values()):
            continue  # symmetric ("oct") keys never verify tokens here
        kid = key.get("kid")
        usable[kid if isinstance(kid, str) else f"#{number}"] = key
    if not usable:
        raise ConfigurationError("the JWKS holds no public signing key")
    return usable


def jwks_from_file(path: Path) -> Callable[[], bytes]:
    def load() -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read the JWKS file {path}: {exc.strerror}") from None

    return load


def jwks_from_url(url: str, timeout_s: float) -> Callable[[], bytes]:
    def load() -> bytes:
        try:
            resp = httpx.get(url, timeout=timeout_s, follow_redirects=False)
            resp.raise_for_status()
        except httpx.HTTPError:
            raise DependencyUnavailableError(
                "tokens cannot be checked: the identity provider's keys cannot be fetched"
            ) from None
        return resp.content

    return load


class TokenVerifier:
    """Verifies bearer tokens and maps their groups to roles (see the module docstring)."""

    def __init__(self, settings: AuthSettings, keys: JwksKeys) -> None:
        if not (settings.issuer and settings.audience):
            raise ConfigurationError("bearer tokens need an issuer and an audience")
        self._settings = settings
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._keys = keys
        self._group_roles = {g: frozenset(r) for g, r in settings.group_roles.items()}

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> TokenVerifier | None:
        """The verifier the settings ask for, or None when tokens are off.

        A JWKS file is read here, so a missing or broken one fails start-up.
        """
        if settings.jwks_file is not None:
            keys = JwksKeys(jwks_from_file(settings.jwks_file))
            keys.prime()
        elif settings.jwks_url:
            keys = JwksKeys(jwks_from_url(settings.jwks_url, settings.jwks_timeout_s))
        else:
            return None
        return cls(settings, keys)

    def verify(self, token: str) -> TokenIdentity:
        """The identity of a valid token.

        Raises :class:`AuthenticationError` (with the reason, never the token) for any
        token that is not valid, and :class:`DependencyUnavailableError` when the
        provider's keys are needed and cannot be fetched.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("invalid token: malformed") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._settings.algorithms:
            raise AuthenticationError("invalid token: algorithm not accepted")
        kid = header.get("kid")
        jwk_data = self._keys.key_for(kid if isinstance(kid, str) else None)
        claims = self._decode(token, alg, jwk_data)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError("invalid token: no subject")
        groups = _groups(_claim(claims, self._settings.groups_claim))
        roles = frozenset().union(*(self._group_roles.get(g, frozenset()) for g in groups))
        return TokenIdentity(
            issuer=self._issuer,
            subject=subject,
            name=_name(claims, subject),
            team=_team(claims, self._settings.team_claim),
            groups=groups,
            roles=roles,
        )

    def _decode(self, token: str, alg: str, jwk_data: dict[str, Any]) -> dict[str, Any]:
        declared = jwk_data.get("alg")
        if (declared is not None and declared != alg) or (
            _KEY_TYPES.get(alg[:2]) != jwk_data.get("kty")
        ):
            raise AuthenticationError(_MISFIT)
        try:
            key = jwt.PyJWK(jwk_data, algorithm=alg)
        except jwt.PyJWTError:
            raise AuthenticationError(
                "invalid token: algorithm does not fit the signing key"
            ) from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._settings.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("invalid token: expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthenticationError("invalid token: not valid yet") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError("invalid token: issuer not accepted") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError("invalid token: audience not accepted") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(f"invalid token: no '{exc.claim}' claim") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationError("invalid token: bad signature") from None
        except jwt.PyJWTError:
            raise AuthenticationError("invalid token") from None
        return claims


def _claim(claims: dict[str, Any], path: str) -> object:
    """A claim by name, or by a dotted path into nested objects (realm_access.roles)."""
    if path in claims:
        return claims[path]
    value: object = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _groups(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(sorted({g for g in value if isinstance(g, str)}))
    return ()


def _name(claims: dict[str, Any], subject: str) -> str:
    email = claims.get("email")
    chosen = email if isinstance(email, str) and email else subject
    return chosen[:_NAME_MAX]


def _team(claims: dict[str, Any], team_claim: str | None) -> str | None:
    if team_claim is None:
        return None
    value = _claim(claims, team_claim)
    return value if isinstance(value, str) and _TEAM.match(value) else None
