"""The mock DMP as the tests use it: seeded once per session, served over real mutual TLS on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dmpclient import AsyncDmpClient, DmpClient
from dmpclient.config import DmpConfig
from dmpclient.hl7v3.patient_query import ExistenceAnswer
from dmpclient.hl7v3.wrapper import Device
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context
from dmpclient.security.vihf import Actor, AuthMode, PurposeOfUse
from dmpclient.transactions import patients
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation
from mock_server.runtime import MockRuntime, prepare
from mock_server.server import RunningServer, start_in_thread

DOCTOR = Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26")
NURSE = Actor.professional("899900023351", name="INFIRMIER TEST", profession="60")
AIR_DOCTOR = CallerIdentity(DOCTOR)
PATB_QUATRE = "207058575627097"  # PATB-QUATRE Laurence: the test doctor is her médecin traitant (seed)
CLOSED = "270108604926542"
OPPOSES_BRIS_DE_GLACE = "188102B17295264"
TEST_OID = "1.2.250.1.213.1.4.10"


def identity(
    actor: Actor = DOCTOR, mode: AuthMode = AuthMode.AIR, purpose: PurposeOfUse = PurposeOfUse.NORMAL
) -> CallerIdentity:
    return CallerIdentity(actor, mode=mode, purpose=purpose)


def td02(ins: str = PATB_QUATRE) -> Operation[ExistenceAnswer]:
    """A TD0.2 operation on a test INS, as the clients build it (to send with a hand-made VIHF)."""
    return patients.test_existence(CallContext(Device("1.2.250.1.999.1", "DMPCLIENT")), ins, TEST_OID)


def serve(runtime: MockRuntime, pki: TestPki) -> RunningServer:
    return start_in_thread(runtime.app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle)


@pytest.fixture(scope="session")
def mock_runtime(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockRuntime]:
    runtime = prepare(tmp_path_factory.mktemp("mock-data"), pki_dir=pki.directory, now=dt.datetime.now(dt.UTC))
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def mock_dmp(mock_runtime: MockRuntime, pki: TestPki) -> Iterator[RunningServer]:
    server = serve(mock_runtime, pki)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mock_config(mock_dmp: RunningServer, pki: TestPki) -> DmpConfig:
    return DmpConfig.for_test_pki(pki, base_url=mock_dmp.services_url)


@pytest.fixture
def client(mock_config: DmpConfig) -> Iterator[DmpClient]:
    with DmpClient(mock_config) as dmp:
        yield dmp


@pytest.fixture
def mtls_http(pki: TestPki) -> Iterator[httpx.Client]:
    """A bare httpx client presenting the trusted ORG AUTH_CLI certificate (raw SOAP on the wire)."""
    credential = load_pem(pki.org_auth.cert, pki.org_auth.key)
    with httpx.Client(verify=client_context(credential, pki.ca_bundle), timeout=10) as http:
        yield http


@dataclass(frozen=True)
class FreshMock:
    """A mock of one's own (fresh seed, own server): for tests that change the DMP state."""

    runtime: MockRuntime
    server: RunningServer
    config: DmpConfig


@pytest.fixture
def fresh_mock(pki: TestPki, tmp_path: Path) -> Iterator[FreshMock]:
    runtime = prepare(tmp_path / "mock-data", pki_dir=pki.directory, now=dt.datetime.now(dt.UTC))
    server = serve(runtime, pki)
    try:
        yield FreshMock(runtime, server, DmpConfig.for_test_pki(pki, base_url=server.services_url))
    finally:
        server.stop()
        runtime.close()


class Both:
    """Runs one client method through the sync or the async client (the ``both`` fixture's parameter)."""

    def __init__(self, flavour: str) -> None:
        self.flavour = flavour

    def __call__(self, config: DmpConfig, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.flavour == "sync":
            with DmpClient(config) as dmp:
                return getattr(dmp, method)(*args, **kwargs)

        async def run() -> Any:
            async with AsyncDmpClient(config) as dmp:
                return await getattr(dmp, method)(*args, **kwargs)

        return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Both:
    """``both(config, "method", …)``: the same call through DmpClient and AsyncDmpClient."""
    return Both(request.param)
