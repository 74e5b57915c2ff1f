"""A minimal SOAP echo server over real mutual TLS, to test the client transport end to end.

The echo app reads the request with the same core as the mock (``read_soap``, ``MtomDecoder``) and
answers according to the body root element (namespace :data:`ECHO_NS`):

* ``Echo`` → a SOAP response reporting the client certificate subject (from the ASGI TLS extension),
  the action and, for MTOM requests, each attachment's Content-ID, size and SHA-256;
* ``MtomEcho`` → the same, answered as MTOM with one attachment (``@payload`` bytes, UTF-8);
* ``Fault`` → HTTP 500 with a SOAP fault (``@subcode``);
* ``Http500`` → HTTP 500 with an HTML page (no SOAP);
* ``Unavailable`` → HTTP 503 (no SOAP) until the message id was seen ``@after`` times, then ``Echo``;
* ``Slow`` → waits ``@seconds`` before answering ``Echo``;
* ``Trickle`` → sends the status line, then one byte of body every ``@interval`` seconds (for at most 30 s);
* ``Stall`` → sends the status line and a first chunk of body, then nothing (for at most 30 s);
* ``Stranger`` → an ``Echo`` answer whose ``RelatesTo`` names another request.

``EchoState.hits`` counts requests per WS-Addressing MessageID (retry tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from lxml import etree

from dmpclient.config import DmpConfig
from dmpclient.security.pki import TestPki
from dmpclient.soap import mtom
from dmpclient.soap.envelope import build_response, new_message_id, read_soap
from dmpclient.soap.faults import build_fault
from mock_server.server import RunningServer, client_certificate, start_in_thread

ECHO_NS = "urn:dmpclient:test:echo"
ECHO_ACTION = "urn:dmpclient:test:Echo"


def echo_body(kind: str = "Echo", **attributes: str) -> etree._Element:
    """A request body for the echo app."""
    element = etree.Element(f"{{{ECHO_NS}}}{kind}", nsmap={"t": ECHO_NS})
    for name, value in attributes.items():
        element.set(name, value)
    return element


@dataclass
class EchoState:
    hits: Counter[str] = field(default_factory=Counter)


def _sub(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ECHO_NS}}}{name}", attrib=attributes)
    element.text = text
    return element


def make_echo_app(state: EchoState) -> Any:
    async def lifespan(receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def respond(send: Any, status: int, content_type: str, body: bytes) -> None:
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def read_body(receive: Any) -> bytes:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    async def dribble(send: Any, kind: str, interval: float) -> None:
        """A server that never finishes its answer (each byte resets the client's read timeout)."""
        headers = [(b"content-type", b"application/soap+xml; charset=UTF-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"<soap:Envelope", "more_body": True})
        deadline = asyncio.get_running_loop().time() + 30
        with contextlib.suppress(Exception):  # the client hangs up: stop
            while asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(interval)
                if kind == "Trickle":
                    await send({"type": "http.response.body", "body": b" ", "more_body": True})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        raw = await read_body(receive)
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode()
        decoded = mtom.decode(content_type, raw) if mtom.is_multipart(content_type) else None
        msg = read_soap(decoded.root_xml if decoded else raw)
        assert msg.body is not None
        assert msg.message_id is not None
        state.hits[msg.message_id] += 1
        kind = etree.QName(msg.body).localname
        relates_to, response_id = msg.message_id, new_message_id()
        if kind == "Stranger":  # an answer to another request (a confused proxy)
            relates_to = new_message_id()
        if kind == "Fault":
            fault = build_fault(
                code="Sender",
                reason="Refusé pour le test",
                subcode=msg.body.get("subcode"),
                relates_to=relates_to,
                message_id=response_id,
            )
            await respond(send, 500, "application/soap+xml; charset=UTF-8", fault)
            return
        if kind == "Http500" or (
            kind == "Unavailable" and state.hits[msg.message_id] <= int(msg.body.get("after", "99"))
        ):
            status = 500 if kind == "Http500" else 503
            await respond(send, status, "text/html", b"<html><body>Internal error</body></html>")
            return
        if kind in ("Trickle", "Stall"):
            await dribble(send, kind, float(msg.body.get("interval", "0.2")))
            return
        if kind == "Slow":
            await asyncio.sleep(float(msg.body.get("seconds", "2")))
        result = etree.Element(f"{{{ECHO_NS}}}EchoResponse", nsmap={"t": ECHO_NS})
        certificate = client_certificate(scope)
        _sub(result, "clientSubject", certificate.subject.rfc4514_string() if certificate else "")
        _sub(result, "action", msg.action)
        _sub(result, "tlsVersion", str(scope["extensions"]["tls"]["tls_version"]))
        for cid, attachment in (decoded.attachments if decoded else {}).items():
            data = attachment.read_bytes()
            _sub(result, "attachment", cid=cid, size=str(len(data)), sha256=hashlib.sha256(data).hexdigest())
        envelope = build_response(result, action=f"{msg.action}Response", relates_to=relates_to, message_id=response_id)
        if kind == "MtomEcho":
            encoded = mtom.encode(
                envelope, [mtom.OutgoingPart("doc1@test", msg.body.get("payload", "").encode())], action="x"
            )
            await respond(send, 200, encoded.content_type, encoded.to_bytes())
            return
        await respond(send, 200, "application/soap+xml; charset=UTF-8", envelope)

    return app


@pytest.fixture(scope="session")
def echo_state() -> EchoState:
    return EchoState()


@pytest.fixture(scope="session")
def echo_server(pki: TestPki, echo_state: EchoState) -> Iterator[RunningServer]:
    """The echo app over mutual TLS (TLS 1.2 like the DMP), trusting the test PKI's CAs."""
    with start_in_thread(
        make_echo_app(echo_state), server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle
    ) as server:
        yield server


@pytest.fixture(scope="session")
def echo_server_tls13(pki: TestPki, echo_state: EchoState) -> Iterator[RunningServer]:
    """The same app negotiating TLS 1.3, with the h11 protocol implementation."""
    with start_in_thread(
        make_echo_app(echo_state),
        server_cert=pki.server.cert,
        server_key=pki.server.key,
        client_ca=pki.ca_bundle,
        tls12_only=False,
        http="h11",
    ) as server:
        yield server


@pytest.fixture
def echo_config(pki: TestPki, echo_server: RunningServer) -> DmpConfig:
    """A client configuration pointing at the echo server with short timeouts."""
    return DmpConfig.for_test_pki(pki, echo_server.services_url, timeouts={"connect": 5, "read": 5})
