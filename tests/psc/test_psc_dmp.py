"""DMP calls in PSC mode against the mock DMP over mutual TLS: the VIHF from the PSC session, and the
exchanged Bearer token on the wire, checked the way the mock DMP's gate will (``check_bearer``)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dmpclient import AsyncDmpClient, DmpClient, DmpConfig, InsOid
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.psc import PscClient, PscSession
from dmpclient.security.credentials import Credential
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context
from mock_server.psc import MockPsc
from mock_server.psc.bearer import BearerCaller, check_bearer
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

    async def recorder(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"authorization")
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
    http = httpx.Client(verify=client_context(org_auth, pki.ca_bundle), auth=session.httpx_auth(), timeout=10)
    with http, DmpClient(config, http_client=http) as dmp:
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
