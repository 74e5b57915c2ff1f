"""The HTTP shells: :class:`DmpClient` (sync) and :class:`AsyncDmpClient` (async) over mutual TLS.

This is the only module importing :mod:`httpx`. Everything but the socket work is shared (``_Core``):
request preparation (SOAP 1.2 envelope, MTOM framing), reading and interpreting the answer (plain SOAP
or MTOM, SOAP fault → exception, HTTP status without SOAP → :class:`~dmpclient.errors.DmpHttpError`),
the mapping of transport failures to :class:`~dmpclient.errors.DmpTransportError` subclasses with a
diagnosis of TLS failures, the retry policy and logging. The two shells differ only in awaiting.

Retries (opt-in, ``config.retry``) apply to idempotent calls only, on connect errors, timeouts and
HTTP 503; a retry re-sends the same message (same MessageID) with a freshly signed VIHF when the caller
gave a VIHF factory (AIR tokens are single-use). Submissions and updates are
never re-sent (reference §9.4, §9.7).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import importlib.metadata
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from lxml import etree

from dmpclient._logging import logger, redact, redact_headers
from dmpclient._prepare import Preparation
from dmpclient.config import DmpConfig
from dmpclient.errors import (
    DmpConnectError,
    DmpError,
    DmpHttpError,
    DmpProtocolError,
    DmpTimeoutError,
    DmpTlsError,
    DmpTransportError,
)
from dmpclient.hl7v3.patient_query import ExistenceAnswer
from dmpclient.hl7v3.wrapper import Device
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.tls import TlsDiagnosis, TlsFailure, client_context, diagnose_tls_failure
from dmpclient.soap import mtom
from dmpclient.soap.envelope import MustUnderstandStyle, SoapMessage, build_request, new_message_id, read_soap
from dmpclient.soap.faults import raise_for_fault
from dmpclient.transactions import patients
from dmpclient.transactions.operation import Operation

__all__ = ["AsyncDmpClient", "DmpClient", "DmpResponse"]

_HttpClient = TypeVar("_HttpClient", httpx.Client, httpx.AsyncClient)
T = TypeVar("T")
AssertionSource = bytes | Callable[[], bytes] | None


_SOAP_CONTENT_TYPE: Final = 'application/soap+xml; charset=UTF-8; action="{action}"'
_RETRY_STATUSES: Final = frozenset({503})
_MAX_MTOM_RESPONSE: Final = 1 << 30  # attachments are spooled to disk; bound the disk use too
_STATUS_HINTS: Final = {
    401: "the server did not accept the caller: check the certificate registration for this environment",
    403: "the server refused the caller: check the certificate registration for this environment",
    404: "check base_url / environment and the service name",
    413: "the request is larger than the server accepts",
    502: "a gateway in front of the DMP failed; retry later",
    503: "the service is unavailable; retry later",
    504: "a gateway in front of the DMP timed out; retry later",
}


def _user_agent() -> str:
    try:
        return f"dmpclient/{importlib.metadata.version('dmpclient')}"
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "dmpclient"


@dataclass(slots=True)
class DmpResponse:
    """The answer to one call.

    Attributes:
        message: the SOAP response (never a fault: faults are raised).
        attachments: the decoded MTOM parts when the DMP answered in MTOM (ITI-43, ITI-41), else ``None``;
            parts may be spooled to temporary files: :meth:`close` (or ``with``) releases them.
        status_code: the HTTP status.
    """

    message: SoapMessage
    attachments: mtom.MtomDecoded | None
    status_code: int

    def close(self) -> None:
        """Release spooled attachments."""
        if self.attachments is not None:
            self.attachments.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class _Call:
    """One prepared call: everything needed to (re-)send it."""

    service: str
    url: str
    td: str
    action: str
    message_id: str
    idempotent: bool
    envelope: bytes
    attachments: tuple[mtom.OutgoingPart, ...]
    body: etree._Element
    assertion: AssertionSource


class _BodyReader:
    """Accumulates the response body: MTOM through the streaming decoder (parts spooled), plain XML bounded."""

    def __init__(self, content_type: str, max_bytes: int) -> None:
        multipart = mtom.is_multipart(content_type)
        self._decoder = (
            mtom.MtomDecoder(content_type, max_root_bytes=max_bytes, max_total_bytes=_MAX_MTOM_RESPONSE)
            if multipart
            else None
        )
        self._buffer = bytearray()
        self._max = max_bytes

    def feed(self, chunk: bytes) -> None:
        if self._decoder is not None:
            self._decoder.feed(chunk)
            return
        self._buffer += chunk
        if len(self._buffer) > self._max:
            raise DmpProtocolError(
                f"the response exceeds max_response_bytes ({self._max} bytes); raise it in the configuration "
                "only if such answers are expected"
            )

    def finish(self) -> tuple[bytes, mtom.MtomDecoded | None]:
        if self._decoder is None:
            return bytes(self._buffer), None
        decoded = self._decoder.close()
        self._decoder = None
        return decoded.root_xml, decoded

    def abort(self) -> None:
        """Drop a partly received body (deletes spooled parts)."""
        if self._decoder is not None:
            self._decoder.abort()
            self._decoder = None


class _Core(Preparation):
    """What both shells share: preparation, interpretation, error mapping, retry decisions, logging."""

    def http_client(self, kind: type[_HttpClient]) -> _HttpClient:
        """A pooled keep-alive httpx client (sync or async) over the configured mutual TLS."""
        timeouts = self.config.timeouts
        return kind(
            verify=client_context(self.config.load_tls_credential(), self.config.ca_bundle),
            timeout=httpx.Timeout(
                connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
            ),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0),
            proxy=self.config.proxy,
            trust_env=False,  # proxies and CAs come from DmpConfig only
            follow_redirects=False,
            headers={"User-Agent": _user_agent()},
        )

    def prepare(
        self,
        service: str,
        body: etree._Element,
        *,
        action: str,
        td: str,
        assertion: AssertionSource,
        idempotent: bool,
        attachments: Sequence[mtom.OutgoingPart],
        message_id: str | None,
    ) -> _Call:
        message_id = message_id or new_message_id()
        call = _Call(
            service,
            self.config.service_url(service),
            td,
            action,
            message_id,
            idempotent,
            b"",
            tuple(attachments),
            body,
            assertion,
        )
        return self.refresh(call)

    def refresh(self, call: _Call) -> _Call:
        """(Re)build the envelope; with an assertion factory, every attempt gets a fresh VIHF, same MessageID."""
        source = call.assertion
        try:
            assertion = source() if callable(source) else source
            wire = self.config.wire
            envelope = build_request(
                call.body,
                action=call.action,
                message_id=call.message_id,
                to=call.url if wire.wsa_to_endpoint else "",
                assertion=assertion,
                must_understand=MustUnderstandStyle(wire.must_understand),
            )
        except DmpError as exc:
            raise exc.with_context(td=call.td, message_id=call.message_id) from None
        return dataclasses.replace(call, envelope=envelope)

    def request_parts(self, call: _Call) -> tuple[dict[str, str], bytes | mtom.MtomMessage]:
        """Headers and content of one attempt (MTOM is re-encoded each time: its stream is single-use)."""
        if not call.attachments:
            return {"Content-Type": _SOAP_CONTENT_TYPE.format(action=call.action)}, call.envelope
        message = mtom.encode(call.envelope, call.attachments, action=call.action)
        return {"Content-Type": message.content_type, "Content-Length": str(message.content_length())}, message

    def reader(self, content_type: str) -> _BodyReader:
        return _BodyReader(content_type, self.config.max_response_bytes)

    def interpret(
        self, call: _Call, status: int, content_type: str, xml: bytes, attachments: mtom.MtomDecoded | None
    ) -> DmpResponse:
        """SOAP message → response; fault → its exception; error status without SOAP → DmpHttpError."""
        try:
            self._log_debug("response", call, {"content-type": content_type}, xml)
            try:
                message = read_soap(xml, max_bytes=self.config.max_response_bytes)
            except DmpProtocolError as exc:
                if 200 <= status < 300:
                    raise exc.with_context(td=call.td, message_id=call.message_id) from None
                raise self.http_error(call, status, content_type) from None
            raise_for_fault(message, td=call.td)
            if message.relates_to and message.relates_to != call.message_id:
                raise DmpProtocolError(
                    f"the answer relates to another request (wsa:RelatesTo {message.relates_to}); a proxy or the "
                    "platform mixed up two exchanges"
                )
            if not 200 <= status < 300:
                raise self.http_error(call, status, content_type, "with a SOAP envelope that is not a fault")
            return DmpResponse(message, attachments, status)
        except DmpError as exc:
            if attachments is not None:
                attachments.close()
            raise exc.with_context(td=call.td, message_id=call.message_id) from None

    def http_error(
        self, call: _Call, status: int, content_type: str, what: str = "without a SOAP envelope"
    ) -> DmpHttpError:
        hint = _STATUS_HINTS.get(status, "the answer is not a usable SOAP message")
        return DmpHttpError(
            f"HTTP {status} from the {call.service} service {what} (content-type {content_type or 'none'}): {hint}",
            status_code=status,
            td=call.td,
            message_id=call.message_id,
        )

    def transport_error(self, exc: httpx.RequestError, call: _Call) -> DmpError:
        """Map an httpx failure to the SDK taxonomy, with what to check."""
        host = urlsplit(call.url).netloc
        context = {"td": call.td, "message_id": call.message_id}
        diagnosis = diagnose_tls_failure(exc, in_handshake=isinstance(exc, httpx.ConnectError))
        if diagnosis is not None:
            return DmpTlsError(self._tls_message(diagnosis, host), **context)
        if isinstance(exc, httpx.TimeoutException):
            kind = type(exc).__name__.removesuffix("Timeout").lower()
            limit = getattr(self.config.timeouts, kind, None)
            return DmpTimeoutError(
                f"{kind} timeout talking to {host}" + (f" (timeouts.{kind} = {limit} s)" if limit else ""), **context
            )
        if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
            return DmpConnectError(
                f"cannot connect to {host} ({exc or type(exc).__name__}): check base_url / environment, the "
                "network path (firewall, proxy) and that the platform is up",
                **context,
            )
        if isinstance(exc, httpx.DecodingError):
            return DmpProtocolError(f"cannot decode the answer of {host}: {exc}", **context)
        return DmpTransportError(
            f"the exchange with {host} broke off ({type(exc).__name__}: {exc or 'no detail'}); if this happens on "
            "every call, the server may be refusing our client certificate: check credentials.tls",
            **context,
        )

    def _tls_message(self, diagnosis: TlsDiagnosis, host: str) -> str:
        if diagnosis.failure is TlsFailure.SERVER_UNTRUSTED:
            return (
                f"TLS: the server certificate of {host} is not trusted by ca_bundle {self.config.ca_bundle} "
                f"({diagnosis.detail}); check that ca_bundle holds the CA chain of this environment (IGC-Santé)"
            )
        if diagnosis.failure is TlsFailure.HOSTNAME_MISMATCH:
            return f"TLS: the server certificate does not match {host} ({diagnosis.detail}); check base_url"
        if diagnosis.failure is TlsFailure.CLIENT_CERT_REFUSED:
            return (
                f"TLS: the server refused our client certificate ({diagnosis.detail}): check credentials.tls is the "
                "ORG AUTH_CLI certificate registered for this environment, issued by a CA the server trusts, "
                "and still valid"
            )
        if diagnosis.failure is TlsFailure.CLOSED_IN_HANDSHAKE:
            return (
                f"TLS: {host} closed the connection during the handshake ({diagnosis.detail}): it most likely refused "
                "our client certificate — check credentials.tls is the ORG AUTH_CLI certificate registered for this "
                "environment and issued by a CA the server trusts (or the server accepts none of our TLS 1.2 suites)"
            )
        return (
            f"TLS handshake with {host} failed ({diagnosis.detail}); the DMP requires TLS 1.2 with ECDHE-RSA "
            "suites and an RSA client certificate"
        )

    def retry_delay(self, call: _Call, attempt: int, error: DmpError) -> float | None:
        """Seconds to wait before another attempt, or ``None`` to give up (full-jitter exponential backoff)."""
        policy = self.config.retry
        retryable = isinstance(error, DmpConnectError | DmpTimeoutError) or (
            isinstance(error, DmpHttpError) and error.status_code in _RETRY_STATUSES
        )
        if not (call.idempotent and retryable and attempt < policy.max_attempts):
            return None
        cap = min(policy.backoff_max, policy.backoff_initial * 2 ** (attempt - 1))
        return random.uniform(0, cap)  # noqa: S311 - jitter, not cryptography

    def log_request(self, call: _Call, headers: Mapping[str, str]) -> None:
        self._log_debug("request", call, headers, call.envelope)

    def log_outcome(self, call: _Call, attempts: int, started: float, outcome: str) -> None:
        """The one INFO line per call: TD, service, outcome, duration, attempts, message id (no patient data)."""
        logger.info(
            "%s %s -> %s in %d ms (%d attempt%s) message_id=%s",
            call.td,
            call.service,
            outcome,
            (time.perf_counter() - started) * 1000,
            attempts,
            "" if attempts == 1 else "s",
            call.message_id,
        )

    @staticmethod
    def _log_debug(what: str, call: _Call, headers: Mapping[str, str], xml: bytes) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s %s message_id=%s headers=%s\n%s",
                call.td,
                call.service,
                what,
                call.message_id,
                redact_headers(headers),
                redact(xml),
            )


def _parse(op: Operation[T], response: DmpResponse) -> T:
    """``op.parse`` with the TD and message id on every error; a parser crash is the peer's unreadable answer."""
    context = {"td": op.td, "message_id": response.message.relates_to}
    try:
        return op.parse(response.message)
    except DmpError as exc:
        raise exc.with_context(**context) from None
    except (ValueError, LookupError, TypeError) as exc:
        raise DmpProtocolError(f"{op.td}: the answer could not be read ({type(exc).__name__})", **context) from exc


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _outcome(error: DmpError) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}" + (f" (HTTP {status})" if status else "")


class _Shell:
    """What the sync and async clients share besides the protocol core: the public read-only accessors."""

    _core: _Core

    @property
    def config(self) -> DmpConfig:
        """The configuration this client was built with."""
        return self._core.config

    @property
    def vihf_issuer(self) -> VihfIssuer:
        """The issuer that builds and signs this client's VIHFs (signing key loaded on first use)."""
        return self._core.issuer

    def lps_device(self) -> Device:
        """The HL7v3 sender device of this software (``lps.id`` OID, ``lps.nom``)."""
        return self._core.lps_device()


class DmpClient(_Shell):
    """Synchronous DMP client over mutual TLS (one pooled keep-alive connection set per client).

    Args:
        config: the configuration (credentials are loaded once, here).
        http_client: an ``httpx.Client`` to use instead of building one (tests); the caller closes it.
        sleep: how to wait between retries (tests inject a recorder).
        clock: current time for VIHFs and messages (tests freeze it).
        vihf_issuer: who builds and signs the VIHFs (default: ``credentials.signing`` of the configuration;
            pass one over a card :class:`~dmpclient.security.vihf.Signer` for DIRECTE mode).
    """

    def __init__(
        self,
        config: DmpConfig,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = _utc_now,
        vihf_issuer: VihfIssuer | None = None,
    ) -> None:
        self._core = _Core(config, clock, vihf_issuer)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else self._core.http_client(httpx.Client)
        self._sleep = sleep

    def call(
        self,
        service: str,
        body: etree._Element,
        *,
        action: str,
        td: str,
        assertion: AssertionSource,
        idempotent: bool,
        attachments: Sequence[mtom.OutgoingPart] = (),
        message_id: str | None = None,
    ) -> DmpResponse:
        """Send one SOAP request to ``{base_url}/{service}`` and return the parsed answer.

        Args:
            service: ``registry``, ``repository``, ``patients``… (reference §1.2).
            body: the body root element.
            action: the TD's ``wsa:Action``.
            td: the TD name, for errors and logs (``"TD3.1"``).
            assertion: the signed VIHF bytes, or a factory called for every attempt (``None`` sends no
                ``wsse:Security``).
            idempotent: whether the call may be re-sent by the retry policy.
            attachments: MTOM parts (ITI-41); the request is then ``multipart/related``.
            message_id: the WS-Addressing MessageID (a fresh one by default).

        Raises:
            DmpSoapFault: the DMP answered a SOAP fault (DmpRightsError for rights refusals).
            DmpHttpError: an HTTP error status without SOAP envelope.
            DmpTransportError: connect (DmpConnectError), TLS (DmpTlsError) or timeout (DmpTimeoutError).
            DmpProtocolError: the answer is unreadable.
        """
        call = self._core.prepare(
            service,
            body,
            action=action,
            td=td,
            assertion=assertion,
            idempotent=idempotent,
            attachments=attachments,
            message_id=message_id,
        )
        started, attempt = time.perf_counter(), 0
        while True:
            attempt += 1
            try:
                response = self._attempt(call)
            except DmpError as error:
                delay = self._core.retry_delay(call, attempt, error)
                if delay is None:
                    self._core.log_outcome(call, attempt, started, _outcome(error))
                    raise
                self._sleep(delay)
                call = self._core.refresh(call) if callable(call.assertion) else call
                continue
            self._core.log_outcome(call, attempt, started, f"HTTP {response.status_code}")
            return response

    def _attempt(self, call: _Call) -> DmpResponse:
        headers, content = self._core.request_parts(call)
        stream = content if isinstance(content, bytes) else content.iter_bytes()
        request = self._http.build_request("POST", call.url, content=stream, headers=headers)
        self._core.log_request(call, request.headers)
        try:
            response = self._http.send(request, stream=True)
            try:
                reader = self._core.reader(response.headers.get("content-type", ""))
                try:
                    for chunk in response.iter_bytes():
                        reader.feed(chunk)
                    xml, decoded = reader.finish()
                except BaseException:
                    reader.abort()
                    raise
            finally:
                response.close()
        except httpx.RequestError as exc:
            raise self._core.transport_error(exc, call) from exc
        except DmpError as exc:
            raise exc.with_context(td=call.td, message_id=call.message_id) from None
        return self._core.interpret(call, response.status_code, response.headers.get("content-type", ""), xml, decoded)

    def execute(self, op: Operation[T], identity: CallerIdentity, *, precheck: bool = True) -> T:
        """Run a prepared transaction for ``identity``: rights pre-check, fresh signed VIHF, send, parse.

        Raises:
            DmpRightsPrecheckError: the official matrices refuse the call (nothing was sent).
        """
        if precheck:
            self._core.precheck(op, identity)
        with self.call(
            op.service,
            op.body,
            action=op.action,
            td=op.td,
            assertion=self._core.assertion_source(op, identity),
            idempotent=op.idempotent,
            attachments=op.attachments,
        ) as response:
            return _parse(op, response)

    def test_existence(self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR) -> ExistenceAnswer:
        """TD0.2: does a DMP exist for this INS, is it open, is the caller authorised / médecin traitant?"""
        op = patients.test_existence(ins, ins_oid, **self._core.hl7_context())
        return self.execute(op, identity)

    def administrative_data(self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR) -> ExistenceAnswer:
        """TD1.3a: the patient's administrative data and oppositions recorded in the DMP."""
        op = patients.administrative_data(ins, ins_oid, **self._core.hl7_context())
        return self.execute(op, identity)

    def close(self) -> None:
        """Close the pooled connections (only those of a client this object created)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncDmpClient(_Shell):
    """Asynchronous twin of :class:`DmpClient` (same arguments and behaviour, awaited).

    Args:
        config: the configuration.
        http_client: an ``httpx.AsyncClient`` to use instead of building one (tests); the caller closes it.
        sleep: how to wait between retries.
        clock: current time for VIHFs and messages.
        vihf_issuer: who builds and signs the VIHFs (see :class:`DmpClient`).
    """

    def __init__(
        self,
        config: DmpConfig,
        *,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], dt.datetime] = _utc_now,
        vihf_issuer: VihfIssuer | None = None,
    ) -> None:
        self._core = _Core(config, clock, vihf_issuer)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else self._core.http_client(httpx.AsyncClient)
        self._sleep = sleep

    async def call(
        self,
        service: str,
        body: etree._Element,
        *,
        action: str,
        td: str,
        assertion: AssertionSource,
        idempotent: bool,
        attachments: Sequence[mtom.OutgoingPart] = (),
        message_id: str | None = None,
    ) -> DmpResponse:
        """See :meth:`DmpClient.call`."""
        call = self._core.prepare(
            service,
            body,
            action=action,
            td=td,
            assertion=assertion,
            idempotent=idempotent,
            attachments=attachments,
            message_id=message_id,
        )
        started, attempt = time.perf_counter(), 0
        while True:
            attempt += 1
            try:
                response = await self._attempt(call)
            except DmpError as error:
                delay = self._core.retry_delay(call, attempt, error)
                if delay is None:
                    self._core.log_outcome(call, attempt, started, _outcome(error))
                    raise
                await self._sleep(delay)
                call = self._core.refresh(call) if callable(call.assertion) else call
                continue
            self._core.log_outcome(call, attempt, started, f"HTTP {response.status_code}")
            return response

    async def _attempt(self, call: _Call) -> DmpResponse:
        headers, content = self._core.request_parts(call)
        stream = content if isinstance(content, bytes) else content.aiter_bytes()
        request = self._http.build_request("POST", call.url, content=stream, headers=headers)
        self._core.log_request(call, request.headers)
        try:
            response = await self._http.send(request, stream=True)
            try:
                reader = self._core.reader(response.headers.get("content-type", ""))
                try:
                    async for chunk in response.aiter_bytes():
                        reader.feed(chunk)
                    xml, decoded = reader.finish()
                except BaseException:
                    reader.abort()
                    raise
            finally:
                await response.aclose()
        except httpx.RequestError as exc:
            raise self._core.transport_error(exc, call) from exc
        except DmpError as exc:
            raise exc.with_context(td=call.td, message_id=call.message_id) from None
        return self._core.interpret(call, response.status_code, response.headers.get("content-type", ""), xml, decoded)

    async def execute(self, op: Operation[T], identity: CallerIdentity, *, precheck: bool = True) -> T:
        """See :meth:`DmpClient.execute`: rights pre-check, fresh signed VIHF, send, parse.

        Raises:
            DmpRightsPrecheckError: the official matrices refuse the call (nothing was sent).
        """
        if precheck:
            self._core.precheck(op, identity)
        with await self.call(
            op.service,
            op.body,
            action=op.action,
            td=op.td,
            assertion=self._core.assertion_source(op, identity),
            idempotent=op.idempotent,
            attachments=op.attachments,
        ) as response:
            return _parse(op, response)

    async def test_existence(self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR) -> ExistenceAnswer:
        """TD0.2: does a DMP exist for this INS, is it open, is the caller authorised / médecin traitant?"""
        op = patients.test_existence(ins, ins_oid, **self._core.hl7_context())
        return await self.execute(op, identity)

    async def administrative_data(
        self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR
    ) -> ExistenceAnswer:
        """TD1.3a: the patient's administrative data and oppositions recorded in the DMP."""
        op = patients.administrative_data(ins, ins_oid, **self._core.hl7_context())
        return await self.execute(op, identity)

    async def aclose(self) -> None:
        """Close the pooled connections (only those of a client this object created)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
