"""The mock application at the ASGI level: denial-of-service bounds, fail-closed TLS cross-check, warnings, ids.

Requests are driven straight through :class:`MockDmp` (no socket) so that the tests can see whether the
body was read at all, simulate slow or vanishing clients, and leave the TLS extension out of the scope.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import uuid
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pytest
from lxml import etree

from dmpclient._xml import NS
from dmpclient.config import SERVICES_PATH
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import AuthMode, SoftwareSigner, sign_vihf, vihf_to_element
from dmpclient.soap.envelope import SoapMessage, build_request, read_soap
from dmpclient.soap.mtom import MtomDecoder
from dmpclient.transactions import patients
from dmpclient.transactions.spec import Service, TransactionSpec
from mock_server import app as app_module
from mock_server import gate as gate_module
from mock_server.app import MockDmp
from mock_server.context import Reply
from mock_server.errors import MockFault
from mock_server.handlers import default_router
from mock_server.nonconforming import WarnOnce
from mock_server.routing import Route
from mock_server.runtime import MockRuntime
from tests.mock_server.conftest import td02
from tests.unit.vihf_factory import build, now, sign_element, signer_of

SOAP: Final = "application/soap+xml; charset=UTF-8"
MULTIPART: Final = 'multipart/related; type="application/xop+xml"; boundary="b1"; start-info="application/soap+xml"'
MIB: Final = 1024 * 1024
#: A test-only transaction receiving MTOM on the repository (the bounds are the app's, not a TD's).
MTOM_UPLOAD: Final = TransactionSpec(
    td="TD-TEST",
    title="test upload",
    service=Service.REPOSITORY,
    request_root="{urn:dmpclient:test}Upload",
    request_action="urn:dmpclient:test:Upload",
    response_action="urn:dmpclient:test:UploadResponse",
    decode=lambda response: None,
    rights=(),
    idempotent=False,
    mtom_request=True,
)


@dataclass
class Exchange:
    """What the application did with one request."""

    status: int = 0
    body: bytes = b""
    reads: int = 0
    sent: list[MutableMapping[str, Any]] = field(default_factory=list)

    def message(self) -> SoapMessage:
        return read_soap(self.body)

    def fault(self) -> tuple[str | None, str | None, str | None]:
        body = self.message().body
        assert body is not None
        return (
            body.findtext("soap:Code/soap:Value", namespaces=NS),
            body.findtext("soap:Code/soap:Subcode/soap:Value", namespaces=NS),
            body.findtext("soap:Reason/soap:Text", namespaces=NS),
        )


def _post(
    app: MockDmp,
    service: str,
    messages: Sequence[MutableMapping[str, Any]],
    *,
    content_type: str = SOAP,
    headers: Sequence[tuple[str, str]] = (),
    certificate: str | None = None,
) -> Exchange:
    """POST to ``service``: ``messages`` are what ``receive`` returns, then it waits forever (a silent client)."""
    exchange = Exchange()
    queue = list(messages)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": f"{SERVICES_PATH}/{service}",
        "raw_path": f"{SERVICES_PATH}/{service}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in [("content-type", content_type), *headers]],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8443),
    }
    if certificate is not None:
        scope["extensions"] = {"tls": {"client_cert_chain": [certificate]}}

    async def receive() -> MutableMapping[str, Any]:
        exchange.reads += 1
        if queue:
            return queue.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: MutableMapping[str, Any]) -> None:
        exchange.sent.append(message)
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
        elif message["type"] == "http.response.body":
            exchange.body += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return exchange


def _body(data: bytes, *, chunk: int = MIB) -> list[MutableMapping[str, Any]]:
    parts = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
    return [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]


@pytest.fixture
def org_signer(pki: TestPki) -> SoftwareSigner:
    return signer_of(pki.org_sign)


@pytest.fixture
def tls_certificate(pki: TestPki) -> str:
    """The PEM client certificate the TLS layer would have verified (ORG AUTH_CLI, the VIHF issuer)."""
    text = pki.org_auth.cert.read_text(encoding="ascii")
    return text[: text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")] + "\n"


@pytest.fixture
def app(mock_runtime: MockRuntime) -> MockDmp:
    ids = itertools.count(1)
    router = default_router()
    router.add(Route(MTOM_UPLOAD, lambda ctx: Reply(ctx.body)))  # an MTOM transaction on the repository
    return MockDmp(
        mock_runtime.store,
        mock_runtime.app.gate,
        router,
        new_id=lambda: f"mock-{next(ids)}",
        body_timeout=0.2,
    )


def _td02(signer: SoftwareSigner, assertion: bytes | None = None) -> tuple[str, bytes]:
    op = td02()
    message_id = f"urn:uuid:{uuid.uuid4()}"
    assertion = assertion or sign_vihf(build(AuthMode.AIR, signer, now()), signer)
    return message_id, build_request(op.body, action=op.spec.request_action, message_id=message_id, assertion=assertion)


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new de-duplication memory for this test (the process-wide one may have seen the texts already)."""
    once = WarnOnce(logging.getLogger("mock_server"))
    monkeypatch.setattr(app_module, "warn_nonconforming", once)
    monkeypatch.setattr(gate_module, "warn_nonconforming", once)


def _levels(caplog: pytest.LogCaptureFixture, fragment: str) -> list[int]:
    return [r.levelno for r in caplog.records if "non-conforming" in r.getMessage() and fragment in r.getMessage()]


# --- denial-of-service bounds -------------------------------------------------------------------


def test_unknown_service_is_refused_before_the_body_is_read(app: MockDmp, org_signer: SoftwareSigner) -> None:
    _, envelope = _td02(org_signer)
    exchange = _post(app, "nowhere", _body(envelope))
    assert exchange.reads == 0
    assert exchange.status == 404
    assert exchange.fault() == ("soap:Sender", None, "Service inconnu : nowhere")


def test_multipart_bodies_are_refused_unread_outside_the_repository(app: MockDmp) -> None:
    exchange = _post(app, "patients", _body(b"--b1\r\n"), content_type=MULTIPART)
    assert exchange.reads == 0
    assert exchange.fault() == (
        "soap:Sender",
        None,
        "Requête illisible : le service patients n'accepte pas de corps multipart/MTOM",
    )
    repository = _post(app, "repository", _body(b"--b1\r\nnot mime\r\n--b1--\r\n"), content_type=MULTIPART)
    assert repository.reads > 0  # the repository does read MTOM (this one is malformed)
    assert repository.fault()[2] is not None
    assert repository.fault()[2].startswith("Requête illisible")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("service", "content_type", "declared"),
    [
        ("patients", SOAP, str(8 * MIB + 1)),
        ("repository", MULTIPART, str(128 * MIB + 1)),
        ("patients", SOAP, "9" * 5000),  # past int()'s digit limit: must not become an internal error
    ],
    ids=["plain", "mtom", "huge"],
)
def test_bodies_announced_larger_than_the_limits_are_refused_unread(
    app: MockDmp, service: str, content_type: str, declared: str
) -> None:
    exchange = _post(app, service, _body(b"x"), content_type=content_type, headers=[("content-length", declared)])
    assert exchange.reads == 0
    code, _, reason = exchange.fault()
    assert code == "soap:Sender"
    assert reason is not None
    assert reason.startswith("Requête illisible : corps annoncé de plus de")


def test_plain_bodies_are_bounded_to_8_mib(app: MockDmp) -> None:
    exchange = _post(app, "patients", _body(b"<" * (8 * MIB + 1)))
    assert exchange.fault()[2] == f"Requête illisible : plain SOAP request larger than {8 * MIB} bytes"
    assert exchange.reads == 9  # stopped at the first chunk past the bound


def test_a_body_not_received_in_time_gets_a_sender_fault(app: MockDmp) -> None:
    exchange = _post(app, "patients", [{"type": "http.request", "body": b"<soap:Env", "more_body": True}])
    assert exchange.status == 500
    assert exchange.fault() == ("soap:Sender", None, "Requête illisible : corps non reçu en 0.2 s")


def test_a_client_disconnect_is_one_debug_line_not_an_error(app: MockDmp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    partial = {"type": "http.request", "body": b"<soap:Env", "more_body": True}
    _post(app, "patients", [partial, {"type": "http.disconnect"}])
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    debug = [r.getMessage() for r in caplog.records if r.name == "mock_server"]
    assert debug == ["client disconnected before sending the whole request on patients"]


def test_mtom_bodies_are_decoded_off_the_event_loop(app: MockDmp, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of tiny parts is decoded (and refused past max_parts) in worker threads, never on the loop."""
    threads: list[str] = []

    class Recording(MtomDecoder):
        def feed(self, chunk: bytes | bytearray | memoryview) -> None:
            threads.append(threading.current_thread().name)
            super().feed(chunk)

    monkeypatch.setattr(app_module, "MtomDecoder", Recording)
    parts = b"".join(b"--b1\r\nContent-ID: <p%d@x>\r\n\r\nx\r\n" % i for i in range(5000))
    body = b"--b1\r\nContent-ID: <root@x>\r\n\r\n<e/>\r\n" + parts + b"--b1--\r\n"
    exchange = _post(app, "repository", _body(body, chunk=64 * 1024), content_type=MULTIPART)
    assert exchange.fault()[2] == "Requête illisible : the multipart body has more than 1000 parts (max_parts)"
    assert threads
    assert threading.main_thread().name not in threads


# --- the TLS cross-check fails closed; answers use the injected ids -------------------------------


def test_without_a_tls_client_certificate_the_vihf_is_refused(
    app: MockDmp, org_signer: SoftwareSigner, mock_runtime: MockRuntime
) -> None:
    before = len(mock_runtime.store.access_trace(limit=1_000_000))
    message_id, envelope = _td02(org_signer)
    exchange = _post(app, "patients", _body(envelope))
    assert exchange.status == 500
    assert exchange.fault() == (
        "soap:Sender",
        "soap:DMPInvalidCertificate",
        "Le certificat ayant signé le VIHF est invalide : aucun certificat client TLS",
    )
    assert exchange.message().relates_to == message_id
    assert len(mock_runtime.store.access_trace(limit=1_000_000)) == before


def test_answers_take_their_message_id_from_new_id(
    app: MockDmp, org_signer: SoftwareSigner, tls_certificate: str
) -> None:
    message_id, envelope = _td02(org_signer)
    answered = _post(app, "patients", _body(envelope), certificate=tls_certificate)
    assert answered.status == 200
    assert answered.message().relates_to == message_id
    assert answered.message().message_id == "urn:uuid:mock-2"  # mock-1 is the HL7 response id of the handler
    refused = _post(app, "nowhere", _body(envelope))
    assert refused.message().message_id == "urn:uuid:mock-3"


def test_an_empty_body_is_refused_before_any_handler() -> None:
    with pytest.raises(MockFault, match="corps de la requête SOAP est vide"):
        default_router().resolve("patients", None, patients.TEST_EXISTENCE.request_action)


# --- liberal acceptance is logged, once per distinct deviation ------------------------------------


def test_warn_once_logs_each_text_once_then_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="test.warn_once")
    once = WarnOnce(logging.getLogger("test.warn_once"), max_remembered=2)
    for text in ["a", "a", "b", "c", "c"]:
        once(text)
    assert [(r.levelno, r.getMessage()[-1]) for r in caplog.records] == [
        (logging.WARNING, "a"),
        (logging.DEBUG, "a"),
        (logging.WARNING, "b"),
        (logging.DEBUG, "c"),  # past the bound: not remembered, never a WARNING flood
        (logging.DEBUG, "c"),
    ]


def test_envelope_deviations_are_warned_once(
    app: MockDmp,
    org_signer: SoftwareSigner,
    tls_certificate: str,
    caplog: pytest.LogCaptureFixture,
    fresh_warnings: None,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mock_server")
    for _ in range(3):
        _, envelope = _td02(org_signer)
        doubled = envelope.replace(b"</soap:Body>", b"<extra/></soap:Body>")
        assert _post(app, "patients", _body(doubled), certificate=tls_certificate).status == 200
    assert _levels(caplog, "soap:Body holds 2 elements") == [logging.WARNING, logging.DEBUG, logging.DEBUG]


def _default_namespace_vihf(signer: SoftwareSigner) -> bytes:
    """A VIHF whose SAML elements use the default namespace (no ``saml2:`` prefix), then signed."""
    unsigned = etree.tostring(vihf_to_element(build(AuthMode.AIR, signer, now())))
    unprefixed = unsigned.replace(b"xmlns:saml2=", b"xmlns=").replace(b"<saml2:", b"<").replace(b"</saml2:", b"</")
    element = etree.fromstring(unprefixed)
    assert element.prefix is None
    return sign_element(element, signer)


def test_a_vihf_in_the_default_namespace_is_accepted_with_a_warning_once(
    app: MockDmp,
    org_signer: SoftwareSigner,
    tls_certificate: str,
    caplog: pytest.LogCaptureFixture,
    fresh_warnings: None,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mock_server")
    for _ in range(2):
        _, envelope = _td02(org_signer, _default_namespace_vihf(org_signer))
        assert _post(app, "patients", _body(envelope), certificate=tls_certificate).status == 200
    assert _levels(caplog, "SAML in the default namespace") == [logging.WARNING, logging.DEBUG]
