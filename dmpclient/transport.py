"""The transport seam: how a prepared request reaches a DMP, and the httpx transports over mutual TLS.

A transport sends one :class:`~dmpclient.soap.request.PreparedRequest` and feeds what comes back into a
:class:`~dmpclient.soap.response.ResponseReader`, within a :class:`~dmpclient._deadline.Deadline`. It
maps its own failures to :class:`~dmpclient.errors.DmpTransportError` subclasses; it never interprets
SOAP. The SDK's transports speak HTTPS with httpx (this is the only SDK module importing httpx besides
the Pro Santé Connect client); the mock ships an in-process transport for tests
(:mod:`mock_server.inprocess`), so the same client code runs with or without sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import threading
from typing import Final, Protocol
from urllib.parse import urlsplit

import httpx

from dmpclient._deadline import Deadline
from dmpclient.config import DmpConfig
from dmpclient.errors import (
    DmpConnectError,
    DmpError,
    DmpProtocolError,
    DmpTimeoutError,
    DmpTlsError,
    DmpTransportError,
)
from dmpclient.security.tls import TlsDiagnosis, TlsFailure, client_context, diagnose_tls_failure
from dmpclient.soap.request import PreparedRequest
from dmpclient.soap.response import ResponseReader

__all__ = ["AsyncHttpTransport", "AsyncTransport", "Deadline", "HttpTransport", "Transport"]

_POOL_LIMITS: Final = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0)


class Transport(Protocol):
    """What the sync client needs from a transport."""

    def exchange(self, request: PreparedRequest, reader: ResponseReader, deadline: Deadline) -> None:
        """Send ``request`` and feed the answer into ``reader`` (``start`` then ``feed``), within ``deadline``.

        Raises:
            DmpTransportError: the exchange did not complete (connect, TLS, timeout, broken connection).
        """

    def close(self) -> None:
        """Release pooled connections."""


class AsyncTransport(Protocol):
    """What the async client needs from a transport (same contract as :class:`Transport`, awaited)."""

    async def exchange(self, request: PreparedRequest, reader: ResponseReader, deadline: Deadline) -> None: ...

    async def aclose(self) -> None: ...


def _user_agent() -> str:
    try:
        return f"dmpclient/{importlib.metadata.version('dmpclient')}"
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "dmpclient"


def _client_options(config: DmpConfig) -> dict[str, object]:
    """A pooled keep-alive client over the configured mutual TLS, trusting only the configured CAs."""
    timeouts = config.timeouts
    return {
        "verify": client_context(config.load_tls_credential(), config.ca_bundle),
        "timeout": httpx.Timeout(
            connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
        ),
        "limits": _POOL_LIMITS,
        "proxy": config.proxy,
        "trust_env": False,  # proxies and CAs come from DmpConfig only
        "follow_redirects": False,
        "headers": {"User-Agent": _user_agent()},
    }


def _timeouts(config: DmpConfig, deadline: Deadline) -> dict[str, float]:
    """Per-phase timeouts of one attempt, none outlasting the call's deadline."""
    timeouts = config.timeouts
    return {
        "connect": deadline.bound(timeouts.connect),
        "read": deadline.bound(timeouts.read),
        "write": deadline.bound(timeouts.write),
        "pool": deadline.bound(timeouts.pool),
    }


class _ErrorMapper:
    """httpx failures → the SDK taxonomy, with what to check."""

    def __init__(self, config: DmpConfig) -> None:
        self._config = config

    def __call__(self, exc: httpx.HTTPError, request: PreparedRequest, deadline: Deadline) -> DmpError:
        context = {"td": request.td, "message_id": request.message_id}
        if deadline.expired:
            return deadline.error("talking to the DMP").with_context(**context)
        host = urlsplit(request.url).netloc
        diagnosis = diagnose_tls_failure(exc, in_handshake=isinstance(exc, httpx.ConnectError))
        if diagnosis is not None:
            return DmpTlsError(self._tls_message(diagnosis, host), **context)
        if isinstance(exc, httpx.TimeoutException):
            kind = type(exc).__name__.removesuffix("Timeout").lower()
            limit = getattr(self._config.timeouts, kind, None)
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
                f"TLS: the server certificate of {host} is not trusted by ca_bundle {self._config.ca_bundle} "
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


class _Watchdog:
    """Cuts a blocked synchronous read when the deadline passes (per-read timeouts reset on every byte).

    Shutting the socket down wakes the thread blocked in ``recv``; the read then fails and the client
    reports the deadline.
    """

    def __init__(self, response: httpx.Response, deadline: Deadline) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        self._timer: threading.Timer | None = None
        if sock is not None and deadline.seconds is not None:
            self._timer = threading.Timer(deadline.remaining(), _shutdown, (sock,))
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _shutdown(sock: object) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(2)  # type: ignore[attr-defined]  # socket.SHUT_RDWR on a socket or an SSL socket


class HttpTransport:
    """Synchronous HTTPS transport (httpx) over the configured mutual TLS.

    Args:
        config: endpoints, credentials, CA bundle, timeouts, proxy.
        client: an ``httpx.Client`` to use instead of building one (tests); the caller closes it.
    """

    def __init__(self, config: DmpConfig, *, client: httpx.Client | None = None) -> None:
        self._config = config
        self._owns = client is None
        self._http = client if client is not None else httpx.Client(**_client_options(config))  # type: ignore[arg-type]
        self._errors = _ErrorMapper(config)

    def exchange(self, request: PreparedRequest, reader: ResponseReader, deadline: Deadline) -> None:
        content = request.envelope if request.mtom is None else request.mtom.iter_bytes()
        http_request = self._http.build_request(
            "POST",
            request.url,
            content=content,
            headers=dict(request.headers),
            extensions={"timeout": _timeouts(self._config, deadline)},
        )
        try:
            response = self._http.send(http_request, stream=True)
            watchdog = _Watchdog(response, deadline)
            try:
                reader.start(response.status_code, response.headers.get("content-type", ""))
                for chunk in response.iter_bytes():
                    reader.feed(chunk)
                    deadline.check("reading the response")
            finally:
                watchdog.cancel()
                response.close()
        except httpx.HTTPError as exc:
            raise self._errors(exc, request, deadline) from exc

    def close(self) -> None:
        if self._owns:
            self._http.close()


class AsyncHttpTransport:
    """Asynchronous twin of :class:`HttpTransport` (the deadline cancels the whole exchange)."""

    def __init__(self, config: DmpConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._owns = client is None
        self._http = client if client is not None else httpx.AsyncClient(**_client_options(config))  # type: ignore[arg-type]
        self._errors = _ErrorMapper(config)

    async def exchange(self, request: PreparedRequest, reader: ResponseReader, deadline: Deadline) -> None:
        content = request.envelope if request.mtom is None else request.mtom.aiter_bytes()
        http_request = self._http.build_request(
            "POST",
            request.url,
            content=content,
            headers=dict(request.headers),
            extensions={"timeout": _timeouts(self._config, deadline)},
        )
        try:
            async with asyncio.timeout(None if deadline.seconds is None else deadline.remaining()):
                response = await self._http.send(http_request, stream=True)
                try:
                    reader.start(response.status_code, response.headers.get("content-type", ""))
                    async for chunk in response.aiter_bytes():
                        reader.feed(chunk)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise deadline.error("talking to the DMP").with_context(
                td=request.td, message_id=request.message_id
            ) from None
        except httpx.HTTPError as exc:
            raise self._errors(exc, request, deadline) from exc

    async def aclose(self) -> None:
        if self._owns:
            await self._http.aclose()
