"""DMP calls in PSC mode against the mock DMP over mutual TLS: the VIHF from the PSC session, and the
exchanged Bearer token on the wire, checked the way the mock DMP's gate will (``check_bearer``)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from dmpclient import Actor, AsyncDmpClient, CallerIdentity, DmpClient, DmpConfig, DmpSoapFault, InsOid
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.psc import PscClient, PscSession
from dmpclient.psc.errors import PscTokenError
from dmpclient.security.credentials import Credential
from dmpclient.security.pki import TestPki
from mock_server.psc import MockPsc
from mock_server.psc.bearer import BearerCaller, check_bearer, gate_check
from mock_server.runtime import prepare
from mock_server.server import RunningServer, start_in_thread
from tests.psc.conftest import SECRET_ENV, TEST_PS, psc_config

PATB_QUATRE = "207058575627097"  # the seeded test doctor is her médecin traitant


@pytest.fixture
def seen() -> list[BearerCaller | None]:
    return []


@pytest.fixture
def mock_dmp(
    pki: TestPki, tmp_path: Path, mock_psc: tuple[MockPsc, RunningServer], seen: list[BearerCaller | None]
) -> Iterator[RunningServer]:
    """The mock DMP behind a recorder that checks the Bearer header of each call against the mock provider."""
    runtime = prepare(tmp_path / "dmp", pki_dir=pki.directory, now=dt.datetime.now(dt.UTC))
    provider = mock_psc[0].provider
    runtime.app.gate.bearer_check = gate_check(provider)  # as `dmp mock serve` wires it

    async def recorder(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"authorization")
            with contextlib.suppress(PscTokenError):  # the gate refuses it too: see the refusal tests
                seen.append(
                    check_bearer(
                        header.decode() if header else None,
                        TEST_PS,  # the gate passes the verified VIHF's NameID
                        keys=provider.public_keys,
                        issuer=provider.issuer,
                        audience=provider.settings.dmp_audience,
                        now=int(time.time()),
                    )
                )
        await runtime.app(scope, receive, send)

    server = start_in_thread(recorder, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle)
    yield server
    server.stop()
    runtime.close()


@pytest.fixture
def sign_in(
    mock_psc: tuple[MockPsc, RunningServer], pki: TestPki, org_auth: Credential
) -> Iterator[Callable[..., PscSession]]:
    """Sign the test doctor in with CIBA (approved at once) through a client built with ``changes``."""
    psc, clients = mock_psc[0], []

    def signed_in(**changes: Any) -> PscSession:
        clients.append(PscClient(psc_config(psc, pki, **changes), env=SECRET_ENV, tls=org_auth, sleep=lambda _s: None))
        approve = lambda s: psc.provider.decide_ciba(s.auth_req_id, approve=True)  # noqa: E731
        return clients[-1].sign_in_ciba(TEST_PS, on_started=approve)

    yield signed_in
    for client in clients:
        client.close()


def test_td02_in_psc_mode_with_the_exchanged_bearer_token(
    mock_psc: tuple[MockPsc, RunningServer],
    mock_dmp: RunningServer,
    pki: TestPki,
    org_auth: Credential,
    seen: list[BearerCaller | None],
    sign_in: Callable[..., PscSession],
) -> None:
    psc = mock_psc[0]
    exchange = {"token_endpoint": psc.provider.token_endpoint, "audience": psc.provider.settings.dmp_audience}
    session = sign_in(dmp={"token_exchange": exchange})
    config = DmpConfig.for_test_pki(pki, base_url=mock_dmp.services_url)
    with DmpClient(config, headers=session.dmp_authorization_header) as dmp:
        answer = dmp.test_existence(PATB_QUATRE, session.caller_identity("10C"), ins_oid=InsOid.TEST)
    assert answer.status is DmpStatus.ACTIVE
    assert answer.treating_physician is True
    assert seen == [BearerCaller(TEST_PS, "dmpclient-mock")]


async def test_async_td02_in_psc_mode_without_token_exchange(
    mock_dmp: RunningServer, pki: TestPki, seen: list[BearerCaller | None], sign_in: Callable[..., PscSession]
) -> None:
    session = sign_in()
    assert session.dmp_authorization_header() == {}
    config = DmpConfig.for_test_pki(pki, base_url=mock_dmp.services_url)
    async with AsyncDmpClient(config) as dmp:
        answer = await dmp.test_existence(PATB_QUATRE, session.caller_identity(), ins_oid=InsOid.TEST)
    assert answer.status is DmpStatus.ACTIVE
    assert seen == [None]  # no Bearer header without token exchange


def test_the_mock_refuses_a_bearer_token_of_another_professional(
    mock_psc: tuple[MockPsc, RunningServer], mock_dmp: RunningServer, pki: TestPki, sign_in: Callable[..., PscSession]
) -> None:
    psc = mock_psc[0]
    exchange = {"token_endpoint": psc.provider.token_endpoint, "audience": psc.provider.settings.dmp_audience}
    session = sign_in(dmp={"token_exchange": exchange})
    someone_else = CallerIdentity(
        Actor.professional("899900077985", name="AUTRE MEDECIN", profession="10", specialty="SM26")
    )
    config = DmpConfig.for_test_pki(pki, base_url=mock_dmp.services_url)
    with DmpClient(config, headers=session.dmp_authorization_header) as dmp, pytest.raises(DmpSoapFault) as refused:
        dmp.test_existence(PATB_QUATRE, someone_else, ins_oid=InsOid.TEST)
    assert refused.value.subcode == "PSCInvalidToken"
    assert "bearer_subject" in refused.value.reason


def test_the_mock_refuses_a_forged_bearer_token(
    mock_dmp: RunningServer, pki: TestPki, sign_in: Callable[..., PscSession]
) -> None:
    session = sign_in()
    config = DmpConfig.for_test_pki(pki, base_url=mock_dmp.services_url)
    forged = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}
    with DmpClient(config, headers=lambda: forged) as dmp, pytest.raises(DmpSoapFault) as refused:
        dmp.test_existence(PATB_QUATRE, session.caller_identity(), ins_oid=InsOid.TEST)
    assert refused.value.subcode == "PSCInvalidToken"


async def test_async_client_awaits_an_async_header_provider(
    mock_psc: tuple[MockPsc, RunningServer],
    mock_dmp: RunningServer,
    pki: TestPki,
    seen: list[BearerCaller | None],
    sign_in: Callable[..., PscSession],
) -> None:
    """``AsyncDmpClient(headers=…)`` takes an ``AsyncHeaderProvider``'s coroutine method, as docs/psc.md says."""
    psc = mock_psc[0]
    exchange = {"token_endpoint": psc.provider.token_endpoint, "audience": psc.provider.settings.dmp_audience}
    session = sign_in(dmp={"token_exchange": exchange})

    async def exchanged_header() -> Mapping[str, str]:
        return await asyncio.to_thread(session.dmp_authorization_header)

    config = DmpConfig.for_test_pki(pki, base_url=mock_dmp.services_url)
    async with AsyncDmpClient(config, headers=exchanged_header) as dmp:
        answer = await dmp.test_existence(PATB_QUATRE, session.caller_identity("10C"), ins_oid=InsOid.TEST)
    assert answer.status is DmpStatus.ACTIVE
    assert seen == [BearerCaller(TEST_PS, "dmpclient-mock")]
