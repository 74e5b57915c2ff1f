"""The mock DMP's transport over real mutual TLS: who may open a connection at all, and a valid call end to end."""

from __future__ import annotations

import httpx
import pytest

from dmpclient import DmpClient
from dmpclient.config import DmpConfig
from dmpclient.errors import DmpTlsError
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context
from dmpclient.transport import HttpTransport
from mock_server.runtime import MockRuntime
from mock_server.server import RunningServer
from mock_server.store.records import Outcome
from tests.mock_server.conftest import DOCTOR, PATB_QUATRE, TEST_OID, identity, td02


def _trace_size(runtime: MockRuntime) -> int:
    return len(runtime.store.access_trace(limit=1_000_000))


def _send_td02(client: DmpClient) -> None:
    op = td02()
    client.call(op.spec.service, op.body, action=op.spec.request_action, td=op.td, assertion=None, idempotent=False)


def test_handshake_refused_without_a_client_certificate(
    mock_config: DmpConfig, mock_runtime: MockRuntime, pki: TestPki
) -> None:
    before = _trace_size(mock_runtime)
    with (
        httpx.Client(verify=client_context(None, pki.ca_bundle), timeout=10) as http,
        DmpClient(mock_config, transport=HttpTransport(mock_config, client=http)) as client,
        pytest.raises(DmpTlsError) as caught,
    ):
        _send_td02(client)
    assert "client certificate" in caught.value.message
    assert caught.value.td == "TD0.2"
    assert _trace_size(mock_runtime) == before  # refused at the TLS layer: the application never ran


def test_handshake_refused_with_a_certificate_from_another_ca(
    mock_config: DmpConfig, mock_runtime: MockRuntime, pki: TestPki, rogue_pki: TestPki
) -> None:
    assert rogue_pki.org_auth.subject == pki.org_auth.subject  # same name: only the chain differs
    credentials = {
        "tls": {"cert": rogue_pki.org_auth.cert, "key": rogue_pki.org_auth.key},
        "signing": {"cert": pki.org_sign.cert, "key": pki.org_sign.key},
    }
    rogue_config = DmpConfig.model_validate(mock_config.model_dump() | {"credentials": credentials})
    before = _trace_size(mock_runtime)
    with DmpClient(rogue_config) as client, pytest.raises(DmpTlsError) as caught:
        _send_td02(client)
    assert "client certificate" in caught.value.message
    assert _trace_size(mock_runtime) == before


def test_a_valid_call_reaches_its_handler_and_is_traced(
    client: DmpClient, mock_runtime: MockRuntime, pki: TestPki
) -> None:
    answer = client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    assert answer.status is DmpStatus.ACTIVE
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.td, entry.outcome) == ("TD0.2", Outcome.ALLOWED)
    assert (entry.ps_id, entry.structure_id) == (DOCTOR.national_id, pki.structure_id)
    assert (entry.auth_mode, entry.access_mode, entry.role) == ("INDIRECTE_RENFORCEE", "normal", "10")
    assert entry.patient_ins == PATB_QUATRE
    assert entry.detail == "dmp=active"
    assert entry.message_id is not None
    assert entry.message_id.startswith("urn:uuid:")


def test_the_server_keeps_serving_after_refused_handshakes(
    client: DmpClient, mock_config: DmpConfig, pki: TestPki
) -> None:
    with (
        httpx.Client(verify=client_context(None, pki.ca_bundle), timeout=10) as http,
        DmpClient(mock_config, transport=HttpTransport(mock_config, client=http)) as anonymous,
    ):
        for _ in range(3):
            with pytest.raises(DmpTlsError):
                _send_td02(anonymous)
    assert client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID).status is DmpStatus.ACTIVE


def test_health_lists_the_services_answered(mtls_http: httpx.Client, mock_dmp: RunningServer) -> None:
    response = mtls_http.get(f"{mock_dmp.base_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "services": ["patients"]}


def test_plain_http_is_not_served(mock_dmp: RunningServer) -> None:
    with httpx.Client(timeout=5) as http, pytest.raises(httpx.HTTPError):
        http.get(f"http://{mock_dmp.host}:{mock_dmp.port}/health")
