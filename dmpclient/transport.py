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
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import httpcore
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


def _client_options(config: DmpConfig) -> dict[str, Any]:
    """What both clients share: default timeouts, no environment, no redirects, our User-Agent."""
    timeouts = config.timeouts
    return {
        "timeout": httpx.Timeout(
            connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
        ),
        "trust_env": False,  # proxies and CAs come from DmpConfig only
        "follow_redirects": False,
        "headers": {"User-Agent": _user_agent()},
    }


def _connection_options(config: DmpConfig) -> dict[str, Any]:
    """A pooled keep-alive connection over the configured mutual TLS, trusting only the configured CAs."""
    return {
        "verify": client_context(config.load_tls_credential(), config.ca_bundle),
        "limits": _POOL_LIMITS,
        "proxy": config.proxy,
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


#: The deadline of the call running in this thread (the synchronous client does its I/O in the caller's thread).
_CURRENT_DEADLINE: ContextVar[Deadline | None] = ContextVar("dmpclient_deadline", default=None)


def _bounded(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """``timeout`` capped to the current call's time left; ``expired`` raised once none is left."""
    deadline = _CURRENT_DEADLINE.get()
    if deadline is None:
        return timeout
    if deadline.expired:
        raise expired("the call deadline ran out")
    return deadline.remaining() if timeout is None else deadline.bound(timeout)


class _BoundedStream(httpcore.NetworkStream):
    """A socket stream whose every operation ends by the call's deadline, however the peer trickles bytes."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    """httpcore's synchronous sockets, wrapped in :class:`_BoundedStream`."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._backend.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _bounded_transport(config: DmpConfig) -> httpx.HTTPTransport:
    """httpx's transport with :class:`_BoundedBackend` sockets (httpx has no public hook for a network backend).

    ``tests/client/test_deadline.py`` trickles the response headers and the request upload through it: if an
    httpx release changes this internal, those tests fail rather than calls hanging.
    """
    transport = httpx.HTTPTransport(**_connection_options(config), trust_env=False)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):  # pragma: no cover
        raise RuntimeError(f"httpx {httpx.__version__}: cannot bound the call deadline of its connection pool")
    pool._network_backend = _BoundedBackend()
    return transport


@contextlib.contextmanager
def _within(deadline: Deadline) -> Iterator[None]:
    token = _CURRENT_DEADLINE.set(deadline)
    try:
        yield
    finally:
        _CURRENT_DEADLINE.reset(token)


class HttpTransport:
    """Synchronous HTTPS transport (httpx) over the configured mutual TLS.

    Args:
        config: endpoints, credentials, CA bundle, timeouts, proxy.
        client: an ``httpx.Client`` to use instead of building one (tests); the caller closes it.
    """

    def __init__(self, config: DmpConfig, *, client: httpx.Client | None = None) -> None:
        self._config = config
        self._owns = client is None
        if client is None:
            client = httpx.Client(transport=_bounded_transport(config), **_client_options(config))
        self._http = client
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
            with _within(deadline):
                response = self._http.send(http_request, stream=True)
                try:
                    reader.start(response.status_code, response.headers.get("content-type", ""))
                    for chunk in response.iter_bytes():
                        reader.feed(chunk)
                finally:
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
        if client is None:
            client = httpx.AsyncClient(**_connection_options(config), **_client_options(config))
        self._http = client
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
            async with asyncio.timeout(deadline.remaining()):
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
