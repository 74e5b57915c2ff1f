"""Response reading, sans I/O: bytes received for one call → SOAP message + attachments, or an exception.

A transport feeds what it receives into a :class:`ResponseReader` (``start`` with the HTTP status and
Content-Type, then ``feed`` chunk after chunk); :func:`read_response` then interprets it: MTOM parts are
resolved, a SOAP fault becomes its exception, an HTTP error status without SOAP becomes
:class:`~dmpclient.errors.DmpHttpError`, an answer relating to another request is refused.

Ownership of attachments: the :class:`Response` owns the decoded MTOM parts (small ones in memory, large
ones spooled to temporary files). Whoever holds the response closes it (``with response:``), which deletes
the spooled files; a decoder that keeps a part beyond that (TD3.2 streaming a document to a path) must move
it out first (:meth:`~dmpclient.soap._mime.Attachment.save_to`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Self

from dmpclient._xml import DEFAULT_BUDGET, XmlBudget
from dmpclient.errors import DmpError, DmpHttpError, DmpProtocolError
from dmpclient.soap import mtom
from dmpclient.soap.envelope import SoapMessage, read_soap
from dmpclient.soap.faults import raise_for_fault
from dmpclient.soap.request import PreparedRequest

__all__ = ["MAX_MTOM_RESPONSE_BYTES", "RawResponse", "Response", "ResponseReader", "read_response"]

#: Bound on a whole MTOM answer (attachments are spooled to disk; this bounds the disk use too).
MAX_MTOM_RESPONSE_BYTES: Final = 1 << 30
_STATUS_HINTS: Final = {
    401: "the server did not accept the caller: check the certificate registration for this environment",
    403: "the server refused the caller: check the certificate registration for this environment",
    404: "check base_url / environment and the service name",
    413: "the request is larger than the server accepts",
    502: "a gateway in front of the DMP failed; retry later",
    503: "the service is unavailable; retry later",
    504: "a gateway in front of the DMP timed out; retry later",
}


@dataclass(slots=True)
class Response:
    """The answer to one call: the SOAP message (never a fault: faults are raised) and its attachments.

    Attributes:
        message: the SOAP response.
        attachments: the decoded MTOM parts when the DMP answered in MTOM (ITI-43, ITI-41), else ``None``.
        status_code: the HTTP status.
    """

    message: SoapMessage
    attachments: mtom.MtomDecoded | None
    status_code: int

    def close(self) -> None:
        """Release the attachments (spooled temporary files are deleted)."""
        if self.attachments is not None:
            self.attachments.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What a transport received, before interpretation: status, Content-Type, root XML, MTOM parts."""

    status_code: int
    content_type: str
    xml: bytes
    attachments: mtom.MtomDecoded | None


class ResponseReader:
    """Accumulates an answer as it arrives: MTOM through the streaming decoder (parts spooled), plain XML
    bounded by ``max_bytes``.

    Args:
        max_bytes: the largest plain SOAP answer (or MTOM root part) accepted.
        max_mtom_bytes: the largest whole MTOM answer accepted.
    """

    def __init__(self, max_bytes: int, *, max_mtom_bytes: int = MAX_MTOM_RESPONSE_BYTES) -> None:
        self._max = max_bytes
        self._max_mtom = max_mtom_bytes
        self._status = 0
        self._content_type = ""
        self._decoder: mtom.MtomDecoder | None = None
        self._buffer = bytearray()
        self._started = False

    def start(self, status_code: int, content_type: str) -> None:
        """The status line and Content-Type arrived; the body follows."""
        self._status, self._content_type, self._started = status_code, content_type, True
        if mtom.is_multipart(content_type):
            self._decoder = mtom.MtomDecoder(content_type, max_root_bytes=self._max, max_total_bytes=self._max_mtom)

    def feed(self, chunk: bytes) -> None:
        """One more piece of the body.

        Raises:
            DmpProtocolError: the answer exceeds its size bound, or its MIME framing is broken.
        """
        if self._decoder is not None:
            self._decoder.feed(chunk)
            return
        self._buffer += chunk
        if len(self._buffer) > self._max:
            raise DmpProtocolError(
                f"the response exceeds max_response_bytes ({self._max} bytes); raise it in the configuration "
                "only if such answers are expected"
            )

    def finish(self) -> RawResponse:
        """The complete answer (the reader is then spent)."""
        if not self._started:
            raise DmpProtocolError("no response was received")
        if self._decoder is None:
            xml, self._buffer = bytes(self._buffer), bytearray()
            return RawResponse(self._status, self._content_type, xml, None)
        decoded = self._decoder.close()
        self._decoder = None
        return RawResponse(self._status, self._content_type, decoded.root_xml, decoded)

    def abort(self) -> None:
        """Drop a partly received answer (deletes spooled parts)."""
        if self._decoder is not None:
            self._decoder.abort()
            self._decoder = None
        self._buffer = bytearray()


def read_response(
    request: PreparedRequest, raw: RawResponse, *, max_bytes: int, budget: XmlBudget = DEFAULT_BUDGET
) -> Response:
    """Interpret an answer to ``request``: SOAP message → :class:`Response`; fault → its exception.

    Raises:
        DmpSoapFault: the answer is a SOAP fault (:class:`~dmpclient.errors.DmpRightsError` for rights refusals).
        DmpHttpError: an error status without a SOAP envelope, or with one that is not a fault.
        DmpProtocolError: the answer is unreadable, or relates to another request.
    """
    try:
        try:
            message = read_soap(raw.xml, max_bytes=max_bytes, budget=budget)
        except DmpProtocolError:
            if 200 <= raw.status_code < 300:
                raise
            raise http_error(request, raw.status_code, raw.content_type) from None
        raise_for_fault(message, td=request.td)
        if message.relates_to and message.relates_to != request.message_id:
            raise DmpProtocolError(
                f"the answer relates to another request (wsa:RelatesTo {message.relates_to}); a proxy or the "
                "platform mixed up two exchanges"
            )
        if not 200 <= raw.status_code < 300:
            raise http_error(request, raw.status_code, raw.content_type, "with a SOAP envelope that is not a fault")
        return Response(message, raw.attachments, raw.status_code)
    except DmpError as exc:
        if raw.attachments is not None:
            raw.attachments.close()
        raise exc.with_context(td=request.td, message_id=request.message_id) from None


def http_error(
    request: PreparedRequest, status: int, content_type: str, what: str = "without a SOAP envelope"
) -> DmpHttpError:
    """The error for an HTTP status that carries no usable SOAP answer, with what to check."""
    hint = _STATUS_HINTS.get(status, "the answer is not a usable SOAP message")
    return DmpHttpError(
        f"HTTP {status} from the {request.service} service {what} (content-type {content_type or 'none'}): {hint}",
        status_code=status,
        td=request.td,
        message_id=request.message_id,
    )
