"""The mock PSC provider over real TLS (client certificate optional), and clients configured for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dmpclient.psc import PscClient, PscConfig
from dmpclient.security.credentials import Credential, load_pem
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import web_client_context
from mock_server.psc import MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, MockPsc, prepare_psc
from mock_server.server import RunningServer, start_in_thread

SECRET_ENV = {"PSC_SECRET": MOCK_CLIENT_SECRET}
TEST_PS = "899900063480"


class Clock:
    """A clock the tests move (seconds since the epoch), for the client and the provider's records."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def serve_psc(psc: MockPsc, pki: TestPki) -> RunningServer:
    server = start_in_thread(
        psc.app,
        server_cert=pki.server.cert,
        server_key=pki.server.key,
        client_ca=pki.ca_bundle,
        require_client_cert=False,
        tls12_only=False,
    )
    psc.serve_at(server.base_url)
    return server


@pytest.fixture
def provider_clock() -> Clock:
    return Clock()


@pytest.fixture
def mock_psc(pki: TestPki, tmp_path: Path, provider_clock: Clock) -> Iterator[tuple[MockPsc, RunningServer]]:
    """A fresh provider per test (its records are in memory), served on a free port."""
    psc = prepare_psc(tmp_path / "psc-data", pki, clock=provider_clock)
    server = serve_psc(psc, pki)
    yield psc, server
    server.stop()


def psc_config(psc: MockPsc, pki: TestPki, **changes: Any) -> PscConfig:
    data: dict[str, Any] = {
        "issuer": psc.provider.issuer,
        "client_id": MOCK_CLIENT_ID,
        "auth_method": "client_secret_basic",
        "client_secret_env": "PSC_SECRET",
        "ca_bundle": pki.ca_bundle,
    }
    data.update(changes)
    return PscConfig.model_validate(data)


@pytest.fixture
def org_auth(pki: TestPki) -> Credential:
    return load_pem(pki.org_auth.cert, pki.org_auth.key)


def browser_sign_in(url: str, pki: TestPki, ps_id: str = TEST_PS, *, deny: bool = False) -> str:
    """What a browser does on the mock's sign-in page: open it, pick a professional; returns the callback URL."""
    with httpx.Client(verify=web_client_context(None, pki.ca_bundle)) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        assert f'value="{ps_id}"' in page.text
        form = dict(httpx.URL(url).params)
        form.update({"deny": "1"} if deny else {"ps_id": ps_id})
        answer = browser.post(url, data=form)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


@pytest.fixture
def client(mock_psc: tuple[MockPsc, RunningServer], pki: TestPki) -> Iterator[PscClient]:
    with PscClient(psc_config(mock_psc[0], pki), env=SECRET_ENV, sleep=lambda _s: None) as psc_client:
        yield psc_client
