"""Bearer tokens: only a token signed by the provider's key, for us, unexpired, is accepted.

Key pairs (RSA and EC) are made here with ``cryptography``; the provider's JWKS is a
file under tmp_path, or a loader the test controls. Each refusal test names one way a
verifier goes wrong (a wrong issuer or audience let through, ``alg: none``, an HMAC
keyed with the public key, a key id not in the set) and would fail on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.auth import KeyRing
from governance.tokens import JwksKeys, TokenVerifier, looks_like_jwt
from kernel.errors import AuthenticationError, ConfigurationError, DependencyUnavailableError
from kernel.settings import AuthSettings
from tests.jwt_issuer import AUDIENCE, ISSUER, Signer, jwks_file

pytestmark = pytest.mark.unit

GROUP_ROLES = {"hr-staff": ["hr"], "engineers": ["eng", "public"], "admins": ["admin"]}


@pytest.fixture(scope="module")
def rsa_signer() -> Signer:
    return Signer("RSA", "rsa-1")


@pytest.fixture(scope="module")
def ec_signer() -> Signer:
    return Signer("EC", "ec-1")


def _settings(jwks: Path, **overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {
        "jwks_file": jwks,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "group_roles": GROUP_ROLES,
        "team_claim": "team",
        "leeway_s": 0,
    }
    values.update(overrides)
    return AuthSettings(**values)


@pytest.fixture
def verifier(tmp_path: Path, rsa_signer: Signer, ec_signer: Signer) -> TokenVerifier:
    made = TokenVerifier.from_settings(
        _settings(jwks_file(tmp_path / "jwks.json", rsa_signer, ec_signer))
    )
    assert made is not None
    return made


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthenticationError) as refused:
        verifier.verify(token)
    return refused.value.message


# -- accepted ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["rsa", "ec"])
def test_a_valid_token_gives_its_mapped_groups_roles_team_and_name(
    verifier: TokenVerifier, rsa_signer: Signer, ec_signer: Signer, which: str
) -> None:
    signer = rsa_signer if which == "rsa" else ec_signer
    token = signer.token(groups=["engineers", "hr-staff", "unmapped"], team="platform")

    identity = verifier.verify(token)

    assert identity.roles == {"eng", "public", "hr"}
    assert identity.groups == ("engineers", "hr-staff", "unmapped")
    assert (identity.issuer, identity.subject) == (ISSUER, "user-123")
    assert (identity.team, identity.name) == ("platform", "ada@example.test")


def test_a_token_with_no_mapped_group_authenticates_and_sees_nothing(
    verifier: TokenVerifier, rsa_signer: Signer
) -> None:
    for groups in (["contractors"], [], None):
        identity = verifier.verify(rsa_signer.token(groups=groups, email=None))

        assert identity.roles == frozenset()
        assert identity.name == "user-123"  # no email: the subject


def test_a_nested_groups_claim_is_read_by_its_dotted_path(
    tmp_path: Path, rsa_signer: Signer
) -> None:
    settings = _settings(
        jwks_file(tmp_path / "jwks.json", rsa_signer), groups_claim="realm_access.roles"
    )
    made = TokenVerifier.from_settings(settings)
    assert made is not None

    identity = made.verify(rsa_signer.token(groups=None, realm_access={"roles": ["admins"]}))

    assert identity.roles == {"admin"}


def test_the_keyring_names_a_token_caller_by_a_keyed_hash_of_issuer_and_subject(
    verifier: TokenVerifier, rsa_signer: Signer
) -> None:
    secret = b"s" * 32
    ring = KeyRing({"configured-key": frozenset({"admin"})}, secret, tokens=verifier)

    principal = ring.from_header(f"Bearer {rsa_signer.token(groups=['hr-staff'])}")

    expected = hmac.new(secret, f"{ISSUER}\x00user-123".encode(), hashlib.sha256).hexdigest()
    assert principal.key_id == f"jwt-{expected[:12]}"
    assert principal.roles == {"hr"}
    assert (principal.team, principal.name) == ("default", "ada@example.test")
    assert ring.from_key("configured-key").roles == {"admin"}


# -- refused -------------------------------------------------------------------------


def test_a_wrong_issuer_or_audience_is_refused(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    assert _refused(verifier, rsa_signer.token(iss="https://evil.test")) == (
        "invalid token: issuer not accepted"
    )
    assert _refused(verifier, rsa_signer.token(aud="another-app")) == (
        "invalid token: audience not accepted"
    )
    assert _refused(verifier, rsa_signer.token(aud=None)) == "invalid token: no 'aud' claim"


def test_an_expired_token_is_refused_and_leeway_is_honoured(
    tmp_path: Path, rsa_signer: Signer, verifier: TokenVerifier
) -> None:
    expired = rsa_signer.token(exp=int(time.time()) - 60)
    assert _refused(verifier, expired) == "invalid token: expired"
    assert _refused(verifier, rsa_signer.token(exp=None)) == "invalid token: no 'exp' claim"

    lenient = TokenVerifier.from_settings(
        _settings(jwks_file(tmp_path / "other.json", rsa_signer), leeway_s=120)
    )
    assert lenient is not None
    assert lenient.verify(expired).subject == "user-123"


def test_a_token_signed_by_another_key_with_a_listed_kid_is_refused(
    verifier: TokenVerifier, rsa_signer: Signer
) -> None:
    impostor = Signer("RSA", rsa_signer.kid)  # same kid, different private key

    assert _refused(verifier, impostor.token()) == "invalid token: bad signature"


def test_a_token_whose_payload_was_changed_is_refused(
    verifier: TokenVerifier, rsa_signer: Signer
) -> None:
    header, payload, signature = rsa_signer.token(groups=["hr-staff"]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["groups"] = ["admins"]
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])

    assert _refused(verifier, forged) == "invalid token: bad signature"


def test_alg_none_is_refused(verifier: TokenVerifier, rsa_signer: Signer) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": rsa_signer.kid}).encode())
    payload = rsa_signer.token().split(".")[1]

    assert _refused(verifier, f"{header}.{payload}.") == "invalid token: algorithm not accepted"


def test_an_hmac_keyed_with_the_public_key_is_refused(
    verifier: TokenVerifier, rsa_signer: Signer
) -> None:
    """The classic confusion: HS256 with the provider's public key as the secret."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": rsa_signer.kid}).encode())
    payload = rsa_signer.token(groups=["admins"]).split(".")[1]
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(rsa_signer.public_pem(), signing_input, hashlib.sha256).digest()

    assert _refused(verifier, f"{header}.{payload}.{_b64(mac)}") == (
        "invalid token: algorithm not accepted"
    )


def test_an_rs256_header_on_an_ec_key_is_refused(
    verifier: TokenVerifier, ec_signer: Signer
) -> None:
    header = _b64(json.dumps({"alg": "RS256", "kid": ec_signer.kid}).encode())
    rest = ec_signer.token().split(".", 1)[1]

    assert _refused(verifier, f"{header}.{rest}") == (
        "invalid token: algorithm does not fit the signing key"
    )


def test_an_unknown_kid_is_refused(verifier: TokenVerifier) -> None:
    stranger = Signer("EC", "not-in-the-set")

    assert _refused(verifier, stranger.token()) == (
        "invalid token: signed with a key the provider does not list"
    )


def test_garbage_is_refused_without_echoing_it(verifier: TokenVerifier) -> None:
    for garbage in ("eyJhbGciOi.not-base64!.x", "eyJ9.e30.", "a.b.c"):
        message = _refused(verifier, garbage)
        assert garbage not in message


def test_without_tokens_configured_a_jwt_is_an_unknown_key(rsa_signer: Signer) -> None:
    ring = KeyRing({"configured-key": frozenset({"admin"})}, b"s" * 32)
    token = rsa_signer.token()
    assert looks_like_jwt(token)

    with pytest.raises(AuthenticationError, match=r"^invalid API key$"):
        ring.from_header(f"Bearer {token}")


# -- the provider's key set ------------------------------------------------------------


class Provider:
    """A JWKS that the test rotates; counts how often it is read."""

    def __init__(self, *signers: Signer) -> None:
        self.signers = list(signers)
        self.reads = 0
        self.down = False

    def load(self) -> bytes:
        self.reads += 1
        if self.down:
            raise DependencyUnavailableError("the identity provider's keys cannot be fetched")
        return json.dumps({"keys": [s.jwk for s in self.signers]}).encode()


def _url_verifier(
    provider: Provider, clock: Callable[[], float], min_refresh_s: float = 30
) -> TokenVerifier:
    settings = AuthSettings(
        jwks_url="http://idp.invalid/jwks",
        issuer=ISSUER,
        audience=AUDIENCE,
        group_roles=GROUP_ROLES,
    )
    keys = JwksKeys(provider.load, min_refresh_s=min_refresh_s, monotonic=clock)
    return TokenVerifier(settings, keys)


def test_keys_are_cached_and_a_new_kid_is_fetched_at_most_once_per_interval(
    rsa_signer: Signer, ec_signer: Signer
) -> None:
    now = [1000.0]
    provider = Provider(rsa_signer)
    verifier = _url_verifier(provider, lambda: now[0])

    for _ in range(3):
        verifier.verify(rsa_signer.token())
    assert provider.reads == 1  # cached by kid

    now[0] += 31
    provider.signers.append(ec_signer)  # the provider rotates in a new key
    assert verifier.verify(ec_signer.token()).roles == {"hr"}
    assert provider.reads == 2

    stranger = Signer("EC", "made-up")
    for _ in range(5):
        _refused(verifier, stranger.token())
    assert provider.reads == 2  # a flood of unknown kids costs no flood of fetches


def test_a_provider_down_is_a_503_not_an_acceptance_and_cached_keys_carry_on(
    rsa_signer: Signer, ec_signer: Signer
) -> None:
    now = [1000.0]
    provider = Provider(rsa_signer)
    provider.down = True
    verifier = _url_verifier(provider, lambda: now[0])

    with pytest.raises(DependencyUnavailableError):
        verifier.verify(rsa_signer.token())

    provider.down = False
    verifier.verify(rsa_signer.token())
    provider.down = True
    now[0] += 7200  # past the set's maximum age: a refresh is tried and fails
    assert verifier.verify(rsa_signer.token()).subject == "user-123"


# -- settings ----------------------------------------------------------------------------


def test_settings_refuse_symmetric_algorithms_and_tokens_without_issuer_or_audience(
    tmp_path: Path,
) -> None:
    jwks = tmp_path / "jwks.json"
    for algorithms in (["HS256"], ["none"], ["RS256", "HS512"]):
        with pytest.raises(ValidationError, match="token algorithms must be among"):
            _settings(jwks, algorithms=algorithms)
    with pytest.raises(ValidationError, match="need RAGLINE_AUTH__ISSUER"):
        AuthSettings(jwks_file=jwks, audience=AUDIENCE)
    with pytest.raises(ValidationError, match="not both"):
        _settings(jwks, jwks_url="https://idp.example.test/jwks")
    assert TokenVerifier.from_settings(AuthSettings()) is None


def test_a_missing_or_broken_jwks_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the JWKS file"):
        TokenVerifier.from_settings(_settings(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))
    with pytest.raises(ConfigurationError, match="no public signing key"):
        TokenVerifier.from_settings(_settings(broken))


def test_group_roles_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel.settings import Settings

    monkeypatch.setenv("RAGLINE_AUTH__GROUP_ROLES", json.dumps(GROUP_ROLES))
    monkeypatch.setenv("RAGLINE_AUTH__ALGORITHMS", '["ES256"]')

    auth = Settings().auth

    assert auth.group_roles == GROUP_ROLES
    assert auth.algorithms == ["ES256"]
