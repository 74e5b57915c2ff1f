"""What the sync and async clients share besides the pure core: the attempt helpers, logging, accessors.

:class:`Shell` is the common base; :class:`SyncApi` and :class:`AsyncApi` declare ``execute`` for the
transaction methods of each service family (``dmpclient/_methods/``), which the clients in
:mod:`dmpclient._client` inherit: a transaction method is two short lines, build the operation, execute it.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

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
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.xades import SubmissionSigner
from dmpclient.soap.request import PreparedRequest
from dmpclient.soap.response import Response, ResponseReader, read_response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation

__all__ = ["AsyncApi", "Prepare", "Shell", "SyncApi", "asyncio_sleep", "outcome", "spool_error", "to_thread", "utc_now"]

T = TypeVar("T")
#: Builds one attempt's request from its MessageID and the extra headers of that attempt.
Prepare = Callable[[str, Mapping[str, str] | None], PreparedRequest]
_RETRY_STATUSES: Final = frozenset({503})
#: Failures that say nothing about the answer's content: the call may be re-sent if it is idempotent.
_RETRYABLE: Final = (DmpConnectError, DmpTimeoutError)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def to_thread(function: Callable[..., T], *args: Any) -> T:
    import asyncio  # noqa: PLC0415 - asyncio is only needed by async clients

    return await asyncio.to_thread(function, *args)


async def asyncio_sleep(seconds: float) -> None:
    import asyncio  # noqa: PLC0415 - asyncio is only needed by async clients

    await asyncio.sleep(seconds)


class Shell:
    """What the sync and async clients share besides the pure core: attempts, retries, logging, accessors."""

    def __init__(
        self,
        config: DmpConfig,
        clock: Callable[[], dt.datetime],
        issuer: VihfIssuer | None,
        headers: Callable[[], Any] | None,
        submission_signer: SubmissionSigner | None = None,
    ) -> None:
        self._prep = Preparation(config, clock, issuer, submission_signer)
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
            self._log_outcome(failed, attempt, started, outcome(error))
            raise

    def _reader(self) -> ResponseReader:
        return ResponseReader(self.config.max_response_bytes)

    def _interpret(self, request: PreparedRequest, reader: ResponseReader) -> Response:
        raw = reader.finish()
        self._log_debug("response", request, {"content-type": raw.content_type}, raw.xml)
        max_bytes = self.config.max_response_bytes
        return read_response(request, raw, max_bytes=max_bytes, budget=self.config.xml.budget(max_bytes))

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
    def _parse(op: Operation[T], response: Response, message_id: str) -> T:
        """The operation's decoder, with the TD and our request's MessageID on every error (the answer may not
        carry ``RelatesTo``); a crash is an unreadable answer."""
        context = {"td": op.td, "message_id": message_id}
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


def outcome(error: DmpError) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}" + (f" (HTTP {status})" if status else "")


def spool_error(exc: OSError, request: PreparedRequest) -> DmpError:
    return DmpTransportError(
        f"could not store an attachment of the answer on disk ({exc.strerror or type(exc).__name__}): check the free "
        "space and permissions of the temporary directory",
        td=request.td,
        message_id=request.message_id,
    )


class SyncApi(Shell):
    """The base of the synchronous transaction methods: :class:`~dmpclient.DmpClient` implements ``execute``."""

    def execute(
        self, op: Operation[T], identity: CallerIdentity, *, precheck: bool = True, deadline: float | None = None
    ) -> T:
        raise NotImplementedError


class AsyncApi(Shell):
    """The base of the asynchronous transaction methods: :class:`~dmpclient.AsyncDmpClient` implements ``execute``."""

    async def execute(
        self, op: Operation[T], identity: CallerIdentity, *, precheck: bool = True, deadline: float | None = None
    ) -> T:
        raise NotImplementedError
