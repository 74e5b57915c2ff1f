"""The mock keeps serving when clients misbehave: deadlines, eviction of idle connections, 503 as a SOAP fault,
and TLS client certificates without clientAuth refused (issue "Hardening"). Real sockets, real mutual TLS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest

from dmpclient import DmpClient
from dmpclient._xml import NS
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context
from dmpclient.soap.envelope import read_soap
from mock_server.runtime import MockRuntime
from mock_server.server import RunningServer, ServerLimits, start_in_thread
from tests.mock_server.conftest import PATB_QUATRE, TEST_OID, identity

PARTIAL_HEADERS = b"POST /si-dmp-server/v2/services/patients HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl"
IDLE_CONNECTIONS = 130


def _tls_context(pki: TestPki, files: Any = None) -> ssl.SSLContext:
    return client_context(load_pem((files or pki.org_auth).cert, (files or pki.org_auth).key), pki.ca_bundle)


def _open(server: RunningServer, context: ssl.SSLContext, first_bytes: bytes = PARTIAL_HEADERS) -> ssl.SSLSocket:
    """A mutual-TLS connection (handshake done) that sent ``first_bytes`` and then nothing."""
    raw = socket.create_connection((server.host, server.port), timeout=10)
    tls = context.wrap_socket(raw, server_hostname=server.host)
    if first_bytes:
        tls.sendall(first_bytes)
    return tls


def _closed_by_server(connection: socket.socket) -> bool:
    """True when the server closed (or reset) the connection; waits at most the socket timeout."""
    try:
        return connection.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except TimeoutError:
        return False


@contextlib.contextmanager
def _idle(server: RunningServer, context: ssl.SSLContext, count: int) -> Iterator[list[ssl.SSLSocket]]:
    connections = [_open(server, context) for _ in range(count)]
    try:
        yield connections
    finally:
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.close()


class _Gate:
    """A tiny ASGI app answering 200, whose requests can be held until released (to fill the server)."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.release = threading.Event()
        self.hold = False

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if self.hold:
            self.inside.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def serve(pki: TestPki) -> Iterator[Any]:
    servers: list[RunningServer] = []

    def start(app: Any, limits: ServerLimits) -> RunningServer:
        server = start_in_thread(
            app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle, limits=limits
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_idle_mutual_tls_connections_do_not_prevent_valid_calls(
    mock_dmp: RunningServer, pki: TestPki, client: DmpClient
) -> None:
    """The attack of the issue: ~130 connections that never finish their headers (default limits)."""
    with _idle(mock_dmp, _tls_context(pki), IDLE_CONNECTIONS):
        for _ in range(5):
            assert client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID).status is DmpStatus.ACTIVE


def test_a_connection_that_never_finishes_its_headers_is_dropped(serve: Any, pki: TestPki) -> None:
    server = serve(_Gate(), ServerLimits(header_timeout=0.5, keep_alive_timeout=0.2))
    context = _tls_context(pki)
    slow, silent = _open(server, context), _open(server, context, b"")
    with slow, silent:
        assert _closed_by_server(slow)
        assert _closed_by_server(silent)


def test_an_idle_keep_alive_connection_is_closed(serve: Any, pki: TestPki) -> None:
    server = serve(_Gate(), ServerLimits(header_timeout=5, keep_alive_timeout=0.3))
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with _open(server, _tls_context(pki), request) as connection:
        answer = b""
        while not answer.endswith(b"\r\n\r\nok"):
            answer += connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200")
        assert _closed_by_server(connection)


def test_a_stalled_tls_handshake_is_dropped(serve: Any) -> None:
    server = serve(_Gate(), ServerLimits(handshake_timeout=0.5))
    with socket.create_connection((server.host, server.port), timeout=10) as raw:
        assert _closed_by_server(raw)  # no ClientHello ever sent


def test_a_full_server_drops_its_longest_idle_connection_for_a_valid_one(serve: Any, pki: TestPki) -> None:
    server = serve(_Gate(), ServerLimits(max_connections=3))
    context = _tls_context(pki)
    with _idle(server, context, 3) as idle, httpx.Client(verify=context, timeout=10) as http:
        assert http.get(f"{server.base_url}/").text == "ok"
        assert _closed_by_server(idle[0])


def test_over_capacity_the_answer_is_a_soap_fault_with_retry_after(serve: Any, pki: TestPki) -> None:
    gate = _Gate()
    gate.hold = True
    server = serve(gate, ServerLimits(max_requests=1, retry_after=3))
    context = _tls_context(pki)
    with httpx.Client(verify=context, timeout=10) as first, httpx.Client(verify=context, timeout=10) as second:
        held = threading.Thread(target=lambda: first.get(f"{server.base_url}/"))
        held.start()
        try:
            assert gate.inside.wait(10)
            busy = second.get(f"{server.base_url}/")
        finally:
            gate.release.set()
            held.join(10)
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "3"
    assert busy.headers["content-type"].startswith("application/soap+xml")
    fault = read_soap(busy.content).body
    assert fault is not None
    assert fault.findtext("soap:Code/soap:Value", namespaces=NS) == "soap:Receiver"
    assert "réessayez dans 3 s" in (fault.findtext("soap:Reason/soap:Text", namespaces=NS) or "")


def test_a_card_signature_certificate_cannot_open_the_channel(
    mock_dmp: RunningServer, mock_runtime: MockRuntime, pki: TestPki
) -> None:
    """OpenSSL accepts a client certificate without EKU; the mock refuses it with DMPInvalidCertificate."""
    context = ssl.create_default_context(cafile=str(pki.ca_bundle))  # our client_context refuses this certificate
    context.load_cert_chain(pki.ps_sign.cert, pki.ps_sign.key)
    before = len(mock_runtime.store.access_trace(limit=1_000_000))
    with httpx.Client(verify=context, timeout=10) as http:
        answer = http.post(f"{mock_dmp.services_url}/patients", content=b"<x/>")
    fault = read_soap(answer.content).body
    assert fault is not None
    assert fault.findtext("soap:Code/soap:Subcode/soap:Value", namespaces=NS) == "soap:DMPInvalidCertificate"
    assert "clientAuth" in (fault.findtext("soap:Reason/soap:Text", namespaces=NS) or "")
    assert answer.headers["connection"] == "close"
    assert len(mock_runtime.store.access_trace(limit=1_000_000)) == before


def test_limits_are_consistent() -> None:
    with pytest.raises(ValueError, match="keep_alive_timeout"):
        ServerLimits(header_timeout=1, keep_alive_timeout=2)
    with pytest.raises(ValueError, match="positive"):
        ServerLimits(max_requests=0)
