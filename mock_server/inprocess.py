"""Transports that hand dmpclient's requests straight to a :class:`~mock_server.app.MockDmp`, in process.

They implement dmpclient's transport seam (:class:`dmpclient.transport.Transport` / ``AsyncTransport``)
without sockets or TLS, so the same client code runs against the mock in unit-speed tests; the mutual-TLS
identity the gate checks is the certificate given here. Real-network tests use the mock over mTLS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cryptography import x509

from dmpclient._deadline import Deadline
from dmpclient.soap.request import PreparedRequest
from dmpclient.soap.response import ResponseReader
from mock_server.app import MockDmp

__all__ = ["AsyncInProcessTransport", "InProcessTransport"]


class InProcessTransport:
    """Synchronous in-process transport.

    Args:
        app: the mock to call.
        client_certificate: the TLS client certificate the mock should see (the ORG AUTH_CLI certificate).
    """

    def __init__(self, app: MockDmp, client_certificate: x509.Certificate | None) -> None:
        self._app = app
        self._certificate = client_certificate

    def exchange(self, request: PreparedRequest, reader: ResponseReader, deadline: Deadline) -> None:
        service = urlsplit(request.url).path.rstrip("/").rsplit("/", 1)[-1]
        status, content_type, chunks = self._app.process_bytes(
            service,
            request.headers.get("Content-Type", ""),
            request.content(),
            self._certificate,
            request.headers.get("Authorization"),
        )
        reader.start(status, content_type)
        for chunk in chunks:
            reader.feed(chunk)
            deadline.check("reading the response")

    def close(self) -> None:
        """Nothing to release."""


class AsyncInProcessTransport:
    """Asynchronous twin of :class:`InProcessTransport` (the mock's work runs inline)."""

    def __init__(self, app: MockDmp, client_certificate: x509.Certificate | None) -> None:
        self._sync = InProcessTransport(app, client_certificate)

    async def exchange(self, request: PreparedRequest, reader: ResponseReader, deadline: Deadline) -> None:
        self._sync.exchange(request, reader, deadline)

    async def aclose(self) -> None:
        """Nothing to release."""
