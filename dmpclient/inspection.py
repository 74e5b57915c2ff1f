"""Decode any captured DMP message — request or response, plain XML or raw HTTP with MTOM — into a plain view.

What ``dmp inspect`` shows, as data: the framing (HTTP start line, MIME parts), the SOAP headers, the VIHF
attributes, the transaction (found in the catalogue: nothing here knows a TD), what its request parser
(``spec.read_request``) or its answer decoder (``spec.decode``) reads, and the typed error an answer
carries (SOAP fault, registry failure, HL7 acknowledgement). A transaction added to the catalogue is
inspected without any change here.

The input is untrusted: XML goes through the hardened parser; a file that is not UTF-8 and declares no
encoding is read as Latin-1 with a warning; what cannot be read gets a message saying what was expected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient._xml import parse_untrusted
from dmpclient.errors import DmpError, DmpProtocolError, DmpRegistryError, DmpSoapFault, DmpUnsafeXmlError
from dmpclient.security.vihf import read_assertion
from dmpclient.soap import mtom
from dmpclient.soap.envelope import SoapMessage, parse_envelope
from dmpclient.soap.faults import fault_from_message
from dmpclient.soap.response import Response
from dmpclient.transactions.catalog import SPECS
from dmpclient.transactions.spec import TransactionSpec

__all__ = ["Inspection", "inspect_file", "inspect_message", "to_jsonable"]

_HTTP_START: Final = re.compile(rb"^(?:HTTP/\d(?:\.\d)? \d{3}[^\r\n]*|[A-Z]+ \S+ HTTP/\d(?:\.\d)?)\r?$", re.MULTILINE)
_BLANK_LINE: Final = re.compile(rb"(?:^|\n)\r?\n")
_DECLARED_ENCODING: Final = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=", re.IGNORECASE)
_MAX_INPUT: Final = 1 << 30
_BOMS: Final = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


class Inspection(BaseModel):
    """A decoded message.

    Attributes:
        kind: ``request``, ``response`` or ``fault``.
        framing: ``xml``, ``http`` (with its ``http`` start line and headers), ``mime`` (bare multipart).
        transaction: the TD, its title and service, when the catalogue knows the message.
        candidates: every TD the message could be (an answer shared by TD0.2 and TD1.3a…).
        headers: the WS-Addressing headers and the SOAP version.
        vihf: the assertion's header fields and attributes (requests).
        request: what the transaction's request parser reads.
        result: what the transaction's answer decoder reads.
        error: the error an answer carries (fault, registry failure, business status), or why it could not
            be decoded.
        attachments: the MTOM parts (Content-ID, type, size, SHA-1).
        warnings: deviations tolerated while reading.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    framing: str
    http: dict[str, Any] | None = None
    transaction: dict[str, str] | None = None
    candidates: tuple[str, ...] = ()
    body_element: str | None = None
    headers: dict[str, str | None] = {}
    vihf: dict[str, Any] | None = None
    request: Any = None
    result: Any = None
    error: dict[str, Any] | None = None
    attachments: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()


def _digest(value: bytes) -> dict[str, Any]:
    return {"size": len(value), "sha1": hashlib.sha1(value, usedforsecurity=False).hexdigest()}


#: Leaf types and how they are written (bytes: never the content, its size and SHA-1).
_LEAVES: Final[tuple[tuple[type | tuple[type, ...], Callable[[Any], Any]], ...]] = (
    (enum.Enum, lambda value: value.value),
    ((dt.datetime, dt.date), lambda value: value.isoformat()),
    (bytes, _digest),
    (Path, str),
    (etree._Element, lambda value: etree.tostring(value, encoding="unicode")),
)


def to_jsonable(value: Any) -> Any:
    """Plain JSON data of any decoded value: models, dataclasses, enums, times, bytes (as size + SHA-1)."""
    if isinstance(value, BaseModel):
        return {name: to_jsonable(getattr(value, name)) for name in type(value).model_fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    for kind, write in _LEAVES:
        if isinstance(value, kind):
            return write(value)
    return value


# --- framing ------------------------------------------------------------------------------------


class _Framed:
    """The SOAP root part, the MTOM parts and what the framing said."""

    def __init__(self) -> None:
        self.xml = b""
        self.framing = "xml"
        self.http: dict[str, Any] | None = None
        self.attachments: mtom.MtomDecoded | None = None
        self.warnings: list[str] = []


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers[name.strip().lower()] = value.strip()
    return headers


def _dechunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, _, rest = rest.partition(b"\n")
        try:
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
        except ValueError:
            raise DmpProtocolError("the chunked HTTP body is malformed (a chunk size is not hexadecimal)") from None
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size:].lstrip(b"\r\n")
    return bytes(out)


def _frame(data: bytes) -> _Framed:
    framed = _Framed()
    stripped = data.lstrip()
    if stripped.startswith((b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        framed.xml = data
        return framed
    start = _HTTP_START.search(data, 0, 4096)
    if start is not None:
        _http(framed, data, start)
        return framed
    if stripped.startswith(b"--"):
        boundary = stripped[2:].split(b"\n", 1)[0].strip().decode("ascii", "replace")
        framed.framing = "mime"
        _mime(framed, f'multipart/related; boundary="{boundary}"', stripped)
        return framed
    raise DmpProtocolError(
        "not a DMP message: expected XML (a SOAP envelope), a raw HTTP capture (start line, headers, body) or a "
        "MIME multipart body; documentation listings with line numbers must be cleaned first"
    )


def _http(framed: _Framed, data: bytes, start: re.Match[bytes]) -> None:
    framed.framing = "http"
    if start.start() > 0:
        framed.warnings.append(f"ignored {start.start()} bytes before the HTTP start line (a log line?)")
    rest = data[start.end() :]
    rest = rest[2:] if rest.startswith(b"\r\n") else rest[1:] if rest.startswith(b"\n") else rest
    blank = _BLANK_LINE.search(rest)
    head, body = (rest[: blank.start()], rest[blank.end() :]) if blank else (rest, b"")
    headers = _headers(head)
    framed.http = {"start_line": start.group(0).decode("latin-1").strip(), "headers": headers}
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    content_type = headers.get("content-type", "")
    if mtom.is_multipart(content_type):
        _mime(framed, content_type, body)
    else:
        framed.xml = body


def _mime(framed: _Framed, content_type: str, body: bytes) -> None:
    decoded = mtom.decode(content_type, body)
    framed.warnings.extend(decoded.warnings)
    framed.xml = decoded.root_xml
    framed.attachments = decoded


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse(xml: bytes, warnings: list[str]) -> etree._Element:
    """The document, read as its declaration (or BOM) says, else as UTF-8; a file that is not UTF-8 and declares
    nothing is read as Latin-1, with a warning."""
    if not xml.startswith(_BOMS) and not _DECLARED_ENCODING.match(xml) and not _utf8(xml):
        warnings.append("the XML is not UTF-8 and declares no encoding: read as Latin-1 (ISO-8859-1)")
        xml = xml.decode("latin-1").encode("utf-8")
    try:
        return parse_untrusted(xml, max_bytes=_MAX_INPUT)
    except DmpUnsafeXmlError as exc:
        if "encoding" not in exc.message:
            raise
        raise DmpUnsafeXmlError(
            f"{exc.message} — the bytes do not match the encoding the document declares (a Latin-1 file declared "
            "as UTF-8?); fix the declaration or re-encode the file"
        ) from None


# --- transaction --------------------------------------------------------------------------------


def _hl7_reason(body: etree._Element) -> str | None:
    found = body.find("{urn:hl7-org:v3}controlActProcess/{urn:hl7-org:v3}reasonCode")
    return found.get("code") if found is not None else None


def _as_request(message: SoapMessage) -> list[TransactionSpec[Any]]:
    body = message.body
    if body is None:
        return []
    roots = [spec for spec in SPECS if spec.request_root == body.tag]
    reason = _hl7_reason(body)
    exact = [spec for spec in roots if spec.reason_code is not None and spec.reason_code == reason]
    return exact or [spec for spec in roots if spec.reason_code is None] or roots


def _as_response(message: SoapMessage) -> list[TransactionSpec[Any]]:
    by_action = [spec for spec in SPECS if message.action and spec.response_action == message.action]
    if by_action:
        return by_action
    return [spec for spec in SPECS if _decodes(spec, message)]


def _decodes(spec: TransactionSpec[Any], message: SoapMessage) -> bool:
    """Whether ``spec``'s decoder recognises the answer (a business error still means it is this TD)."""
    try:
        spec.decode(Response(message, None, 200))
    except (DmpRegistryError, DmpSoapFault):
        return True
    except DmpError as exc:
        return not isinstance(exc, DmpProtocolError) or "MTOM" in exc.message
    except Exception:  # a decoder bug on a foreign body only means "not this transaction"
        return False
    return True


def _error(exc: DmpError) -> dict[str, Any]:
    found: dict[str, Any] = {"type": type(exc).__name__, "message": exc.message}
    for name in ("code", "subcode", "reason", "context", "status_code"):
        value = getattr(exc, name, None)
        if value is not None:
            found[name] = value
    errors = getattr(exc, "errors", None)
    if errors:
        found["errors"] = to_jsonable(errors)
    return found


def _vihf(message: SoapMessage) -> dict[str, Any] | None:
    try:
        assertion = message.assertion
    except DmpProtocolError:
        return {"error": "several SAML assertions in wsse:Security"}
    if assertion is None:
        return None
    read: dict[str, Any] = to_jsonable(read_assertion(assertion))
    return read


def _attachments(decoded: mtom.MtomDecoded | None) -> tuple[dict[str, Any], ...]:
    if decoded is None:
        return ()
    described = []
    for content_id, attachment in decoded.attachments.items():
        with attachment.open() as stream:
            sha1 = hashlib.sha1(usedforsecurity=False)
            while block := stream.read(1 << 20):
                sha1.update(block)
        described.append(
            {
                "content_id": content_id,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha1": sha1.hexdigest(),
            }
        )
    return tuple(described)


def inspect_message(data: bytes) -> Inspection:
    """Decode one captured message (see the module docstring).

    Raises:
        DmpProtocolError: not XML, HTTP or MIME; not a SOAP envelope; broken MIME framing.
        DmpUnsafeXmlError: the XML is malformed or declares a DTD.
    """
    framed = _frame(data)
    try:
        return _inspect(framed)
    finally:
        if framed.attachments is not None:
            framed.attachments.close()


def _inspect(framed: _Framed) -> Inspection:
    warnings = framed.warnings
    root = _parse(framed.xml, warnings)
    if etree.QName(root).localname == "Envelope":
        message = parse_envelope(root, allow_soap11=True)
        warnings.extend(message.warnings)
    else:
        message = SoapMessage(envelope=root, body=root)
        warnings.append("no SOAP envelope: the document was read as a bare message body")
    body = message.body
    common: dict[str, Any] = {
        "framing": framed.framing,
        "http": framed.http,
        "body_element": etree.QName(body).text if body is not None else None,
        "headers": {
            "soap_version": message.soap_version,
            "action": message.action,
            "message_id": message.message_id,
            "relates_to": message.relates_to,
            "to": message.to,
        },
        "attachments": _attachments(framed.attachments),
    }
    fault = fault_from_message(message)
    if fault is not None:
        return Inspection(kind="fault", error=_error(fault), warnings=tuple(warnings), **common)
    requests = _as_request(message)
    if requests:
        spec = requests[0]
        parsed: Any = None
        error = None
        read_request = spec.read_request
        if read_request is not None and body is not None:
            parsed, error = _decoded(spec, lambda: read_request(body))
        return Inspection(
            kind="request",
            transaction=_describe(spec),
            candidates=tuple(s.td for s in requests),
            vihf=_vihf(message),
            request=parsed,
            error=error,
            warnings=tuple(warnings),
            **common,
        )
    responses = _as_response(message)
    result, error = None, None
    if responses:
        spec = responses[0]
        result, error = _decoded(spec, lambda: spec.decode(Response(message, framed.attachments, 200)))
    else:
        warnings.append("no transaction of the catalogue recognises this message")
    return Inspection(
        kind="response",
        transaction=_describe(responses[0]) if responses else None,
        candidates=tuple(s.td for s in responses),
        result=result,
        error=error,
        warnings=tuple(warnings),
        **common,
    )


def _decoded(spec: TransactionSpec[Any], read: Callable[[], Any]) -> tuple[Any, dict[str, Any] | None]:
    """What a request parser or answer decoder reads, else its typed error; a decoder crash on hostile input
    is reported as an unreadable message (as the clients do), never as a traceback."""
    try:
        return to_jsonable(read()), None
    except DmpError as exc:
        return None, _error(exc)
    except Exception as exc:  # a decoder bug on a hostile message is reported, not raised
        unreadable = DmpProtocolError(f"{spec.td}: the message could not be read ({type(exc).__name__})", td=spec.td)
        return None, _error(unreadable)


def _describe(spec: TransactionSpec[Any]) -> dict[str, str]:
    return {"td": spec.td, "title": spec.title, "service": spec.service.value}


def inspect_file(path: Path) -> Inspection:
    """:func:`inspect_message` of a file's bytes.

    Raises:
        OSError: the file cannot be read.
        DmpProtocolError, DmpUnsafeXmlError: see :func:`inspect_message`.
    """
    return inspect_message(path.read_bytes())
