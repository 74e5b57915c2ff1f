"""The Pro Santé Connect flows end to end against the mock provider over TLS (sync and async clients)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import RSAKey

from dmpclient.psc import (
    AsyncPscClient,
    PscAccessDenied,
    PscCallbackError,
    PscClient,
    PscRequestExpired,
    PscSession,
    PscSignInRequired,
    PscTokenError,
    SessionFile,
)
from dmpclient.psc.profile import TOKEN_EXCHANGE_GRANT
from dmpclient.psc.protocol import CibaStarted
from dmpclient.psc.session import DEFAULT_REFRESH_LIFETIME
from dmpclient.security.credentials import Credential, load_pem
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import web_client_context
from mock_server.psc import MockPsc, mock_client, prepare_psc
from mock_server.psc.bearer import check_bearer
from mock_server.psc.provider import ProviderSettings
from mock_server.server import RunningServer
from tests.psc.conftest import SECRET_ENV, TEST_PS, Clock, browser_sign_in, psc_config, serve_psc

Served = tuple[MockPsc, RunningServer]


def _approve(psc: MockPsc):  # the professional approves on his phone as soon as asked
    return lambda started: psc.provider.decide_ciba(started.auth_req_id, approve=True)


def test_discovery_uses_the_wallet_metadata_path(client: PscClient, mock_psc: Served) -> None:
    metadata = client.metadata()
    assert metadata.issuer == mock_psc[0].provider.issuer
    assert metadata.backchannel_authentication_endpoint.endswith("/protocol/openid-connect/ext/ciba/auth")


def test_authorization_code_flow_with_pkce(client: PscClient, mock_psc: Served, pki: TestPki) -> None:
    pending = client.begin_sign_in("http://127.0.0.1:8765/callback")
    query = dict(__import__("httpx").URL(pending.url).params)
    assert query["code_challenge_method"] == "S256"
    assert query["acr_values"] == "eidas1"
    assert query["scope"] == "openid scope_all"
    assert query["state"] == pending.state
    assert query["nonce"] == pending.nonce
    assert pending.code_verifier not in pending.url
    session = client.finish_sign_in(browser_sign_in(pending.url, pki), pending)
    assert session.identity.national_id == TEST_PS
    assert [s.selector for s in session.identity.work_situations()] == ["10C"]
    assert client.introspect(session.access_token())["SubjectNameID"] == TEST_PS


def test_a_code_is_redeemed_once(client: PscClient, pki: TestPki) -> None:
    pending = client.begin_sign_in("http://127.0.0.1:8765/callback")
    callback = browser_sign_in(pending.url, pki)
    client.finish_sign_in(callback, pending)
    with pytest.raises(Exception, match="invalid_grant"):
        client.finish_sign_in(callback, pending)


def test_the_user_refuses_in_the_browser(client: PscClient, pki: TestPki) -> None:
    pending = client.begin_sign_in("http://127.0.0.1:8765/callback")
    with pytest.raises(PscCallbackError, match="access_denied"):
        client.finish_sign_in(browser_sign_in(pending.url, pki, deny=True), pending)


def test_desktop_loopback_sign_in(client: PscClient, pki: TestPki) -> None:
    def browser(url: str) -> None:  # the system browser, in the background
        threading.Thread(target=lambda: __import__("httpx").get(browser_sign_in(url, pki)), daemon=True).start()

    session = client.sign_in_with_browser(open_browser=browser, timeout=20)
    assert session.identity.national_id == TEST_PS


def test_ciba_sign_in(client: PscClient, mock_psc: Served) -> None:
    seen: list[CibaStarted] = []

    def started(request: CibaStarted) -> None:
        seen.append(request)
        mock_psc[0].provider.decide_ciba(request.auth_req_id, approve=True)

    session = client.sign_in_ciba(TEST_PS, channel="CARD", binding_message="42", on_started=started)
    assert seen[0].binding_message == "42"
    assert session.identity.national_id == TEST_PS


def test_ciba_polling_honours_pending_and_slow_down(mock_psc: Served, pki: TestPki) -> None:
    psc, _ = mock_psc
    waits: list[float] = []
    advance = iter([0.0, 0.0, 1.5])  # the second poll comes too early (slow_down), the third in time

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 4:
            for pending in psc.provider.pending_ciba():
                psc.provider.decide_ciba(pending.auth_req_id, approve=True)
        psc.provider.clock.offset += next(advance, 2.0)  # type: ignore[attr-defined]

    with PscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=sleep, clock=psc.provider.clock) as client:
        session = client.sign_in_ciba(TEST_PS)
    assert session.identity.national_id == TEST_PS
    # pending; slow_down (the interval grows by 5 s, CIBA §11); pending; approved
    assert waits == [1, 1, 6, 6]


def test_ciba_refused_and_expired(client: PscClient, mock_psc: Served) -> None:
    psc = mock_psc[0]
    with pytest.raises(PscAccessDenied):
        client.sign_in_ciba(TEST_PS, on_started=lambda s: psc.provider.decide_ciba(s.auth_req_id, approve=False))
    started = client.start_ciba(TEST_PS)
    psc.provider.clock.offset += 121  # type: ignore[attr-defined]
    with pytest.raises(PscRequestExpired):
        client.wait_ciba(started)


def test_ciba_auto_approval_after_a_delay(pki: TestPki, tmp_path: Path) -> None:
    psc = prepare_psc(tmp_path, pki, settings=ProviderSettings(ciba_auto_approve_after=0.0))
    with serve_psc(psc, pki), PscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=lambda _s: None) as client:
        assert client.sign_in_ciba(TEST_PS).identity.national_id == TEST_PS


def test_refresh_before_expiry_then_sign_in_again(mock_psc: Served, pki: TestPki) -> None:
    psc = mock_psc[0]
    clock = Clock()
    with PscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=lambda _s: None, clock=clock) as client:
        session = client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        first = session.access_token()
        assert session.access_token() == first  # fresh: no refresh
        clock.offset += 95  # fewer than refresh_margin (30 s) of the 120 s left
        second = session.access_token()
        assert second != first
        clock.offset += 1801  # the refresh token (30 min) has expired too
        with pytest.raises(PscSignInRequired, match="sign in again"):
            session.access_token()


def test_a_refresh_token_refused_by_the_provider_means_sign_in_again(mock_psc: Served, pki: TestPki) -> None:
    psc = mock_psc[0]
    clock = Clock()
    with PscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=lambda _s: None, clock=clock) as client:
        session = client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        psc.provider.clock.offset += 1801  # type: ignore[attr-defined]  # the provider's view: expired
        clock.offset += 100
        with pytest.raises(PscSignInRequired):
            session.access_token()
        assert session.ended


def test_concurrent_callers_share_one_refresh(mock_psc: Served, pki: TestPki) -> None:
    psc = mock_psc[0]
    clock = Clock()
    with PscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=lambda _s: None, clock=clock) as client:
        session = client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        clock.offset += 100
        tokens: list[str] = []
        threads = [threading.Thread(target=lambda: tokens.append(session.access_token())) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(set(tokens)) == 1  # one refresh; a second would have revoked the first refresh token


def test_signed_userinfo_private_key_jwt_and_client_secret_post(mock_psc: Served, pki: TestPki, tmp_path: Path) -> None:
    psc = mock_psc[0]
    key = RSAKey.generate_key(2048, parameters={"kid": "lps-1"})
    psc.provider.register_client(
        mock_client(
            pki,
            client_id="jwt-lps",
            auth_methods=("private_key_jwt",),
            jwks={"keys": [key.as_dict(private=False)]},
            userinfo_jwt=True,
        )
    )
    pem = tmp_path / "lps.key.pem"
    pem.write_bytes(key.as_pem(private=True))
    config = psc_config(
        psc,
        pki,
        client_id="jwt-lps",
        auth_method="private_key_jwt",
        jwt_key=pem,
        jwt_key_id="lps-1",
        client_secret_env=None,
    )
    with PscClient(config, sleep=lambda _s: None) as client:
        session = client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        assert session.userinfo()["SubjectNameID"] == TEST_PS  # answered as application/jwt, validated
    with PscClient(psc_config(psc, pki, auth_method="client_secret_post"), env=SECRET_ENV, sleep=lambda _s: None) as c:
        assert c.sign_in_ciba(TEST_PS, on_started=_approve(psc)).identity.national_id == TEST_PS
    with (
        PscClient(psc_config(psc, pki), env={"PSC_SECRET": "wrong"}, sleep=lambda _s: None) as c,
        pytest.raises(Exception, match="invalid_client"),
    ):
        c.start_ciba(TEST_PS)


def test_mutual_tls_client_authentication(
    mock_psc: Served, pki: TestPki, org_auth: Credential, rogue_pki: TestPki
) -> None:
    psc = mock_psc[0]
    config = psc_config(psc, pki, auth_method="tls_client_auth", client_secret_env=None)
    with PscClient(config, tls=org_auth, sleep=lambda _s: None) as client:
        assert client.sign_in_ciba(TEST_PS, on_started=_approve(psc)).identity.national_id == TEST_PS
    rogue = load_pem(rogue_pki.org_auth.cert, rogue_pki.org_auth.key)  # same subject, untrusted CA
    with PscClient(config, tls=rogue, sleep=lambda _s: None) as client, pytest.raises(Exception):  # noqa: B017
        client.start_ciba(TEST_PS)


def test_token_exchange_gives_the_dmp_bearer_header(mock_psc: Served, pki: TestPki, org_auth: Credential) -> None:
    psc = mock_psc[0]
    exchange = {"token_endpoint": psc.provider.token_endpoint, "audience": psc.provider.settings.dmp_audience}
    config = psc_config(psc, pki, dmp={"token_exchange": exchange})
    with PscClient(config, env=SECRET_ENV, tls=org_auth, sleep=lambda _s: None) as client:
        session = client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        header = session.dmp_authorization_header()
        assert header == session.dmp_authorization_header()  # cached until near its expiry
    caller = check_bearer(
        header["Authorization"],
        TEST_PS,
        keys=psc.provider.public_keys,
        issuer=psc.provider.issuer,
        audience=psc.provider.settings.dmp_audience,
        now=int(Clock()()),
    )
    assert caller is not None
    assert caller.national_id == TEST_PS


def test_logout_ends_the_session_at_the_provider(client: PscClient, mock_psc: Served) -> None:
    session = client.sign_in_ciba(TEST_PS, on_started=_approve(mock_psc[0]))
    saved = session.save()
    session.logout()
    with pytest.raises(PscSignInRequired):
        session.access_token()
    with pytest.raises(PscSignInRequired):
        PscSession.restore(client, saved)  # the refresh token was revoked by the logout
    assert "id_token_hint=" in client.end_session_url("x.y.z", "http://127.0.0.1/")


def test_a_saved_session_survives_in_an_owner_only_file(client: PscClient, mock_psc: Served, tmp_path: Path) -> None:
    session = client.sign_in_ciba(TEST_PS, on_started=_approve(mock_psc[0]))
    store = SessionFile(tmp_path / "cache" / "psc-session.json")
    store.save(session.save())
    assert store.path.stat().st_mode & 0o777 == 0o600
    saved = store.load(now=Clock()())
    assert saved is not None
    restored = PscSession.restore(client, saved)
    assert restored.identity.national_id == TEST_PS
    assert store.load(now=Clock()() + 1801) is None
    assert not store.path.exists()


async def test_async_client_ciba_and_refresh(mock_psc: Served, pki: TestPki) -> None:
    psc = mock_psc[0]
    clock = Clock()

    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    async with AsyncPscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=no_wait, clock=clock) as client:
        session = await client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        first = await session.access_token()
        clock.offset += 100
        tokens = await asyncio.gather(*(session.access_token() for _ in range(5)))
        assert len(set(tokens)) == 1
        assert tokens[0] != first
        pending = await client.begin_sign_in("http://127.0.0.1:8765/callback")
        callback = await asyncio.to_thread(browser_sign_in, pending.url, pki)
        web = await client.finish_sign_in(callback, pending)
        assert (await web.userinfo())["SubjectNameID"] == TEST_PS
        await web.logout()


def test_without_refresh_expires_in_the_session_still_expires(mock_psc: Served, pki: TestPki, tmp_path: Path) -> None:
    psc = mock_psc[0]
    psc.provider.settings = dataclasses.replace(psc.provider.settings, send_refresh_expires_in=False)
    clock = Clock()
    with PscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=lambda _s: None, clock=clock) as client:
        session = client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        store = SessionFile(tmp_path / "cache" / "psc-session.json")
        store.save(session.save())
        document = json.loads(store.path.read_text(), parse_constant=lambda name: pytest.fail(f"{name} in the file"))
        assert document["refresh_expires_at"] == pytest.approx(clock() + DEFAULT_REFRESH_LIFETIME, abs=5)
        assert store.load(clock() + DEFAULT_REFRESH_LIFETIME + 1) is None
        clock.offset += DEFAULT_REFRESH_LIFETIME + 1
        with pytest.raises(PscSignInRequired):
            session.access_token()


def test_a_saved_session_resumes_when_the_refresh_brings_no_id_token(mock_psc: Served, pki: TestPki) -> None:
    """Some providers send no new ID token on refresh; the saved one has expired by then: no matter."""
    psc = mock_psc[0]
    psc.provider.settings = dataclasses.replace(psc.provider.settings, id_token_on_refresh=False)
    clock = Clock()
    with PscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=lambda _s: None, clock=clock) as client:
        saved = client.sign_in_ciba(TEST_PS, on_started=_approve(psc)).save()
        clock.offset += 600  # the ID token (2 minutes) has expired, the refresh token (30) has not
        restored = PscSession.restore(client, saved)
        assert restored.identity.national_id == TEST_PS
        again = restored.save()
        assert again.id_token == saved.id_token  # still the logout hint
        assert again.refresh_token != saved.refresh_token


def test_a_refreshed_id_token_for_another_professional_ends_the_session(mock_psc: Served, pki: TestPki) -> None:
    """A confused provider answering a refresh with another subject's ID token is not believed."""
    psc = mock_psc[0]
    clock = Clock()
    with PscClient(psc_config(psc, pki), env=SECRET_ENV, sleep=lambda _s: None, clock=clock) as client:
        session = client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        saved = session.save()
        other = next(user for user in psc.provider.users.values() if user.ps_id != TEST_PS)
        psc.provider.store.refresh[saved.refresh_token].user = other  # the provider mixes its records up
        clock.offset += 100
        with pytest.raises(PscTokenError) as caught:
            session.access_token()
        assert caught.value.rule == "subject"
        assert session.ended
        with pytest.raises(PscSignInRequired):
            session.save()


async def test_concurrent_tasks_share_one_token_exchange(mock_psc: Served, pki: TestPki) -> None:
    psc = mock_psc[0]
    exchange = {
        "token_endpoint": psc.provider.token_endpoint,
        "audience": psc.provider.settings.dmp_audience,
        "auth_method": "client_secret_basic",
    }
    clock = Clock()
    sent: list[str] = []

    async def record(request: httpx.Request) -> None:
        form = dict(httpx.QueryParams(request.content.decode()))
        sent.append(form.get("grant_type", request.url.path))

    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    http = httpx.AsyncClient(verify=web_client_context(None, pki.ca_bundle), event_hooks={"request": [record]})
    config = psc_config(psc, pki, dmp={"token_exchange": exchange})
    async with http, AsyncPscClient(config, env=SECRET_ENV, sleep=no_wait, clock=clock, http_client=http) as client:
        session = await client.sign_in_ciba(TEST_PS, on_started=_approve(psc))
        clock.offset += 100  # the access token needs a refresh first
        del sent[:]
        headers = await asyncio.gather(*(session.dmp_authorization_header() for _ in range(6)))
    assert len({h["Authorization"] for h in headers}) == 1
    assert sent == ["refresh_token", TOKEN_EXCHANGE_GRANT]  # one refresh, then one exchange, for all six
