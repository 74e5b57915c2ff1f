"""Token validation refuses what an attacker or a confused provider could send (reference §11.4).

Tokens are built here by hand (joserfc for the signatures, base64 by hand for the unsigned ones), so
the validator is never its own oracle.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from dmpclient.psc import PscCallbackError, PscClient, PscConfig, PscTokenError
from dmpclient.psc.flows import Provider
from dmpclient.psc.protocol import (
    ClientCredentials,
    HttpAnswer,
    HttpRequest,
    PendingAuthorization,
    TokenSet,
    callback_code,
)
from dmpclient.psc.tokens import ProviderKeys, validate_access_token, validate_id_token
from dmpclient.security.pki import TestPki
from mock_server.psc import MockPsc
from mock_server.psc.keys import ProviderKey
from mock_server.server import RunningServer
from tests.psc.conftest import SECRET_ENV, browser_sign_in, psc_config

ISSUER = "https://auth.example/auth/realms/esante-wallet"
CLIENT = "my-lps"
PROVIDER = RSAKey.generate_key(2048, parameters={"kid": "psc-1", "alg": "RS256", "use": "sig"})
KEYS = ProviderKeys({"keys": [PROVIDER.as_dict(private=False)]})


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "f:1:899900063480",
        "exp": now + 120,
        "iat": now,
        "nonce": "n-1",
        "acr": "eidas1",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict[str, Any], *, key: Any = PROVIDER, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(header or {"alg": "RS256", "kid": "psc-1"}, payload, key)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def rule_of(token: str, nonce: str | None = "n-1") -> str:
    with pytest.raises(PscTokenError) as caught:
        validate_id_token(token, KEYS, issuer=ISSUER, client_id=CLIENT, nonce=nonce, now=int(time.time()))
    assert token not in str(caught.value)
    return caught.value.rule


def test_a_valid_id_token_passes() -> None:
    verified = validate_id_token(
        signed(claims()), KEYS, issuer=ISSUER, client_id=CLIENT, nonce="n-1", now=int(time.time())
    )
    assert verified.claims["sub"] == "f:1:899900063480"
    assert "eyJ" not in repr(verified)


@pytest.mark.parametrize(
    ("token", "rule"),
    [
        (signed(claims(nonce="other")), "nonce"),
        (signed(claims(nonce=None)), "nonce"),
        (signed(claims(aud="another-client")), "audience"),
        (signed(claims(aud=[CLIENT, "other"])), "azp"),
        (signed(claims(exp=int(time.time()) - 3600)), "expired"),
        (signed(claims(iss="https://evil.example/auth/realms/esante-wallet")), "issuer"),
        (signed(claims(acr="eidas2")), "acr"),
        (signed(claims(acr=None)), "acr"),
        (signed(claims(sub=None)), "missing_claim"),
        (signed(claims(), header={"alg": "RS256", "kid": "rotated-away"}), "unknown_key"),
        (signed(claims(), key=RSAKey.generate_key(2048), header={"alg": "RS256", "kid": "psc-1"}), "signature"),
    ],
)
def test_refused_id_tokens(token: str, rule: str) -> None:
    assert rule_of(token) == rule


def test_alg_none_is_never_accepted() -> None:
    unsigned = f"{b64({'alg': 'none', 'kid': 'psc-1'})}.{b64(claims())}."
    assert rule_of(unsigned) in ("algorithm", "format")
    unsigned_with_signature = f"{b64({'alg': 'none', 'kid': 'psc-1'})}.{b64(claims())}.c2ln"
    assert rule_of(unsigned_with_signature) in ("algorithm", "format")


def test_hmac_with_the_public_key_as_secret_is_refused() -> None:
    """The classic key-confusion attack: HS256 keyed with the provider's public PEM (built by hand)."""
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'psc-1'})}.{b64(claims())}"
    mac = hmac.new(PROVIDER.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert rule_of(confused) == "algorithm"


def test_a_jwks_with_a_private_key_is_refused() -> None:
    with pytest.raises(PscTokenError, match="private"):
        ProviderKeys({"keys": [PROVIDER.as_dict(private=True)]})


def test_access_token_audience_and_expiry() -> None:
    token = signed(claims(aud="urn:dmp", nonce=None))
    assert validate_access_token(token, KEYS, issuer=ISSUER, audience="urn:dmp", now=int(time.time())).claims
    with pytest.raises(PscTokenError) as caught:
        validate_access_token(token, KEYS, issuer=ISSUER, audience="urn:other", now=int(time.time()))
    assert caught.value.rule == "audience"
    with pytest.raises(PscTokenError) as caught:
        validate_access_token(token, KEYS, issuer=ISSUER, audience="urn:dmp", now=int(time.time()) + 3600)
    assert caught.value.rule == "expired"


PENDING = PendingAuthorization("https://auth.example/auth?x", "https://lps.example/cb", "state-1", "n-1", "v" * 64)


@pytest.mark.parametrize(
    ("callback", "message"),
    [
        ("https://lps.example/cb?code=c&state=forged", "state"),
        ("https://lps.example/cb?code=c", "state"),
        ("https://lps.example/cb?error=access_denied&state=state-1", "access_denied"),
        ("https://lps.example/cb?state=state-1", "no authorization code"),
        ("https://evil.example/cb?code=c&state=state-1", "redirect URI"),
    ],
)
def test_callbacks_that_are_not_ours(callback: str, message: str) -> None:
    with pytest.raises(PscCallbackError, match=message):
        callback_code(callback, PENDING)
    assert callback_code("https://lps.example/cb?code=abc&state=state-1", PENDING) == "abc"


def test_wrong_nonce_end_to_end(client: PscClient, pki: TestPki) -> None:
    """A code obtained for one sign-in, redeemed with another nonce (a replayed ID token), is refused."""
    pending = client.begin_sign_in("http://127.0.0.1:8765/callback")
    callback = browser_sign_in(pending.url, pki)
    with pytest.raises(PscTokenError) as caught:
        client.finish_sign_in(callback, dataclasses.replace(pending, nonce="another-nonce"))
    assert caught.value.rule == "nonce"


def test_a_provider_claiming_another_issuer_is_refused(mock_psc: tuple[MockPsc, RunningServer], pki: TestPki) -> None:
    psc = mock_psc[0]
    wrong = psc_config(
        psc,
        pki,
        metadata_url=psc.provider.issuer + "/.well-known/wallet-openid-configuration",
        issuer="https://127.0.0.1:1/auth/realms/esante-wallet",
    )
    with PscClient(wrong, env=SECRET_ENV) as client, pytest.raises(Exception, match="another issuer"):
        client.metadata()


def test_key_rotation_refetches_the_jwks_once(client: PscClient, mock_psc: tuple[MockPsc, RunningServer]) -> None:
    psc = mock_psc[0]
    client.metadata()
    before = client.run(client.provider.keys())
    psc.provider.key = ProviderKey.generate()  # the provider rotates its key
    psc.provider.public_keys = ProviderKeys(psc.provider.key.jwks())
    session = client.sign_in_ciba(
        "899900063480", on_started=lambda s: psc.provider.decide_ciba(s.auth_req_id, approve=True)
    )
    assert session.identity.national_id == "899900063480"
    assert client.run(client.provider.keys()).kids != before.kids
    assert KeySet  # joserfc key sets are what the provider publishes


# --- a refresh answer's ID token (OpenID Connect Core §12.2), the flow driven with hand-made answers ---------

REFRESH_CONFIG = PscConfig(issuer=ISSUER, client_id=CLIENT, client_secret_env="PSC_SECRET")
SUBJECT = "f:1:899900063480"


def _json(document: dict[str, Any]) -> HttpAnswer:
    return HttpAnswer(200, "application/json", json.dumps(document).encode())


def refreshed(id_token: str | None, subject: str | None = SUBJECT) -> TokenSet:
    """Drive ``Provider.refresh`` against a provider whose answers are written here."""
    base = f"{ISSUER}/protocol/openid-connect"
    discovery = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{base}/auth",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/certs",
    }
    token = {"access_token": "at", "token_type": "Bearer", "expires_in": 120, "refresh_token": "rt2"}
    answers = {
        REFRESH_CONFIG.discovery_url: _json(discovery),
        f"{base}/certs": _json({"keys": [PROVIDER.as_dict(private=False)]}),
        f"{base}/token": _json(token if id_token is None else {**token, "id_token": id_token}),
    }
    provider = Provider(REFRESH_CONFIG, ClientCredentials(CLIENT, "client_secret_basic", secret="s"), time.time)
    flow, answer = provider.refresh("rt1", subject), None
    try:
        while True:
            step = flow.send(answer)
            assert isinstance(step, HttpRequest)
            answer = answers[step.url]
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def test_a_refreshed_id_token_without_nonce_for_the_same_subject_is_kept() -> None:
    token = signed(claims(nonce=None, acr=None))
    assert refreshed(token).id_token == token
    assert refreshed(None).id_token is None  # providers may send none (§12.2: "MAY")


@pytest.mark.parametrize(
    ("token", "rule"),
    [
        (signed(claims(nonce=None, sub="f:2:899900000000")), "subject"),
        (
            signed(claims(nonce=None), key=RSAKey.generate_key(2048), header={"alg": "RS256", "kid": "psc-1"}),
            "signature",
        ),
        (signed(claims(nonce=None, aud="another-client")), "audience"),
        (signed(claims(nonce=None, iss="https://evil.example/auth/realms/esante-wallet")), "issuer"),
        (signed(claims(nonce=None, exp=int(time.time()) - 3600)), "expired"),
        (f"{b64({'alg': 'none'})}.{b64(claims(nonce=None))}.", "algorithm"),
    ],
)
def test_a_refreshed_id_token_is_validated_like_the_first(token: str, rule: str) -> None:
    with pytest.raises(PscTokenError) as caught:
        refreshed(token)
    assert caught.value.rule == rule
