"""Serve the web PS site to browsers: HTTPS with the mock's server certificate and **no** client certificate.

The SOAP services demand the structure's certificate (mutual TLS); a browser has none, and in AIR the posted
VIHF is the proof (reference §10.3). So the site also runs on an origin of its own, like the real web PS host.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from dmpclient.security.credentials import load_pem
from dmpclient.security.tls import browser_server_context
from mock_server.server import ASGIApp, RunningServer

__all__ = ["serve_webps_forever", "start_webps_in_thread"]


def _config(app: ASGIApp, host: str, port: int, cert: Path, key: Path, *, embedded: bool) -> uvicorn.Config:
    context = browser_server_context(load_pem(cert, key))
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        ws="none",
        interface="asgi3",
        ssl_context_factory=lambda _config, _default: context,
        log_level="warning" if embedded else "info",
        log_config=None if embedded else LOGGING_CONFIG,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
        limit_concurrency=64,
    )


def start_webps_in_thread(
    app: ASGIApp, *, server_cert: Path, server_key: Path, host: str = "127.0.0.1", port: int = 0, timeout: float = 15.0
) -> RunningServer:
    """The site over HTTPS in a daemon thread (``port=0``: a free port, see ``.port``)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(_config(app, host, sock.getsockname()[1], server_cert, server_key, embedded=True))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="mock-webps")
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the web PS site did not start on {host}:{sock.getsockname()[1]}")
        time.sleep(0.01)
    return RunningServer(host, sock.getsockname()[1], server, thread)


def serve_webps_forever(app: ASGIApp, *, server_cert: Path, server_key: Path, host: str, port: int) -> None:
    """The site in the foreground (``dmp mock serve --webps-port``)."""
    uvicorn.Server(_config(app, host, port, server_cert, server_key, embedded=False)).run()
