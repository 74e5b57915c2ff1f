"""The HTTPS (mutual TLS) server harness of the mock DMP: uvicorn, the client certificate in the scope, limits.

uvicorn enforces mutual TLS but does not hand the peer certificate to the application. Our HTTP
protocol classes read it from the connection's SSL object once the handshake is done
(``connection_made``) and publish it, for every request of that connection, in the ASGI TLS extension
``scope["extensions"]["tls"]`` (``client_cert_chain`` as PEM strings, ``client_cert_name`` as RFC 4514
text, ``tls_version``). They wrap the per-connection application instead of patching how uvicorn builds
the scope, so the httptools and h11 implementations are handled the same way.

The same classes keep the server serving when clients misbehave (:class:`ServerLimits`): the TLS handshake,
the request headers and idle keep-alive connections each have a deadline; past ``max_connections`` the oldest
connection still waiting for its headers is dropped to make room, so idle connections cannot starve valid
clients; past ``max_requests`` requests in progress the answer is a SOAP 1.2 fault with HTTP 503 and
``Retry-After``. A TLS client certificate without the clientAuth extended key usage (a card signature or
ORG SIGN certificate) gets a ``DMPInvalidCertificate`` fault: OpenSSL accepts a certificate without any EKU.

Used by the pytest fixtures, the demo and ``dmp mock serve``. The TLS context comes from
:func:`dmpclient.security.tls.server_context` (client certificate required, test CA only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, Self

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dmpclient.config import SERVICES_PATH
from dmpclient.security.credentials import allows_tls_client, load_pem
from dmpclient.security.tls import server_context
from dmpclient.soap.faults import build_fault

try:  # uvicorn[standard] brings uvloop; the harness works on the standard loop as well
    from uvloop import Loop as _BaseLoop
except ImportError:  # pragma: no cover - platforms without uvloop
    _BaseLoop = asyncio.SelectorEventLoop  # type: ignore[misc,assignment]

__all__ = [
    "LIMIT_CONCURRENCY",
    "ASGIApp",
    "Receive",
    "RunningServer",
    "Scope",
    "Send",
    "ServerLimits",
    "TlsH11Protocol",
    "TlsHttpToolsProtocol",
    "client_certificate",
    "serve_forever",
    "start_in_thread",
    "tls_extension",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_TLS_VERSIONS: Final = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
_SOAP_CONTENT_TYPE: Final = b"application/soap+xml; charset=UTF-8"
_log = logging.getLogger("mock_server.server")


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Time and capacity limits of the harness, so that slow or idle clients cannot starve valid ones.

    Attributes:
        handshake_timeout: seconds for the TLS handshake (asyncio's default is 60).
        header_timeout: seconds for a request's headers to be complete, counted from the opening of the
            connection or the end of the previous response (slowloris bound).
        keep_alive_timeout: seconds an idle keep-alive connection is kept (at most ``header_timeout``).
        shutdown_timeout: seconds allowed for the TLS close exchange (asyncio's default is 30).
        max_connections: open connections; past it the connection waiting for its headers the longest is
            dropped (the new one if every connection has a request in progress).
        max_requests: requests in progress; past it the answer is a SOAP 1.2 ``Receiver`` fault, HTTP 503.
        retry_after: seconds announced in the ``Retry-After`` header of that answer.
    """

    handshake_timeout: float = 10.0
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    shutdown_timeout: float = 5.0
    max_connections: int = 512
    max_requests: int = 128
    retry_after: int = 1

    def __post_init__(self) -> None:
        if self.keep_alive_timeout > self.header_timeout:
            raise ValueError("ServerLimits: keep_alive_timeout must not exceed header_timeout")
        if min(self.max_connections, self.max_requests, self.retry_after) < 1:
            raise ValueError("ServerLimits: max_connections, max_requests and retry_after must be positive")


#: Requests in progress at once by default (``ServerLimits.max_requests``); past it, a SOAP fault with 503.
LIMIT_CONCURRENCY: Final = ServerLimits().max_requests


def _peer_certificate(transport: asyncio.BaseTransport) -> x509.Certificate | None:
    """The client certificate the connection presented (``None`` without one, or without TLS)."""
    ssl_object = transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return x509.load_der_x509_certificate(der) if der else None


def tls_extension(
    transport: asyncio.BaseTransport, certificate: x509.Certificate | None = None
) -> dict[str, Any] | None:
    """The ASGI TLS extension for a connection, or ``None`` if it is not TLS (``certificate``: the peer's, when
    already loaded)."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    certificate = certificate or _peer_certificate(transport)
    return {
        "server_cert": None,
        "client_cert_chain": (
            [certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")] if certificate else []
        ),
        "client_cert_name": certificate.subject.rfc4514_string() if certificate else None,
        "client_cert_error": None if certificate else "no client certificate",
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,  # Python's ssl does not expose the IANA suite number
    }


async def _send_fault(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", _SOAP_CONTENT_TYPE), (b"content-length", b"%d" % len(body)), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})


def _fault(code: Literal["Sender", "Receiver"], reason: str, subcode: str | None = None) -> bytes:
    return build_fault(code=code, reason=reason, subcode=subcode, message_id=f"urn:uuid:{uuid.uuid4()}")


class _ConnectionGuard:
    """What :class:`TlsHttpToolsProtocol` and :class:`TlsH11Protocol` add to uvicorn's protocols.

    Per connection: the header deadline, eviction when the server is full, and a per-connection application
    that refuses a client certificate without clientAuth, answers 503 over capacity and publishes the TLS
    extension. ``limits`` is set per server by :func:`_protocol_class`.
    """

    limits: ClassVar[ServerLimits] = ServerLimits()
    # Set by uvicorn's protocol classes (the other base of the concrete classes).
    app: ASGIApp
    connections: set[Any]
    tasks: set[asyncio.Task[None]]
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _header_timer: asyncio.TimerHandle | None = None
    _awaiting_headers: bool = False
    _waiting_since: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._await_headers()
        self.app = self._connection_app(self.app, transport)
        self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._await_headers()

    def _await_headers(self) -> None:
        """From now on the next request's headers must be complete within ``header_timeout``."""
        self._stop_header_timer()
        self._awaiting_headers = True
        self._waiting_since = self.loop.time()
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._headers_too_late)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _request_started(self) -> None:
        self._awaiting_headers = False
        self._stop_header_timer()

    def _headers_too_late(self) -> None:
        if self._awaiting_headers and not self.transport.is_closing():
            _log.debug("dropped a connection whose request headers did not arrive in %g s", self.limits.header_timeout)
            self.transport.abort()

    def _make_room(self) -> None:
        """Over ``max_connections``, drop the connection idle the longest (this one if none is idle)."""
        if len(self.connections) <= self.limits.max_connections:
            return
        idle = [c for c in self.connections if c is not self and getattr(c, "_awaiting_headers", False)]
        victim = min(idle, key=lambda connection: connection._waiting_since) if idle else self
        _log.debug("%d connections open: dropped %s", len(self.connections), "an idle one" if idle else "the new one")
        victim.transport.abort()

    def _connection_app(self, app: ASGIApp, transport: asyncio.BaseTransport) -> ASGIApp:
        certificate = _peer_certificate(transport)
        extension = tls_extension(transport, certificate)
        refusal = None
        if certificate is not None and not allows_tls_client(certificate):
            refusal = _fault(
                "Sender",
                "Le certificat client TLS n'est pas un certificat d'authentification (usage étendu clientAuth absent)",
                "DMPInvalidCertificate",
            )
        limits = self.limits

        async def connection_app(scope: Scope, receive: Receive, send: Send) -> None:
            self._request_started()
            if refusal is not None:
                await _send_fault(send, 500, refusal, [])
                return
            if len(self.tasks) > limits.max_requests:
                busy = _fault("Receiver", f"Le DMP est momentanément surchargé ; réessayez dans {limits.retry_after} s")
                await _send_fault(send, 503, busy, [(b"retry-after", b"%d" % limits.retry_after)])
                return
            if extension is not None:
                tls = {**extension, "client_cert_chain": list(extension["client_cert_chain"])}
                scope["extensions"] = {**scope.get("extensions", {}), "tls": tls}
            await app(scope, receive, send)

        return connection_app


class TlsHttpToolsProtocol(_ConnectionGuard, HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's httptools protocol, publishing the client certificate in the ASGI TLS extension, with limits."""


class TlsH11Protocol(_ConnectionGuard, H11Protocol):  # type: ignore[misc]
    """uvicorn's h11 protocol, publishing the client certificate in the ASGI TLS extension, with limits."""


def _protocol_class(http: Literal["httptools", "h11"], limits: ServerLimits) -> type[_ConnectionGuard]:
    base = TlsHttpToolsProtocol if http == "httptools" else TlsH11Protocol
    return type(base.__name__, (base,), {"limits": limits})


class _TlsBoundedLoop(_BaseLoop):
    """The event loop with deadlines on the TLS handshake and close exchange of every server it creates
    (uvicorn does not pass them to ``create_server``)."""

    tls_timeouts: tuple[float, float] = (60.0, 30.0)

    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.AbstractServer:  # type: ignore[override]
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_handshake_timeout", self.tls_timeouts[0])
            kwargs.setdefault("ssl_shutdown_timeout", self.tls_timeouts[1])
        return await super().create_server(*args, **kwargs)


class _Config(uvicorn.Config):
    """uvicorn's configuration, running the server on a :class:`_TlsBoundedLoop`."""

    def __init__(self, *args: Any, limits: ServerLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server_limits = limits

    def get_loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop]:
        def factory() -> asyncio.AbstractEventLoop:
            loop = _TlsBoundedLoop()
            loop.tls_timeouts = (self.server_limits.handshake_timeout, self.server_limits.shutdown_timeout)
            return loop

        return factory


def client_certificate(scope: Scope) -> x509.Certificate | None:
    """The TLS client certificate of the request, from the ASGI TLS extension (``None`` if absent)."""
    chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
    return x509.load_pem_x509_certificate(chain[0].encode("ascii")) if chain else None


@dataclass(slots=True)
class RunningServer:
    """A mock server running in a background thread; ``stop()`` (or ``with``) shuts it down."""

    host: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def base_url(self) -> str:
        """``https://host:port`` (the origin)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def services_url(self) -> str:
        """The DMP services base URL on this server (``…/si-dmp-server/v2/services``)."""
        return f"{self.base_url}{SERVICES_PATH}"

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to shut down and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _config(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    server_cert: Path,
    server_key: Path,
    client_ca: Path,
    log_level: str,
    tls12_only: bool,
    http: Literal["httptools", "h11"],
    embedded: bool,
    limits: ServerLimits,
    require_client_cert: bool = True,
) -> uvicorn.Config:
    context = server_context(
        load_pem(server_cert, server_key), client_ca, tls12_only=tls12_only, require_client_cert=require_client_cert
    )
    return _Config(
        app,
        limits=limits,
        host=host,
        port=port,
        http=_protocol_class(http, limits),
        ws="none",
        interface="asgi3",
        ssl_context_factory=lambda _config, _default: context,
        log_level=log_level,
        log_config=None if embedded else LOGGING_CONFIG,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=limits.keep_alive_timeout,
        limit_concurrency=None,  # requests in progress are bounded by the protocol classes (SOAP fault, not text)
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def start_in_thread(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    server_cert: Path,
    server_key: Path,
    client_ca: Path,
    log_level: str = "warning",
    tls12_only: bool = True,
    http: Literal["httptools", "h11"] = "httptools",
    startup_timeout: float = 15.0,
    require_client_cert: bool = True,
    limits: ServerLimits | None = None,
) -> RunningServer:
    """Serve ``app`` over mutual TLS in a daemon thread; ``port=0`` picks a free port (see ``.port``).

    Args:
        app: the ASGI application.
        server_cert: PEM server certificate (+ chain); server_key: its PEM key.
        client_ca: PEM CAs allowed to issue client certificates (the test PKI's bundle).
        tls12_only: negotiate TLS 1.2 only, like the DMP (default). Python's asyncio drops a refused client
            without a TLS alert; in TLS 1.2 the client then still sees the failure inside the handshake.
        http: uvicorn HTTP implementation.
        require_client_cert: ``False`` serves clients without a certificate too (the mock PSC provider's
            browser pages); the application then reads the certificate, if any, from the TLS extension.
        limits: deadlines and capacity (defaults: :class:`ServerLimits`).

    Raises:
        RuntimeError: the server did not start (port in use, bad certificate…).
    """
    sock = _bind(host, port)
    config = _config(
        app,
        host=host,
        port=sock.getsockname()[1],
        server_cert=server_cert,
        server_key=server_key,
        client_ca=client_ca,
        log_level=log_level,
        tls12_only=tls12_only,
        http=http,
        embedded=True,
        require_client_cert=require_client_cert,
        limits=limits or ServerLimits(),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="mock-dmp-server")
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the mock server did not start on {host}:{config.port} (see the uvicorn log)")
        time.sleep(0.01)
    return RunningServer(host, config.port, server, thread)


def serve_forever(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 8443,
    server_cert: Path,
    server_key: Path,
    client_ca: Path,
    log_level: str = "info",
    tls12_only: bool = True,
    http: Literal["httptools", "h11"] = "httptools",
    limits: ServerLimits | None = None,
) -> None:
    """Serve ``app`` over mutual TLS in the foreground until Ctrl+C / SIGTERM (``dmp mock serve``)."""
    config = _config(
        app,
        host=host,
        port=port,
        server_cert=server_cert,
        server_key=server_key,
        client_ca=client_ca,
        log_level=log_level,
        tls12_only=tls12_only,
        http=http,
        embedded=False,
        limits=limits or ServerLimits(),
    )
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the signal after its graceful shutdown
        uvicorn.Server(config).run()
