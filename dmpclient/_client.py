"""The two shells: :class:`DmpClient` (sync) and :class:`AsyncDmpClient` (async).

They only loop over the network. Everything else is shared and pure: the operation comes from
:mod:`dmpclient.transactions`, the request from :class:`~dmpclient._prepare.Preparation` (VIHF,
envelope, MTOM framing), the answer from :func:`~dmpclient.soap.response.read_response`, the bytes from a
:mod:`transport <dmpclient.transport>`. What the two shells add is the attempt loop: a total deadline,
opt-in retries of idempotent calls (connect errors, timeouts, HTTP 503; each retry gets a freshly signed
VIHF under the same MessageID — AIR tokens are single-use), and one INFO line per call. Submissions and
updates are never re-sent (reference §9.4, §9.7).
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

from lxml import etree

from dmpclient._deadline import Deadline
from dmpclient._logging import logger, redact, redact_headers
from dmpclient._prepare import Preparation
from dmpclient.config import DmpConfig
from dmpclient.errors import (
    DmpConnectError,
    DmpError,
    DmpHttpError,
    DmpProtocolError,
    DmpTimeoutError,
    DmpTransportError,
)
from dmpclient.hl7v3.patient_query import ExistenceAnswer
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.soap import mtom
from dmpclient.soap.envelope import new_message_id
from dmpclient.soap.request import PreparedRequest
from dmpclient.soap.response import Response, ResponseReader, read_response
from dmpclient.transactions import patients
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation

if TYPE_CHECKING:
    from dmpclient.transport import AsyncTransport, Transport

__all__ = ["AsyncDmpClient", "DmpClient"]

T = TypeVar("T")
#: Builds one attempt's request from its MessageID and the extra headers of that attempt.
Prepare = Callable[[str, Mapping[str, str] | None], PreparedRequest]
_RETRY_STATUSES: Final = frozenset({503})
#: Failures that say nothing about the answer's content: the call may be re-sent if it is idempotent.
_RETRYABLE: Final = (DmpConnectError, DmpTimeoutError)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # noqa: PLC0415 - asyncio is only needed by async clients

    await asyncio.sleep(seconds)


class _Shell:
    """What the sync and async clients share besides the pure core: attempts, retries, logging, accessors."""

    def __init__(
        self,
        config: DmpConfig,
        clock: Callable[[], dt.datetime],
        issuer: VihfIssuer | None,
        headers: Callable[[], Any] | None,
    ) -> None:
        self._prep = Preparation(config, clock, issuer)
        self._headers = headers

    @property
    def config(self) -> DmpConfig:
        """The configuration this client was built with."""
        return self._prep.config

    @property
    def vihf_issuer(self) -> VihfIssuer:
        """The issuer that builds and signs this client's VIHFs (signing key loaded on first use)."""
        return self._prep.issuer

    @property
    def context(self) -> CallContext:
        """What operation builders need (LPS device, clock, ids): ``transactions.x.y(client.context, …)``."""
        return self._prep.context()

    def _deadline(self, seconds: float | None) -> Deadline:
        return Deadline(seconds if seconds is not None else self.config.timeouts.total)

    def _again(self, prepare: Prepare, failed: PreparedRequest, attempt: int, started: float) -> PreparedRequest:
        """The next attempt under the same MessageID; a failure to prepare it is logged like any outcome."""
        try:
            return prepare(failed.message_id, self._headers() if self._headers else None)
        except DmpError as error:
            self._log_outcome(failed, attempt, started, _outcome(error))
            raise

    def _reader(self) -> ResponseReader:
        return ResponseReader(self.config.max_response_bytes)

    def _interpret(self, request: PreparedRequest, reader: ResponseReader) -> Response:
        raw = reader.finish()
        self._log_debug("response", request, {"content-type": raw.content_type}, raw.xml)
        return read_response(request, raw, max_bytes=self.config.max_response_bytes)

    def _retry_delay(self, request: PreparedRequest, attempt: int, error: DmpError, deadline: Deadline) -> float | None:
        """Seconds to wait before another attempt, or ``None`` to give up (full-jitter exponential backoff)."""
        policy = self.config.retry
        retryable = isinstance(error, _RETRYABLE) or (
            isinstance(error, DmpHttpError) and error.status_code in _RETRY_STATUSES
        )
        if not (request.idempotent and retryable and attempt < policy.max_attempts) or deadline.expired:
            return None
        cap = min(policy.backoff_max, policy.backoff_initial * 2 ** (attempt - 1))
        delay = random.uniform(0, cap)  # noqa: S311 - jitter, not cryptography
        return delay if delay < deadline.remaining() else None

    @staticmethod
    def _parse(op: Operation[T], response: Response) -> T:
        """The operation's decoder, with the TD and message id on every error; a crash is an unreadable answer."""
        context = {"td": op.td, "message_id": response.message.relates_to}
        try:
            return op.parse(response)
        except DmpError as exc:
            raise exc.with_context(**context) from None
        except Exception as exc:  # a decoder bug on a hostile answer must still be a DmpError
            raise DmpProtocolError(f"{op.td}: the answer could not be read ({type(exc).__name__})", **context) from exc

    @staticmethod
    def _log_outcome(request: PreparedRequest, attempts: int, started: float, outcome: str) -> None:
        """The one INFO line per call: TD, service, outcome, duration, attempts, message id (no patient data)."""
        logger.info(
            "%s %s -> %s in %d ms (%d attempt%s) message_id=%s",
            request.td,
            request.service,
            outcome,
            (time.perf_counter() - started) * 1000,
            attempts,
            "" if attempts == 1 else "s",
            request.message_id,
        )

    @staticmethod
    def _log_debug(what: str, request: PreparedRequest, headers: Mapping[str, str], xml: bytes) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s %s message_id=%s headers=%s\n%s",
                request.td,
                request.service,
                what,
                request.message_id,
                redact_headers(headers),
                redact(xml),
            )


def _outcome(error: DmpError) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}" + (f" (HTTP {status})" if status else "")


class DmpClient(_Shell):
    """Synchronous DMP client over mutual TLS (one pooled keep-alive connection set per client).

    Args:
        config: the configuration (credentials are loaded once, here).
        transport: how requests travel (default: HTTPS with httpx over the configured mutual TLS; tests
            may pass ``mock_server.inprocess.InProcessTransport`` to run without sockets).
        sleep: how to wait between retries (tests inject a recorder).
        clock: current time for VIHFs and messages (tests freeze it).
        vihf_issuer: who builds and signs the VIHFs (default: ``credentials.signing`` of the configuration;
            pass one over a card :class:`~dmpclient.security.vihf.Signer` for DIRECTE mode).
        headers: a function giving extra HTTP headers for each attempt, e.g. a Pro Santé Connect session's
            ``session.dmp_authorization_header`` (the exchanged ``Authorization: Bearer`` token, reference §11.5);
            on the async client it may be a coroutine function.
    """

    def __init__(
        self,
        config: DmpConfig,
        *,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = _utc_now,
        vihf_issuer: VihfIssuer | None = None,
        headers: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(config, clock, vihf_issuer, headers)
        if transport is None:
            from dmpclient.transport import HttpTransport  # noqa: PLC0415 - httpx only when a client is built

            transport = HttpTransport(config)
        self._transport = transport
        self._sleep = sleep

    def execute(
        self, op: Operation[T], identity: CallerIdentity, *, precheck: bool = True, deadline: float | None = None
    ) -> T:
        """Run a transaction for ``identity``: rights pre-check, fresh signed VIHF, send, decode.

        Args:
            deadline: the total time budget of the call in seconds (default ``timeouts.total``).

        Raises:
            DmpRightsPrecheckError: the official matrices refuse the call (nothing was sent).
        """
        if precheck:
            self._prep.precheck(op, identity)
        with self.send(
            lambda message_id, headers: self._prep.prepare(op, identity, message_id=message_id, extra_headers=headers),
            deadline,
        ) as response:
            return self._parse(op, response)

    def call(
        self,
        service: str,
        body: etree._Element,
        *,
        action: str,
        td: str,
        assertion: bytes | None,
        idempotent: bool,
        attachments: tuple[mtom.OutgoingPart, ...] = (),
        deadline: float | None = None,
        message_id: str | None = None,
    ) -> Response:
        """Send a raw SOAP body with a ready-made VIHF (``None`` sends none): integration tests, new TDs.

        The caller closes the returned :class:`~dmpclient.soap.response.Response` (``with``).
        """
        parts: dict[str, Any] = {"td": td, "action": action, "body": body, "assertion": assertion}
        return self.send(
            lambda message_id, headers: self._prep.request(
                service=service,
                idempotent=idempotent,
                attachments=attachments,
                message_id=message_id,
                extra_headers=headers,
                **parts,
            ),
            deadline,
            message_id,
        )

    def send(self, prepare: Prepare, deadline: float | None = None, message_id: str | None = None) -> Response:
        """The attempt loop: ``prepare(message_id, headers)`` builds each attempt, all under one MessageID."""
        budget, started, attempt = self._deadline(deadline), time.perf_counter(), 0
        request = prepare(message_id or new_message_id(), self._headers() if self._headers else None)
        while True:
            attempt += 1
            try:
                response = self._attempt(request, budget)
            except DmpError as error:
                delay = self._retry_delay(request, attempt, error, budget)
                if delay is None:
                    self._log_outcome(request, attempt, started, _outcome(error))
                    raise
                self._sleep(delay)
                request = self._again(prepare, request, attempt, started)
                continue
            self._log_outcome(request, attempt, started, f"HTTP {response.status_code}")
            return response

    def _attempt(self, request: PreparedRequest, deadline: Deadline) -> Response:
        self._log_debug("request", request, request.headers, request.envelope)
        reader = self._reader()
        try:
            self._transport.exchange(request, reader, deadline)
            return self._interpret(request, reader)
        except DmpError as exc:
            reader.abort()
            raise exc.with_context(td=request.td, message_id=request.message_id) from None
        except OSError as exc:  # spooling an MTOM part to disk failed
            reader.abort()
            raise _spool_error(exc, request) from exc

    def test_existence(self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR) -> ExistenceAnswer:
        """TD0.2: does a DMP exist for this INS, is it open, is the caller authorised / médecin traitant?"""
        return self.execute(patients.test_existence(self.context, ins, ins_oid), identity)

    def administrative_data(self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR) -> ExistenceAnswer:
        """TD1.3a: the patient's administrative data and oppositions recorded in the DMP."""
        return self.execute(patients.administrative_data(self.context, ins, ins_oid), identity)

    def close(self) -> None:
        """Close the pooled connections (only those of a transport this client created)."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncDmpClient(_Shell):
    """Asynchronous twin of :class:`DmpClient` (same arguments and methods, awaited)."""

    def __init__(
        self,
        config: DmpConfig,
        *,
        transport: AsyncTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep,
        clock: Callable[[], dt.datetime] = _utc_now,
        vihf_issuer: VihfIssuer | None = None,
        headers: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(config, clock, vihf_issuer, headers)
        if transport is None:
            from dmpclient.transport import AsyncHttpTransport  # noqa: PLC0415 - httpx only when a client is built

            transport = AsyncHttpTransport(config)
        self._transport = transport
        self._sleep = sleep

    async def execute(
        self, op: Operation[T], identity: CallerIdentity, *, precheck: bool = True, deadline: float | None = None
    ) -> T:
        """See :meth:`DmpClient.execute`."""
        if precheck:
            self._prep.precheck(op, identity)
        response = await self.send(
            lambda message_id, headers: self._prep.prepare(op, identity, message_id=message_id, extra_headers=headers),
            deadline,
        )
        with response:
            return self._parse(op, response)

    async def call(
        self,
        service: str,
        body: etree._Element,
        *,
        action: str,
        td: str,
        assertion: bytes | None,
        idempotent: bool,
        attachments: tuple[mtom.OutgoingPart, ...] = (),
        deadline: float | None = None,
        message_id: str | None = None,
    ) -> Response:
        """See :meth:`DmpClient.call`."""
        parts: dict[str, Any] = {"td": td, "action": action, "body": body, "assertion": assertion}
        return await self.send(
            lambda message_id, headers: self._prep.request(
                service=service,
                idempotent=idempotent,
                attachments=attachments,
                message_id=message_id,
                extra_headers=headers,
                **parts,
            ),
            deadline,
            message_id,
        )

    async def send(self, prepare: Prepare, deadline: float | None = None, message_id: str | None = None) -> Response:
        """See :meth:`DmpClient.send` (the header provider may be a coroutine function)."""
        budget, started, attempt = self._deadline(deadline), time.perf_counter(), 0
        request = prepare(message_id or new_message_id(), await self._async_headers())
        while True:
            attempt += 1
            try:
                response = await self._attempt(request, budget)
            except DmpError as error:
                delay = self._retry_delay(request, attempt, error, budget)
                if delay is None:
                    self._log_outcome(request, attempt, started, _outcome(error))
                    raise
                await self._sleep(delay)
                request = await self._again_async(prepare, request, attempt, started)
                continue
            self._log_outcome(request, attempt, started, f"HTTP {response.status_code}")
            return response

    async def _again_async(
        self, prepare: Prepare, failed: PreparedRequest, attempt: int, started: float
    ) -> PreparedRequest:
        """See :meth:`DmpClient._again` (the header provider may be awaited)."""
        try:
            return prepare(failed.message_id, await self._async_headers())
        except DmpError as error:
            self._log_outcome(failed, attempt, started, _outcome(error))
            raise

    async def _async_headers(self) -> Mapping[str, str] | None:
        headers = self._headers() if self._headers else None
        return await headers if inspect.isawaitable(headers) else headers

    async def _attempt(self, request: PreparedRequest, deadline: Deadline) -> Response:
        self._log_debug("request", request, request.headers, request.envelope)
        reader = self._reader()
        try:
            await self._transport.exchange(request, reader, deadline)
            return self._interpret(request, reader)
        except DmpError as exc:
            reader.abort()
            raise exc.with_context(td=request.td, message_id=request.message_id) from None
        except OSError as exc:
            reader.abort()
            raise _spool_error(exc, request) from exc

    async def test_existence(self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR) -> ExistenceAnswer:
        """TD0.2: does a DMP exist for this INS, is it open, is the caller authorised / médecin traitant?"""
        return await self.execute(patients.test_existence(self.context, ins, ins_oid), identity)

    async def administrative_data(
        self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR
    ) -> ExistenceAnswer:
        """TD1.3a: the patient's administrative data and oppositions recorded in the DMP."""
        return await self.execute(patients.administrative_data(self.context, ins, ins_oid), identity)

    async def aclose(self) -> None:
        """Close the pooled connections (only those of a transport this client created)."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()


def _spool_error(exc: OSError, request: PreparedRequest) -> DmpError:
    return DmpTransportError(
        f"could not store an attachment of the answer on disk ({exc.strerror or type(exc).__name__}): check the free "
        "space and permissions of the temporary directory",
        td=request.td,
        message_id=request.message_id,
    )
