"""The two clients: :class:`DmpClient` (sync) and :class:`AsyncDmpClient` (async).

They only loop over the network. Everything else is shared and pure: the operation comes from
:mod:`dmpclient.transactions`, the request from :class:`~dmpclient._prepare.Preparation` (VIHF,
envelope, MTOM framing), the answer from :func:`~dmpclient.soap.response.read_response`, the bytes from a
:mod:`transport <dmpclient.transport>`. What the two shells add is the attempt loop: a total deadline,
opt-in retries of idempotent calls (connect errors, timeouts, HTTP 503; each retry gets a freshly signed
VIHF under the same MessageID — AIR tokens are single-use), and one INFO line per call. Submissions and
updates are never re-sent (reference §9.4, §9.7). The transaction methods come from one mixin per service
family (:mod:`dmpclient._methods`).
"""

from __future__ import annotations

import datetime as dt
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from lxml import etree

from dmpclient._deadline import Deadline
from dmpclient._methods.authorizations import AsyncAuthorizationMethods, AuthorizationMethods
from dmpclient._methods.consultation import AsyncConsultationMethods, ConsultationMethods
from dmpclient._methods.feeding import AsyncFeedingMethods, FeedingMethods
from dmpclient._methods.patients import AsyncPatientMethods, PatientMethods
from dmpclient._methods.webps import AsyncWebPsMethods, WebPsMethods
from dmpclient._shell import Prepare, asyncio_sleep, outcome, spool_error, utc_now
from dmpclient.config import DmpConfig
from dmpclient.errors import (
    DmpError,
)
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.xades import SubmissionSigner
from dmpclient.soap import mtom
from dmpclient.soap.envelope import new_message_id
from dmpclient.soap.request import PreparedRequest
from dmpclient.soap.response import Response
from dmpclient.transactions.operation import Operation

if TYPE_CHECKING:
    from dmpclient.transport import AsyncTransport, Transport

__all__ = ["AsyncDmpClient", "DmpClient"]

T = TypeVar("T")


class DmpClient(PatientMethods, AuthorizationMethods, ConsultationMethods, FeedingMethods, WebPsMethods):
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
        submission_signer: who signs the XAdES "signature du lot" of TD2.1 (default: the VIHF issuer's key,
            with the ORG SIGN chain of the configuration; pass one for SHA-1, XAdES 1.3.2 or a card's chain).
    """

    def __init__(
        self,
        config: DmpConfig,
        *,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = utc_now,
        vihf_issuer: VihfIssuer | None = None,
        headers: Callable[[], Any] | None = None,
        submission_signer: SubmissionSigner | None = None,
    ) -> None:
        super().__init__(config, clock, vihf_issuer, headers, submission_signer)
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
            deadline: the total time budget of this exchange in seconds, retries included (default
                ``timeouts.total``).

        Raises:
            DmpRightsPrecheckError: the official matrices refuse the call (nothing was sent).
        """
        if precheck:
            self._prep.precheck(op, identity)
        message_id = new_message_id()
        with self.send(
            lambda message_id, headers: self._prep.prepare(op, identity, message_id=message_id, extra_headers=headers),
            deadline,
            message_id,
        ) as response:
            return self._parse(op, response, message_id)

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
                    self._log_outcome(request, attempt, started, outcome(error))
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
            raise spool_error(exc, request) from exc

    def close(self) -> None:
        """Close the pooled connections (only those of a transport this client created)."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncDmpClient(
    AsyncPatientMethods, AsyncAuthorizationMethods, AsyncConsultationMethods, AsyncFeedingMethods, AsyncWebPsMethods
):
    """Asynchronous twin of :class:`DmpClient` (same arguments and methods, awaited)."""

    def __init__(
        self,
        config: DmpConfig,
        *,
        transport: AsyncTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio_sleep,
        clock: Callable[[], dt.datetime] = utc_now,
        vihf_issuer: VihfIssuer | None = None,
        headers: Callable[[], Any] | None = None,
        submission_signer: SubmissionSigner | None = None,
    ) -> None:
        super().__init__(config, clock, vihf_issuer, headers, submission_signer)
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
        message_id = new_message_id()
        response = await self.send(
            lambda message_id, headers: self._prep.prepare(op, identity, message_id=message_id, extra_headers=headers),
            deadline,
            message_id,
        )
        with response:
            return self._parse(op, response, message_id)

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
                    self._log_outcome(request, attempt, started, outcome(error))
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
            self._log_outcome(failed, attempt, started, outcome(error))
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
            raise spool_error(exc, request) from exc

    async def aclose(self) -> None:
        """Close the pooled connections (only those of a transport this client created)."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
