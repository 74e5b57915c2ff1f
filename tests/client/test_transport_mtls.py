"""The transport shells (DmpClient / AsyncDmpClient) against the echo server over real mutual TLS."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dmpclient import AsyncDmpClient, DmpClient
from dmpclient.config import DmpConfig
from dmpclient.errors import (
    DmpConnectError,
    DmpHttpError,
    DmpProtocolError,
    DmpSoapFault,
    DmpTimeoutError,
    DmpTlsError,
    DmpTransportError,
)
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context, server_context
from dmpclient.soap import mtom
from dmpclient.soap.envelope import read_soap
from dmpclient.transport import HttpTransport
from mock_server.server import RunningServer, start_in_thread
from tests.client.conftest import ECHO_ACTION, ECHO_NS, EchoState, echo_body, make_echo_app

NS = {"t": ECHO_NS}


def _call_kwargs(**overrides: Any) -> dict[str, Any]:
    return {"action": ECHO_ACTION, "td": "TD3.1", "assertion": None, "idempotent": True} | overrides


def _config(echo_config: DmpConfig, **changes: Any) -> DmpConfig:
    return DmpConfig.model_validate(echo_config.model_dump() | changes)


# --- success ------------------------------------------------------------------------------------


def test_sync_round_trip_presents_the_org_auth_certificate(echo_config: DmpConfig, pki: TestPki) -> None:
    with DmpClient(echo_config) as client:
        response = client.call("registry", echo_body(), message_id="urn:uuid:0000-sync", **_call_kwargs())
    assert response.status_code == 200
    assert response.attachments is None
    message = response.message
    assert message.relates_to == "urn:uuid:0000-sync"
    assert message.action == f"{ECHO_ACTION}Response"
    assert message.body is not None
    assert message.body.findtext("t:clientSubject", namespaces=NS) == pki.org_auth.subject
    assert message.body.findtext("t:action", namespaces=NS) == ECHO_ACTION
    assert message.body.findtext("t:tlsVersion", namespaces=NS) == str(0x0303)  # the mock speaks TLS 1.2 like the DMP


async def test_async_round_trip_presents_the_org_auth_certificate(echo_config: DmpConfig, pki: TestPki) -> None:
    async with AsyncDmpClient(echo_config) as client:
        first = await client.call("registry", echo_body(), **_call_kwargs())
        second = await client.call("registry", echo_body(), **_call_kwargs())
    for response in (first, second):
        assert response.message.body is not None
        assert response.message.body.findtext("t:clientSubject", namespaces=NS) == pki.org_auth.subject
    assert first.message.relates_to != second.message.relates_to  # a fresh MessageID per call


def test_tls13_and_h11_server_also_sees_the_client_certificate(
    pki: TestPki, echo_server_tls13: RunningServer, echo_config: DmpConfig
) -> None:
    config = _config(echo_config, base_url=echo_server_tls13.services_url)
    with DmpClient(config) as client:
        body = client.call("registry", echo_body(), **_call_kwargs()).message.body
    assert body is not None
    assert body.findtext("t:clientSubject", namespaces=NS) == pki.org_auth.subject
    assert body.findtext("t:tlsVersion", namespaces=NS) == str(0x0304)


# --- TLS failures -------------------------------------------------------------------------------


def _assert_tls_error(exc: DmpTlsError, *fragments: str) -> None:
    assert exc.td == "TD3.1"
    assert exc.message_id == "urn:uuid:tls-failure"
    for fragment in fragments:
        assert fragment in str(exc)


def test_no_client_certificate_is_a_tls_error(echo_config: DmpConfig, pki: TestPki) -> None:
    with (
        httpx.Client(verify=client_context(None, pki.ca_bundle)) as http,
        DmpClient(echo_config, transport=HttpTransport(echo_config, client=http)) as client,
        pytest.raises(DmpTlsError) as caught,
    ):
        client.call("registry", echo_body(), message_id="urn:uuid:tls-failure", **_call_kwargs())
    _assert_tls_error(caught.value, "client certificate", "credentials.tls", "ORG AUTH_CLI")


def test_client_certificate_from_another_ca_is_a_tls_error(
    echo_config: DmpConfig, rogue_pki: TestPki, tmp_path: Path
) -> None:
    rogue = {"tls": {"cert": rogue_pki.org_auth.cert, "key": rogue_pki.org_auth.key}}
    with DmpClient(_config(echo_config, credentials=rogue)) as client, pytest.raises(DmpTlsError) as caught:
        client.call("registry", echo_body(), message_id="urn:uuid:tls-failure", **_call_kwargs())
    _assert_tls_error(caught.value, "client certificate", "credentials.tls")


def test_untrusted_server_is_a_tls_error(echo_config: DmpConfig, rogue_pki: TestPki) -> None:
    config = _config(echo_config, ca_bundle=rogue_pki.ca_bundle)
    with DmpClient(config) as client, pytest.raises(DmpTlsError) as caught:
        client.call("registry", echo_body(), message_id="urn:uuid:tls-failure", **_call_kwargs())
    _assert_tls_error(caught.value, "not trusted by ca_bundle", str(rogue_pki.ca_bundle))


async def test_async_client_certificate_from_another_ca_is_a_tls_error(
    echo_config: DmpConfig, rogue_pki: TestPki
) -> None:
    rogue = {"tls": {"cert": rogue_pki.org_auth.cert, "key": rogue_pki.org_auth.key}}
    async with AsyncDmpClient(_config(echo_config, credentials=rogue)) as client:
        with pytest.raises(DmpTlsError) as caught:
            await client.call("registry", echo_body(), message_id="urn:uuid:tls-failure", **_call_kwargs())
    _assert_tls_error(caught.value, "client certificate")


async def test_async_untrusted_server_is_a_tls_error(echo_config: DmpConfig, rogue_pki: TestPki) -> None:
    async with AsyncDmpClient(_config(echo_config, ca_bundle=rogue_pki.ca_bundle)) as client:
        with pytest.raises(DmpTlsError) as caught:
            await client.call("registry", echo_body(), message_id="urn:uuid:tls-failure", **_call_kwargs())
    _assert_tls_error(caught.value, "not trusted by ca_bundle")


def test_server_certificate_for_another_host_is_a_tls_error(
    echo_config: DmpConfig, echo_state: EchoState, pki: TestPki
) -> None:
    """127.0.0.2 is loopback too, but absent from the server certificate's SAN (localhost, 127.0.0.1, ::1)."""
    app = make_echo_app(echo_state)
    with (
        start_in_thread(
            app, host="127.0.0.2", server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle
        ) as server,
        DmpClient(_config(echo_config, base_url=server.services_url)) as client,
        pytest.raises(DmpTlsError) as caught,
    ):
        client.call("registry", echo_body(), message_id="urn:uuid:tls-failure", **_call_kwargs())
    _assert_tls_error(caught.value, "does not match 127.0.0.2", "check base_url")


def test_refused_client_under_tls13_points_at_the_client_certificate(
    echo_config: DmpConfig, rogue_pki: TestPki, echo_server_tls13: RunningServer
) -> None:
    """Under TLS 1.3 an asyncio server hangs up after the handshake without an alert: no TLS error to see."""
    rogue = {"tls": {"cert": rogue_pki.org_auth.cert, "key": rogue_pki.org_auth.key}}
    config = _config(echo_config, credentials=rogue, base_url=echo_server_tls13.services_url)
    with DmpClient(config) as client, pytest.raises(DmpTransportError) as caught:
        client.call("registry", echo_body(), **_call_kwargs())
    assert "client certificate" in str(caught.value)


# --- HTTP and SOAP failures ---------------------------------------------------------------------


def test_http_500_without_soap_is_an_http_error(echo_config: DmpConfig) -> None:
    with DmpClient(echo_config) as client, pytest.raises(DmpHttpError) as caught:
        client.call("registry", echo_body("Http500"), message_id="urn:uuid:h500", **_call_kwargs())
    assert caught.value.status_code == 500
    assert (caught.value.td, caught.value.message_id) == ("TD3.1", "urn:uuid:h500")


def _assert_fault(fault: DmpSoapFault) -> None:
    assert (fault.code, fault.subcode, fault.reason) == ("Sender", "DMPInvalidCertificate", "Refusé pour le test")
    assert (fault.td, fault.message_id) == ("TD0.2", "urn:uuid:fault")


def test_soap_fault_is_raised_with_its_subcode(echo_config: DmpConfig) -> None:
    body = echo_body("Fault", subcode="DMPInvalidCertificate")
    with DmpClient(echo_config) as client, pytest.raises(DmpSoapFault) as caught:
        client.call("registry", body, message_id="urn:uuid:fault", **_call_kwargs(td="TD0.2"))
    _assert_fault(caught.value)


async def test_async_soap_fault_is_raised_with_its_subcode(echo_config: DmpConfig) -> None:
    body = echo_body("Fault", subcode="DMPInvalidCertificate")
    async with AsyncDmpClient(echo_config) as client:
        with pytest.raises(DmpSoapFault) as caught:
            await client.call("registry", body, message_id="urn:uuid:fault", **_call_kwargs(td="TD0.2"))
    _assert_fault(caught.value)


def test_read_timeout_is_a_timeout_error(echo_config: DmpConfig) -> None:
    config = _config(echo_config, timeouts={"read": 0.2})
    with DmpClient(config) as client, pytest.raises(DmpTimeoutError) as caught:
        client.call("registry", echo_body("Slow", seconds="3"), **_call_kwargs())
    assert "read timeout" in str(caught.value)
    assert "timeouts.read" in str(caught.value)


def _refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"https://127.0.0.1:{port}/si-dmp-server/v2/services"


def test_connection_refused_is_a_connect_error(echo_config: DmpConfig) -> None:
    with DmpClient(_config(echo_config, base_url=_refused_url())) as client, pytest.raises(DmpConnectError) as caught:
        client.call("registry", echo_body(), message_id="urn:uuid:refused", **_call_kwargs())
    assert caught.value.message_id == "urn:uuid:refused"
    assert "cannot connect" in str(caught.value)


# --- retries ------------------------------------------------------------------------------------


def test_idempotent_call_is_retried_on_503_until_success(echo_config: DmpConfig, echo_state: EchoState) -> None:
    sleeps: list[float] = []
    config = _config(echo_config, retry={"max_attempts": 3, "backoff_initial": 0.5, "backoff_max": 0.75})
    with DmpClient(config, sleep=sleeps.append) as client:
        response = client.call(
            "registry", echo_body("Unavailable", after="2"), message_id="urn:uuid:r1", **_call_kwargs()
        )
    assert response.status_code == 200
    assert echo_state.hits["urn:uuid:r1"] == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5
    assert 0 <= sleeps[1] <= 0.75  # capped by backoff_max


def test_retries_stop_after_max_attempts(echo_config: DmpConfig, echo_state: EchoState) -> None:
    sleeps: list[float] = []
    config = _config(echo_config, retry={"max_attempts": 3})
    with DmpClient(config, sleep=sleeps.append) as client, pytest.raises(DmpHttpError) as caught:
        client.call("registry", echo_body("Unavailable", after="10"), message_id="urn:uuid:r2", **_call_kwargs())
    assert caught.value.status_code == 503
    assert echo_state.hits["urn:uuid:r2"] == 3
    assert len(sleeps) == 2


def test_non_idempotent_call_is_never_retried(echo_config: DmpConfig, echo_state: EchoState) -> None:
    sleeps: list[float] = []
    config = _config(echo_config, retry={"max_attempts": 5})
    with DmpClient(config, sleep=sleeps.append) as client, pytest.raises(DmpHttpError):
        client.call(
            "repository",
            echo_body("Unavailable", after="1"),
            message_id="urn:uuid:r3",
            **_call_kwargs(td="TD2.1", idempotent=False),
        )
    assert echo_state.hits["urn:uuid:r3"] == 1
    assert sleeps == []


def test_retries_are_off_by_default(echo_config: DmpConfig, echo_state: EchoState) -> None:
    def no_sleep(seconds: float) -> None:
        pytest.fail(f"unexpected retry after {seconds} s")

    with DmpClient(echo_config, sleep=no_sleep) as client, pytest.raises(DmpHttpError):
        client.call("registry", echo_body("Unavailable", after="1"), message_id="urn:uuid:r4", **_call_kwargs())
    assert echo_state.hits["urn:uuid:r4"] == 1


def test_connect_errors_are_retried_for_idempotent_calls(echo_config: DmpConfig) -> None:
    sleeps: list[float] = []
    config = _config(echo_config, base_url=_refused_url(), retry={"max_attempts": 2})
    with DmpClient(config, sleep=sleeps.append) as client, pytest.raises(DmpConnectError):
        client.call("registry", echo_body(), **_call_kwargs())
    assert len(sleeps) == 1


async def test_async_idempotent_call_is_retried(echo_config: DmpConfig, echo_state: EchoState) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    config = _config(echo_config, retry={"max_attempts": 2})
    async with AsyncDmpClient(config, sleep=sleep) as client:
        response = await client.call(
            "registry", echo_body("Unavailable", after="1"), message_id="urn:uuid:r5", **_call_kwargs()
        )
    assert response.status_code == 200
    assert echo_state.hits["urn:uuid:r5"] == 2
    assert len(sleeps) == 1


# --- MTOM ---------------------------------------------------------------------------------------


def _mtom_request(tmp_path: Path) -> tuple[Any, list[mtom.OutgoingPart], dict[str, bytes]]:
    payloads = {
        "doc-1@dmpclient": bytes(range(256)) * 40 + b"\r\n--MIMEBoundary",
        "doc-2@dmpclient": b"%PDF-1.7 x" * 5000,
    }
    file_part = tmp_path / "doc-2.pdf"
    file_part.write_bytes(payloads["doc-2@dmpclient"])
    body = echo_body()
    for content_id in payloads:
        body.append(mtom.xop_include(content_id))
    parts = [
        mtom.OutgoingPart("doc-1@dmpclient", payloads["doc-1@dmpclient"]),
        mtom.OutgoingPart("doc-2@dmpclient", file_part, "application/pdf"),
    ]
    return body, parts, payloads


def _assert_attachments_received(response_body: Any, payloads: dict[str, bytes]) -> None:
    received = {a.get("cid"): (int(a.get("size")), a.get("sha256")) for a in response_body.findall("t:attachment", NS)}
    assert received == {cid: (len(data), hashlib.sha256(data).hexdigest()) for cid, data in payloads.items()}


def test_mtom_request_reaches_the_server_intact(echo_config: DmpConfig, tmp_path: Path) -> None:
    body, parts, payloads = _mtom_request(tmp_path)
    with DmpClient(echo_config) as client:
        response = client.call("repository", body, attachments=parts, **_call_kwargs(td="TD2.1", idempotent=False))
    assert response.message.body is not None
    _assert_attachments_received(response.message.body, payloads)


async def test_async_mtom_request_reaches_the_server_intact(echo_config: DmpConfig, tmp_path: Path) -> None:
    body, parts, payloads = _mtom_request(tmp_path)
    async with AsyncDmpClient(echo_config) as client:
        response = await client.call("repository", body, attachments=parts, **_call_kwargs(idempotent=False))
    assert response.message.body is not None
    _assert_attachments_received(response.message.body, payloads)


def test_mtom_response_attachments_are_decoded(echo_config: DmpConfig) -> None:
    with (
        DmpClient(echo_config) as client,
        client.call(
            "repository", echo_body("MtomEcho", payload="contenu du document"), **_call_kwargs(td="TD3.2")
        ) as response,
    ):
        assert response.attachments is not None
        assert response.attachments.attachment_for_href("cid:doc1@test").read_bytes() == b"contenu du document"
        assert response.message.body is not None
        assert response.message.body.findtext("t:action", namespaces=NS) == ECHO_ACTION


# --- a server that answers TLS failures with alerts, as production servers do ---------------------


@pytest.fixture(params=[True, False], ids=["tls1.2", "tls1.3"])
def alerting_server_url(request: pytest.FixtureRequest, pki: TestPki) -> Iterator[str]:
    """A blocking TLS server (OpenSSL sends its alert before closing, unlike asyncio servers)."""
    context = server_context(load_pem(pki.server.cert, pki.server.key), pki.ca_bundle, tls12_only=request.param)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            try:
                with context.wrap_socket(connection, server_side=True):
                    pass  # the handshake only succeeds with a trusted client certificate; nothing is answered
            except OSError:
                connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}/si-dmp-server/v2/services"
    stop.set()
    thread.join()
    listener.close()


def test_alert_for_a_missing_client_certificate_is_a_tls_error(
    echo_config: DmpConfig, pki: TestPki, alerting_server_url: str
) -> None:
    with (
        httpx.Client(verify=client_context(None, pki.ca_bundle)) as http,
        DmpClient(
            _config(echo_config, base_url=alerting_server_url),
            transport=HttpTransport(_config(echo_config, base_url=alerting_server_url), client=http),
        ) as client,
        pytest.raises(DmpTlsError) as caught,
    ):
        client.call("registry", echo_body(), message_id="urn:uuid:tls-failure", **_call_kwargs())
    _assert_tls_error(caught.value, "the server refused our client certificate (")


def test_alert_for_an_unknown_client_ca_is_a_tls_error(
    echo_config: DmpConfig, rogue_pki: TestPki, alerting_server_url: str
) -> None:
    rogue = {"tls": {"cert": rogue_pki.org_auth.cert, "key": rogue_pki.org_auth.key}}
    config = _config(echo_config, base_url=alerting_server_url, credentials=rogue)
    with DmpClient(config) as client, pytest.raises(DmpTlsError) as caught:
        client.call("registry", echo_body(), message_id="urn:uuid:tls-failure", **_call_kwargs())
    _assert_tls_error(caught.value, "the server refused our client certificate (TLSV1_ALERT_UNKNOWN_CA)")


def test_an_answer_to_another_request_is_refused(echo_config: DmpConfig) -> None:
    with DmpClient(echo_config) as client, pytest.raises(DmpProtocolError, match="RelatesTo") as caught:
        client.call("registry", echo_body("Stranger"), message_id="urn:uuid:mine", **_call_kwargs())
    assert caught.value.message_id == "urn:uuid:mine"


def test_trusting_only_the_issuing_intermediate_is_enough(echo_config: DmpConfig, pki: TestPki) -> None:
    """DRIMBOX trusts only the ORGANISATIONS intermediate ("ACI-EL-ORG"): a partial chain is an anchor."""
    config = echo_config.model_copy(update={"ca_bundle": pki.org_ca})
    with DmpClient(config) as client:
        assert client.call("registry", echo_body(), **_call_kwargs()).status_code == 200


def test_wire_options_switch_must_understand_and_to(pki: TestPki, echo_server: RunningServer) -> None:
    config = DmpConfig.for_test_pki(
        pki, echo_server.services_url, wire={"must_understand": "soap", "wsa_to_endpoint": True}
    )
    sent: list[bytes] = []
    http = httpx.Client(
        verify=client_context(config.load_tls_credential(), config.ca_bundle),
        event_hooks={"request": [lambda request: sent.append(request.read())]},
    )
    with http, DmpClient(config, transport=HttpTransport(config, client=http)) as client:
        client.call("registry", echo_body(), **_call_kwargs())
    message = read_soap(sent[0])
    assert message.to == config.service_url("registry")
    assert message.warnings == ()  # soap:mustUnderstand: no liberal-acceptance note
