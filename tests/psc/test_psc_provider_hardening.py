"""The mock PSC provider refuses what a real one must (reference §11.2, RFC 7636, RFC 8252 §7.3, RFC 8693),
driven over TLS with a plain HTTP client: raw protocol messages, not the SDK's, so each rule is seen alone."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from dmpclient.psc.profile import JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT
from dmpclient.psc.protocol import CIBA_GRANT
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import web_client_context
from mock_server.psc import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, MockPsc, mock_client
from mock_server.psc.provider import MAX_ASSERTION_LIFETIME
from mock_server.server import RunningServer
from tests.psc.conftest import TEST_PS, Clock, browser_sign_in

Served = tuple[MockPsc, RunningServer]
BASIC = (MOCK_CLIENT_ID, MOCK_CLIENT_SECRET)
LOOPBACK = "http://127.0.0.1/callback"  # registered for the mock client: any port (RFC 8252 §7.3)


@pytest.fixture
def http(pki: TestPki, mock_psc: Served) -> Iterator[httpx.Client]:
    """Closed before the provider's server stops (no keep-alive connection left for it to wait on)."""
    del mock_psc
    with httpx.Client(verify=web_client_context(None, pki.ca_bundle), timeout=10) as client:
        yield client


def _oidc(psc: MockPsc, path: str) -> str:
    return f"{psc.provider.issuer}/protocol/openid-connect/{path}"


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _authorize(http: httpx.Client, psc: MockPsc, **changes: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": MOCK_CLIENT_ID,
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "scope": "openid scope_all",
        "acr_values": "eidas1",
        "state": "s" * 16,
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": _s256("v" * 43),
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return http.get(_oidc(psc, "auth"), params={k: v for k, v in params.items() if v})


def _tokens(http: httpx.Client, psc: MockPsc) -> dict[str, Any]:
    """A CIBA sign-in, approved at once: the provider's token answer (access, ID and refresh tokens)."""
    started = http.post(
        _oidc(psc, "ext/ciba/auth"),
        auth=BASIC,
        data={"scope": "openid scope_all", "login_hint": TEST_PS, "channel": "MOBILE", "binding_message": "42"},
    ).json()
    psc.provider.decide_ciba(started["auth_req_id"], approve=True)
    answer = http.post(
        _oidc(psc, "token"), auth=BASIC, data={"grant_type": CIBA_GRANT, "auth_req_id": started["auth_req_id"]}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _exchange(http: httpx.Client, psc: MockPsc, subject_token: str) -> httpx.Response:
    return http.post(
        _oidc(psc, "token"),
        auth=BASIC,
        data={"grant_type": TOKEN_EXCHANGE_GRANT, "subject_token": subject_token, "subject_token_type": JWT_TOKEN_TYPE},
    )


def test_pkce_s256_is_required_of_every_client(http: httpx.Client, mock_psc: Served) -> None:
    """The mock client is confidential (it has a secret): PKCE is still required, and only S256 (§11.2)."""
    psc = mock_psc[0]
    assert _authorize(http, psc).status_code == 200  # the sign-in page
    for refused in ({"code_challenge": "", "code_challenge_method": ""}, {"code_challenge_method": "plain"}):
        answer = _authorize(http, psc, **refused)
        assert answer.status_code == 302
        assert "error=invalid_request" in answer.headers["location"]


def test_loopback_redirects_differ_only_by_port(http: httpx.Client, mock_psc: Served) -> None:
    psc = mock_psc[0]
    assert LOOPBACK in psc.provider.store.clients[MOCK_CLIENT_ID].redirect_uris
    for accepted in ("http://127.0.0.1:8765/callback", "http://127.0.0.1:1/callback"):
        assert _authorize(http, psc, redirect_uri=accepted).status_code == 200, accepted
    for refused in (
        "http://127.0.0.1:8765/callback?next=https://evil.example",
        "http://127.0.0.1:8765/callback#x",
        "http://user@127.0.0.1:8765/callback",
        "http://127.0.0.1:8765/callback/",
        "https://127.0.0.1:8765/callback",
        "http://localhost:8765/callback",
    ):
        answer = _authorize(http, psc, redirect_uri=refused)
        assert answer.status_code == 400, refused
        assert "location" not in answer.headers


def test_only_psc_access_tokens_are_exchanged_or_accepted_on_userinfo(http: httpx.Client, mock_psc: Served) -> None:
    psc = mock_psc[0]
    tokens = _tokens(http, psc)
    exchanged = _exchange(http, psc, tokens["access_token"])
    assert exchanged.status_code == 200, exchanged.text
    dmp_token = exchanged.json()["access_token"]
    for not_a_psc_access_token in (tokens["id_token"], dmp_token):  # an ID token; a token already exchanged
        refused = _exchange(http, psc, not_a_psc_access_token)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
        userinfo = http.get(_oidc(psc, "userinfo"), headers={"Authorization": f"Bearer {not_a_psc_access_token}"})
        assert userinfo.status_code == 401
    ok = http.get(_oidc(psc, "userinfo"), headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert ok.json()["SubjectNameID"] == TEST_PS


def test_expired_records_are_forgotten(
    http: httpx.Client, mock_psc: Served, provider_clock: Clock, pki: TestPki
) -> None:
    """Codes, CIBA requests and refresh tokens past their expiry go at the next write, not with the process."""
    psc = mock_psc[0]
    store, settings = psc.provider.store, psc.provider.settings
    _tokens(http, psc)  # a redeemed CIBA request and a refresh token
    browser_sign_in(str(_authorize(http, psc).url), pki)  # a code never redeemed
    assert (len(store.codes), len(store.refresh)) == (1, 1)
    provider_clock.offset += max(settings.code_lifetime, settings.refresh_lifetime, settings.ciba_lifetime) + 1
    _tokens(http, psc)
    assert (len(store.codes), len(store.refresh), len(store.ciba)) == (0, 1, 0)


def test_a_client_assertion_living_too_long_is_refused(http: httpx.Client, mock_psc: Served, pki: TestPki) -> None:
    psc = mock_psc[0]
    key = RSAKey.generate_key(2048, parameters={"kid": "lps-1"})
    client = mock_client(
        pki, client_id="jwt-lps", auth_methods=("private_key_jwt",), jwks={"keys": [key.as_dict(private=False)]}
    )
    psc.provider.register_client(client)

    def ciba(lifetime: int) -> httpx.Response:
        now = int(time.time())
        claims = {
            "iss": "jwt-lps",
            "sub": "jwt-lps",
            "aud": psc.provider.token_endpoint,
            "iat": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(16),
        }
        assertion = jwt.encode({"alg": "RS256", "kid": "lps-1"}, claims, key)
        return http.post(
            _oidc(psc, "ext/ciba/auth"),
            data={
                "client_id": "jwt-lps",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": "openid scope_all",
                "login_hint": TEST_PS,
                "channel": "CARD",
            },
        )

    assert ciba(120).status_code == 200
    refused = ciba(MAX_ASSERTION_LIFETIME * 2)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_client")
