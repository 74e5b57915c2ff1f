"""The HTTPS (mutual TLS) server harness of the mock DMP: uvicorn, plus the client certificate in the scope.

uvicorn enforces mutual TLS but does not hand the peer certificate to the application. Our HTTP
protocol classes read it from the connection's SSL object once the handshake is done
(``connection_made``) and publish it, for every request of that connection, in the ASGI TLS extension
``scope["extensions"]["tls"]`` (``client_cert_chain`` as PEM strings, ``client_cert_name`` as RFC 4514
text, ``tls_version``). They wrap the per-connection application instead of patching how uvicorn builds
the scope, so the httptools and h11 implementations are handled the same way.

Used by the pytest fixtures, the demo and ``dmp mock serve``. The TLS context comes from
:func:`dmpclient.security.tls.server_context` (client certificate required, test CA only).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, Self

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dmpclient.config import SERVICES_PATH
from dmpclient.security.credentials import load_pem
from dmpclient.security.tls import server_context

__all__ = [
    "LIMIT_CONCURRENCY",
    "RunningServer",
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
#: Connections + tasks served at once; past it uvicorn answers 503 instead of piling up work (DoS bound).
LIMIT_CONCURRENCY: Final = 128


def tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    """The ASGI TLS extension for a connection, or ``None`` if it is not TLS."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    certificate = x509.load_der_x509_certificate(der) if der else None
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


def _with_tls_extension(app: ASGIApp, transport: asyncio.BaseTransport) -> ASGIApp:
    extension = tls_extension(transport)
    if extension is None:
        return app

    async def connection_app(scope: Scope, receive: Receive, send: Send) -> None:
        tls = {**extension, "client_cert_chain": list(extension["client_cert_chain"])}
        scope["extensions"] = {**scope.get("extensions", {}), "tls": tls}
        await app(scope, receive, send)

    return connection_app


class TlsHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, publishing the client certificate in the ASGI TLS extension."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app = _with_tls_extension(self.app, transport)


class TlsH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, publishing the client certificate in the ASGI TLS extension."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app = _with_tls_extension(self.app, transport)


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
    require_client_cert: bool = True,
) -> uvicorn.Config:
    context = server_context(
        load_pem(server_cert, server_key), client_ca, tls12_only=tls12_only, require_client_cert=require_client_cert
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=TlsHttpToolsProtocol if http == "httptools" else TlsH11Protocol,
        ws="none",
        interface="asgi3",
        ssl_context_factory=lambda _config, _default: context,
        log_level=log_level,
        log_config=None if embedded else LOGGING_CONFIG,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
        limit_concurrency=LIMIT_CONCURRENCY,
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
    )
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the signal after its graceful shutdown
        uvicorn.Server(config).run()
