"""Request preparation, sans I/O: one DMP call as bytes and headers, ready for any transport.

:func:`prepare_request` builds the SOAP 1.2 envelope (WS-Addressing headers, the signed VIHF grafted
byte for byte into ``wsse:Security``), frames it as MTOM when the call carries attachments (reference
§1.5) and computes the HTTP headers. The result is immutable and can be sent again as is (a retry
re-prepares it only to graft a fresh VIHF under the same MessageID).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from lxml import etree

from dmpclient.soap import mtom
from dmpclient.soap.envelope import MustUnderstandStyle, build_request

__all__ = ["SOAP_CONTENT_TYPE", "PreparedRequest", "prepare_request"]

#: Content-Type of a plain SOAP 1.2 request; the action parameter repeats ``wsa:Action`` (reference §3.0).
SOAP_CONTENT_TYPE: Final = 'application/soap+xml; charset=UTF-8; action="{action}"'


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """One request, ready to send.

    Attributes:
        url: the service endpoint.
        service: the service path suffix (``patients``, ``registry``…), for logs and errors.
        td: the transaction number, for logs and errors.
        action: the ``wsa:Action``.
        message_id: the WS-Addressing MessageID (``urn:uuid:…``); answers must relate to it.
        envelope: the SOAP envelope bytes (the MTOM root part when ``mtom`` is set).
        headers: the HTTP headers of the request (Content-Type, Content-Length for MTOM, extras).
        idempotent: whether the retry policy may send it again.
        mtom: the MTOM framing when the call has attachments (re-iterable: files are reopened).
    """

    url: str
    service: str
    td: str
    action: str
    message_id: str
    envelope: bytes = field(repr=False)  # the signed VIHF and the patient's INS: never in a traceback
    headers: Mapping[str, str] = field(repr=False)  # may carry a PSC Bearer token
    idempotent: bool
    mtom: mtom.MtomMessage | None = field(default=None, repr=False)

    def content(self) -> bytes:
        """The whole body in memory (plain SOAP, or small MTOM bodies: tests, the in-process transport)."""
        return self.envelope if self.mtom is None else self.mtom.to_bytes()

    def iter_content(self, chunk_size: int = 65536) -> Iterator[bytes]:
        """The body in chunks, streaming MTOM file parts from disk."""
        if self.mtom is None:
            yield self.envelope
        else:
            yield from self.mtom.iter_bytes(chunk_size)


def prepare_request(
    *,
    url: str,
    service: str,
    td: str,
    action: str,
    body: etree._Element,
    message_id: str,
    assertion: bytes | None,
    idempotent: bool,
    attachments: Sequence[mtom.OutgoingPart] = (),
    to_endpoint: bool = False,
    must_understand: MustUnderstandStyle = MustUnderstandStyle.UNPREFIXED,
    extra_headers: Mapping[str, str] | None = None,
) -> PreparedRequest:
    """Envelope, VIHF grafting, MTOM framing and headers of one call.

    Args:
        url: the service endpoint (also ``wsa:To`` when ``to_endpoint``; empty ``wsa:To`` otherwise, as the
            official examples).
        assertion: the signed VIHF bytes, grafted verbatim; ``None`` sends no ``wsse:Security``.
        attachments: MTOM parts (ITI-41); the request is then ``multipart/related``.
        extra_headers: more HTTP headers (e.g. ``Authorization`` in PSC mode); they cannot replace
            Content-Type or Content-Length.

    Raises:
        DmpValidationError: an invalid action, Content-ID or attachment.
    """
    envelope = build_request(
        body,
        action=action,
        message_id=message_id,
        to=url if to_endpoint else "",
        assertion=assertion,
        must_understand=must_understand,
    )
    headers = {
        name: value
        for name, value in (extra_headers or {}).items()
        if name.lower() not in ("content-type", "content-length")
    }
    framed = None
    if attachments:
        framed = mtom.encode(envelope, attachments, action=action)
        headers["Content-Type"] = framed.content_type
        headers["Content-Length"] = str(framed.content_length())
    else:
        headers["Content-Type"] = SOAP_CONTENT_TYPE.format(action=action)
    return PreparedRequest(
        url=url,
        service=service,
        td=td,
        action=action,
        message_id=message_id,
        envelope=envelope,
        headers=MappingProxyType(headers),
        idempotent=idempotent,
        mtom=framed,
    )
