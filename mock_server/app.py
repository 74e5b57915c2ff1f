"""The mock DMP as an ASGI application: read, authenticate, route, handle, answer — with dmpclient's core.

Per request (one SQLite transaction): the SOAP message is read with the client's own parser (MTOM or
plain), routed on the service path + body root (reference §1.3.1), admitted by the gate (mutual-TLS
identity, VIHF, rights), handled, traced, and answered with the client's own envelope/fault builders.
Blocking work (XML, signatures, SQLite) runs in worker threads so the event loop keeps accepting; see
``workers`` for why there is one by default.

Denial-of-service bounds: the service path is checked before the body is read; only ``repository``
accepts multipart/MTOM bodies (8 MiB for plain SOAP, 128 MiB for MTOM, refused up front when
``Content-Length`` announces more); the whole body must arrive within ``body_timeout`` seconds; the
server harness caps concurrent connections (``mock_server.server``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import anyio.to_thread
from anyio import CapacityLimiter
from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute
from starlette.routing import Route as HttpRoute

from dmpclient.config import SERVICES_PATH
from dmpclient.errors import DmpError, DmpProtocolError
from dmpclient.soap.envelope import SoapMessage, build_response, read_soap
from dmpclient.soap.faults import build_fault
from dmpclient.soap.mtom import MtomDecoded, MtomDecoder, encode, is_multipart
from dmpclient.transactions.spec import Service
from mock_server.context import Caller, Reply, RequestContext
from mock_server.errors import MockFault
from mock_server.gate import Gate
from mock_server.injection import FaultInjection, FaultInjector
from mock_server.nonconforming import warn_nonconforming
from mock_server.routing import Route, Router, check_service
from mock_server.server import Receive, Scope, Send, client_certificate
from mock_server.store import Store
from mock_server.store.records import Outcome

__all__ = ["MockDmp"]

_log = logging.getLogger("mock_server")
_access_log = logging.getLogger("mock_server.access")
_SOAP_CONTENT_TYPE: Final = "application/soap+xml; charset=UTF-8"
_WSA_MISSING: Final = "A required header representing a Message Addressing Property is not present"
_MAX_PLAIN_BODY: Final = 8 * 1024 * 1024
_MAX_MTOM_BODY: Final = 128 * 1024 * 1024  # a DMP submission is far smaller; bounded disk use
#: Bytes collected on the event loop before a worker thread decodes them (one thread hop per batch).
_MTOM_FEED_BATCH: Final = 1024 * 1024
_UNREADABLE: Final = "Requête illisible"


@dataclass(slots=True)
class _Answer:
    status: int
    content_type: str
    body: bytes | Iterator[bytes]
    td: str = "-"
    outcome: Outcome = Outcome.ERROR
    caller: str = "-"
    subcode: str | None = None


@dataclass(slots=True)
class _Seen:
    """What is known of a request so far (for traces and logs when it fails midway)."""

    message_id: str | None = None
    route: Route | None = None
    caller: Caller | None = None


class MockDmp:
    """The mock DMP application (call it as an ASGI app).

    Args:
        store: the SQLite state.
        gate: authentication and rights checks.
        router: the transactions answered (handlers registered by each transaction module).
        faults: fault injection in force (mutable at run time).
        clock: current time (tests freeze it).
        workers: threads processing requests. The work is GIL-bound and SQLite has a single writer, so
            more threads only add lock convoys: 1 gives the best throughput and tail latency (see
            benchmarks/bench_mock.py). Raise it only if long handlers must not hold up short calls.
        body_timeout: seconds allowed to receive a whole request body (slow senders are answered with
            a Sender fault instead of holding a connection and a decoder forever).
        extra_routes: more HTTP routes (the web PS pages, ``?wsdl``), mounted next to the SOAP services.
    """

    def __init__(
        self,
        store: Store,
        gate: Gate,
        router: Router,
        *,
        faults: FaultInjector | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        workers: int = 1,
        body_timeout: float = 60.0,
        extra_routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.store = store
        self.gate = gate
        self.router = router
        self.faults = faults or FaultInjector()
        self.clock = clock
        self.new_id = new_id
        self._workers = CapacityLimiter(workers)
        self._body_timeout = body_timeout
        # Serialises writers of this process: waiting here is a wake-up, whereas SQLite's busy handler
        # polls with sleeps of up to 100 ms (seconds of tail latency under load with several workers).
        self._write_lock = threading.Lock()
        self._app = Starlette(
            routes=[
                HttpRoute("/health", self._health, methods=["GET"]),
                HttpRoute(SERVICES_PATH + "/{service}", self._soap, methods=["POST"]),
                *extra_routes,  # the web PS site, the services' WSDL
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _health(self, _request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "services": sorted({r.spec.service.value for r in self.router.routes.values()})}
        )

    async def _soap(self, request: Request) -> Response:
        started = time.perf_counter()
        service = request.path_params["service"]
        try:
            answer = await self._handle(request, service)
        except ClientDisconnect:
            _log.debug("client disconnected before sending the whole request on %s", service)
            return Response(status_code=400)
        self._log_access(service, answer, started)
        if isinstance(answer.body, bytes):
            return Response(answer.body, status_code=answer.status, media_type=answer.content_type)
        return StreamingResponse(answer.body, status_code=answer.status, media_type=answer.content_type)

    async def _handle(self, request: Request, service: str) -> _Answer:
        try:
            check_service(service)
            payload = await self._read(request, service)
        except MockFault as fault:
            return self._fault(fault, relates_to=None)
        injection = self.faults.take(service)
        if injection and injection.delay_seconds:
            await asyncio.sleep(injection.delay_seconds)
        certificate = client_certificate(request.scope)
        authorization = request.headers.get("authorization")
        return await anyio.to_thread.run_sync(
            self._process, service, payload, certificate, injection, authorization, limiter=self._workers
        )

    def process_bytes(
        self,
        service: str,
        content_type: str,
        body: bytes,
        certificate: x509.Certificate | None,
        authorization: str | None = None,
    ) -> tuple[int, str, Iterator[bytes]]:
        """Answer one whole request synchronously, without HTTP (the in-process transport of the tests).

        Returns:
            The HTTP status, the Content-Type and the body chunks of the answer.
        """
        try:
            check_service(service)
            multipart = self._admit(service, content_type, str(len(body)))
            payload: bytes | MtomDecoded = body
            if multipart:
                decoder = MtomDecoder(content_type, max_total_bytes=_MAX_MTOM_BODY)
                decoder.feed(body)
                payload = decoder.close()
        except MockFault as fault:
            answer = self._fault(fault, relates_to=None)
        except DmpError as exc:
            answer = self._fault(MockFault(None, f"{_UNREADABLE} : {exc.message}"), relates_to=None)
        else:
            answer = self._process(service, payload, certificate, self.faults.take(service), authorization)
        chunks = iter((answer.body,)) if isinstance(answer.body, bytes) else answer.body
        return answer.status, answer.content_type, chunks

    def _admit(self, service: str, content_type: str, declared: str) -> bool:
        """Whether the body is MTOM; a Sender fault when its kind or announced size is not accepted here."""
        multipart = is_multipart(content_type)
        if multipart and service not in self.router.mtom_services:
            raise MockFault(None, f"{_UNREADABLE} : le service {service} n'accepte pas de corps multipart/MTOM")
        limit = _MAX_MTOM_BODY if multipart else _MAX_PLAIN_BODY
        if declared.isascii() and declared.isdigit() and (len(declared) > len(str(limit)) or int(declared) > limit):
            raise MockFault(None, f"{_UNREADABLE} : corps annoncé de plus de {limit} octets")
        return multipart

    async def _read(self, request: Request, service: str) -> bytes | MtomDecoded:
        """The body, within the size bounds of its kind and the read deadline, or a Sender fault."""
        content_type = request.headers.get("content-type", "")
        multipart = self._admit(service, content_type, request.headers.get("content-length", ""))
        try:
            async with asyncio.timeout(self._body_timeout):
                if multipart:
                    return await _read_mtom(request, content_type)
                return await _read_plain(request)
        except TimeoutError:
            raise MockFault(None, f"{_UNREADABLE} : corps non reçu en {self._body_timeout:g} s") from None
        except DmpError as exc:
            raise MockFault(None, f"{_UNREADABLE} : {exc.message}") from None

    def _process(
        self,
        service: str,
        payload: bytes | MtomDecoded,
        certificate: x509.Certificate | None,
        injection: FaultInjection | None,
        authorization: str | None = None,
    ) -> _Answer:
        seen = _Seen()
        decoded = payload if isinstance(payload, MtomDecoded) else None
        try:
            answer = self._answer(service, payload, certificate, injection, seen, authorization)
        except MockFault as fault:
            if seen.route is not None and seen.caller is not None:
                with self._write_lock:
                    self.gate.trace(
                        seen.caller,
                        seen.route.td,
                        self.clock(),
                        outcome=Outcome.REFUSED,
                        detail=fault.reason,
                        message_id=seen.message_id,
                    )
            answer = self._fault(fault, relates_to=seen.message_id)
        except DmpProtocolError as exc:
            answer = self._fault(MockFault(None, f"{_UNREADABLE} : {exc.message}"), relates_to=seen.message_id)
        except Exception:
            _log.exception("internal error while handling a request on %s", service)
            internal = MockFault(None, "Erreur interne du mock DMP", code="Receiver")
            answer = self._fault(internal, relates_to=seen.message_id)
        finally:
            if decoded is not None:
                decoded.close()
        answer.td = seen.route.td if seen.route else "-"
        answer.caller = seen.caller.log_id() if seen.caller else "-"
        return answer

    def _answer(
        self,
        service: str,
        payload: bytes | MtomDecoded,
        certificate: x509.Certificate | None,
        injection: FaultInjection | None,
        seen: _Seen,
        authorization: str | None,
    ) -> _Answer:
        """The normal path: read, route, admit, handle in one transaction, trace, answer."""
        decoded = payload if isinstance(payload, MtomDecoded) else None
        root_xml = payload.root_xml if isinstance(payload, MtomDecoded) else payload
        message = read_soap(root_xml, allow_soap11=service == Service.REPOSITORY)
        seen.message_id = message.message_id
        for warning in message.warnings:
            warn_nonconforming(f"{warning} (service {service})")
        if not message.message_id or not message.action:
            raise MockFault(None, _WSA_MISSING)
        route = seen.route = self.router.resolve(service, message.body, message.action)
        forced = _forced_answer(injection) if injection is not None else None
        if forced is not None:
            return forced
        now = self.clock()
        caller = seen.caller = self.gate.authenticate(message, certificate, now, authorization)
        context = RequestContext(
            route.spec, message, caller, self.store, now, self.new_id, decoded, trust=self.gate.policy
        )
        context.decision = self.gate.authorize(caller, route.spec, context.body, now)
        with self._write_lock, self.store.transaction():
            reply = route.handler(context)
            self.gate.trace(
                caller, route.td, now, outcome=reply.outcome, detail=reply.detail, message_id=message.message_id
            )
        return self._reply(reply, route, message)

    def _reply(self, reply: Reply, route: Route, message: SoapMessage) -> _Answer:
        action = route.spec.response_action
        envelope = build_response(
            reply.body, action=action, relates_to=message.message_id, message_id=self._message_id()
        )
        if route.spec.mtom_response or reply.attachments:
            mtom = encode(envelope, reply.attachments, action=action)
            return _Answer(200, mtom.content_type, mtom.iter_bytes(), outcome=Outcome.ALLOWED)
        return _Answer(200, _SOAP_CONTENT_TYPE, envelope, outcome=Outcome.ALLOWED)

    def _message_id(self) -> str:
        """The ``wsa:MessageID`` of an answer, from the injected id source (reproducible in tests)."""
        return f"urn:uuid:{self.new_id()}"

    def _fault(self, fault: MockFault, *, relates_to: str | None) -> _Answer:
        body = build_fault(
            code="Receiver" if fault.code == "Receiver" else "Sender",
            reason=fault.reason,
            subcode=fault.subcode,
            relates_to=relates_to,
            message_id=self._message_id(),
            refusal=fault.refusal,
        )
        outcome = Outcome.REFUSED if fault.code == "Sender" else Outcome.ERROR
        return _Answer(fault.http_status, _SOAP_CONTENT_TYPE, body, outcome=outcome, subcode=fault.subcode)

    def _log_access(self, service: str, answer: _Answer, started: float) -> None:
        """One structured line per request: TD, caller, outcome, duration (no INS, no content)."""
        if not _access_log.isEnabledFor(logging.INFO):
            return
        record = {
            "service": service,
            "td": answer.td,
            "caller": answer.caller,
            "status": answer.status,
            "outcome": answer.outcome.value,
            "subcode": answer.subcode,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
        _access_log.info(json.dumps(record, ensure_ascii=False))


def _forced_answer(injection: FaultInjection) -> _Answer | None:
    """The answer imposed by fault injection, if it replaces the normal one."""
    if injection.http_status is not None:
        body = f"HTTP {injection.http_status} (injected by the mock DMP)".encode()
        return _Answer(injection.http_status, "text/plain", body)
    if injection.malformed_xml:
        return _Answer(200, _SOAP_CONTENT_TYPE, b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">')
    if injection.dmp_subcode is not None:
        raise MockFault(injection.dmp_subcode, injection.dmp_reason, code=injection.dmp_code)
    return None


async def _read_mtom(request: Request, content_type: str) -> MtomDecoded:
    """An MTOM body, decoded incrementally in a worker thread: the event loop only collects bytes, so a
    hostile body (a flood of tiny parts, odd framing) never holds it (attachments spool to disk when large)."""
    decoder = MtomDecoder(content_type, max_total_bytes=_MAX_MTOM_BODY)
    batch: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            batch.append(chunk)
            size += len(chunk)
            if size >= _MTOM_FEED_BATCH:
                await anyio.to_thread.run_sync(_feed, decoder, batch)
                batch, size = [], 0
        await anyio.to_thread.run_sync(_feed, decoder, batch)
        return await anyio.to_thread.run_sync(decoder.close)
    except BaseException:
        decoder.abort()
        raise


def _feed(decoder: MtomDecoder, chunks: list[bytes]) -> None:
    for chunk in chunks:
        decoder.feed(chunk)


async def _read_plain(request: Request) -> bytes:
    """A plain SOAP body, bounded in size."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_PLAIN_BODY:
            raise DmpProtocolError(f"plain SOAP request larger than {_MAX_PLAIN_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
