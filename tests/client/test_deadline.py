"""Every call has a total deadline: a server that trickles bytes or stalls mid-answer cannot hold a call open.

Per-read timeouts (5 s here) reset on every byte; the deadline (1.5 s here) bounds the whole call, retries
included, in the sync and the async client alike. The error names the deadline that fired, which tells it apart
from the read timeout; how close to the deadline the call ends is measured in ``benchmarks/bench_deadline.py``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
from lxml import etree

from dmpclient import AsyncDmpClient, DmpClient, DmpConfig, DmpTimeoutError
from dmpclient.security.pki import TestPki
from tests.client.conftest import ECHO_ACTION, echo_body

DEADLINE = 1.5
SERVICES = "/si-dmp-server/v2/services"


class _RawTlsServer:
    """A mutual-TLS socket server below HTTP, for what an ASGI server cannot do.

    ``headers``: reads the request's first bytes, then trickles a status line and an endless header, one byte every
    0.2 s. ``deaf``: completes the handshake, then never reads, so the client's upload blocks once buffers fill.
    Either gives up after 20 s and sets ``gave_up``: a call that ended first was ended by its own deadline.
    """

    def __init__(self, pki: TestPki, behaviour: str) -> None:
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_bundle))
        self._context.load_cert_chain(str(pki.server.cert), str(pki.server.key))
        self._context.verify_mode = ssl.CERT_REQUIRED
        self.behaviour = behaviour
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopped = threading.Event()
        self.gave_up = threading.Event()
        self.url = f"https://localhost:{self._listener.getsockname()[1]}{SERVICES}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while not self._stopped.is_set():
                connection, _ = self._listener.accept()
                threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), self._context.wrap_socket(connection, server_side=True) as tls:
            if self.behaviour == "headers":
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nX-Never-Ending: ")
            for _ in range(100):  # 20 s
                if self._stopped.wait(0.2):
                    return
                if self.behaviour == "headers":
                    tls.sendall(b"a")
            self.gave_up.set()

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()


@pytest.fixture(params=["headers", "deaf"])
def raw_server(request: pytest.FixtureRequest, pki: TestPki) -> Iterator[_RawTlsServer]:
    server = _RawTlsServer(pki, request.param)
    yield server
    server.close()


def _config(echo_config: DmpConfig, **retry: float) -> DmpConfig:
    return echo_config.model_copy(
        update={
            "timeouts": echo_config.timeouts.model_copy(update={"read": 5.0, "total": DEADLINE}),
            "retry": echo_config.retry.model_copy(update=retry) if retry else echo_config.retry,
        }
    )


@pytest.mark.parametrize("kind", ["Trickle", "Stall"])
def test_sync_call_ends_at_its_deadline(echo_config: DmpConfig, kind: str) -> None:
    with DmpClient(_config(echo_config)) as client, pytest.raises(DmpTimeoutError, match=r"deadline of 1\.5 s"):
        client.call("echo", echo_body(kind), action=ECHO_ACTION, td="T", assertion=None, idempotent=True)


@pytest.mark.parametrize("kind", ["Trickle", "Stall"])
async def test_async_call_ends_at_its_deadline(echo_config: DmpConfig, kind: str) -> None:
    async with AsyncDmpClient(_config(echo_config)) as client:
        with pytest.raises(DmpTimeoutError, match=r"deadline of 1\.5 s"):
            await client.call("echo", echo_body(kind), action=ECHO_ACTION, td="T", assertion=None, idempotent=True)


def test_a_per_call_deadline_overrides_the_configured_one(echo_config: DmpConfig) -> None:
    with DmpClient(_config(echo_config)) as client, pytest.raises(DmpTimeoutError, match=r"deadline of 0\.5 s"):
        client.call(
            "echo", echo_body("Trickle"), action=ECHO_ACTION, td="T", assertion=None, idempotent=True, deadline=0.5
        )


def test_retries_stop_when_the_deadline_is_spent(echo_config: DmpConfig) -> None:
    config = _config(echo_config, max_attempts=10, backoff_initial=0.4, backoff_max=0.4)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with DmpClient(config, sleep=sleep) as client, pytest.raises(DmpTimeoutError, match=r"deadline of 1\.5 s"):
        client.call("echo", echo_body("Stall"), action=ECHO_ACTION, td="T", assertion=None, idempotent=True)
    assert not slept  # the first attempt used the whole budget: no retry was started past it


def _raw_config(pki: TestPki, server: _RawTlsServer) -> DmpConfig:
    config = DmpConfig.for_test_pki(pki, server.url, timeouts={"connect": 5, "read": 5, "write": 5})
    return config.model_copy(update={"timeouts": config.timeouts.model_copy(update={"total": DEADLINE})})


def _body(server: _RawTlsServer) -> etree._Element:
    """A small request for the trickled headers; 64 MB for the deaf server (more than the socket buffers hold)."""
    return echo_body("Echo", padding="x" * (64 * 2**20 if server.behaviour == "deaf" else 10))


def test_sync_deadline_holds_while_headers_trickle_or_the_upload_blocks(
    pki: TestPki, raw_server: _RawTlsServer
) -> None:
    """Each socket operation is capped to the time left: before the response headers too, and while sending."""
    with DmpClient(_raw_config(pki, raw_server)) as client, pytest.raises(DmpTimeoutError, match=r"deadline of 1\.5 s"):
        client.call("echo", _body(raw_server), action=ECHO_ACTION, td="T", assertion=None, idempotent=True)
    assert not raw_server.gave_up.is_set()


async def test_async_deadline_holds_while_headers_trickle_or_the_upload_blocks(
    pki: TestPki, raw_server: _RawTlsServer
) -> None:
    async with AsyncDmpClient(_raw_config(pki, raw_server)) as client:
        with pytest.raises(DmpTimeoutError, match=r"deadline of 1\.5 s"):
            await client.call("echo", _body(raw_server), action=ECHO_ACTION, td="T", assertion=None, idempotent=True)
    assert not raw_server.gave_up.is_set()
