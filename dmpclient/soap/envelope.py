"""SOAP 1.2 envelopes with WS-Addressing and WS-Security headers, built and read without I/O.

Every DMP service speaks SOAP 1.2 with ``wsa:*`` headers and a ``wsse:Security`` header holding the
signed VIHF (reference §1.3). The client builds requests and reads responses here; the mock server does
the reverse with the same functions.

Output: UTF-8 **without** an XML declaration. The DMP accepts both; without one the bytes can be used
as-is as the root part of an MTOM message. The envelope never declares a default namespace, so grafted
bytes that use unprefixed names keep their meaning.

The signed VIHF is grafted byte-for-byte (reference §1.3.2): the envelope is serialised with an empty
``wsse:Security`` placeholder and the assertion bytes are spliced in, so the signed subtree is never
re-serialised. Its ``ds:Signature`` must use exclusive canonicalisation (as every VIHF does), which
ignores the namespaces the envelope puts in scope. The body is spliced the same way, so the caller's
element is neither moved nor copied.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from lxml import etree

from dmpclient._xml import DEFAULT_BUDGET, NS, XmlBudget, parse_untrusted, serialize
from dmpclient.errors import DmpProtocolError, DmpValidationError

__all__ = [
    "ANONYMOUS",
    "MustUnderstandStyle",
    "SoapMessage",
    "build_request",
    "build_response",
    "new_message_id",
    "parse_envelope",
    "read_soap",
]

#: WS-Addressing anonymous endpoint: "reply on the HTTP response".
ANONYMOUS: Final = "http://www.w3.org/2005/08/addressing/anonymous"

_SOAP12: Final = NS["soap"]
_SOAP11: Final = NS["soap11"]
_WSA: Final = NS["wsa"]
_WSSE: Final = NS["wsse"]
_VERSIONS: Final = {_SOAP12: "1.2", _SOAP11: "1.1"}
_WSA_FIELDS: Final = {
    f"{{{_WSA}}}Action": "action",
    f"{{{_WSA}}}MessageID": "message_id",
    f"{{{_WSA}}}RelatesTo": "relates_to",
    f"{{{_WSA}}}To": "to",
}
_SECURITY: Final = f"{{{_WSSE}}}Security"
_ASSERTION: Final = f"{{{NS['saml2']}}}Assertion"
_MUST_UNDERSTAND: Final = f"{{{_SOAP12}}}mustUnderstand"
#: Placeholders as lxml serialises them with the prefixes of :func:`_skeleton`.
_SECURITY_SLOT: Final = b"<wsse:Security/>"
_BODY_SLOT: Final = b"<soap:Body/>"
_XML_WHITESPACE: Final = " \t\r\n"
_XML_DECLARATION: Final = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml\s[^>]*?\?>)?\s*")
_DECLARED_ENCODING: Final = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class MustUnderstandStyle(StrEnum):
    """How ``mustUnderstand`` is written on ``wsa:ReplyTo`` and ``wsa:Action`` (reference §1.3.1).

    ``UNPREFIXED`` reproduces the official DMP examples (an attribute in no namespace). It is what the
    DMP documents, but ``wsa/ws-addr.xsd`` only allows attributes of *other namespaces* there, so such
    headers do not validate. ``SOAP`` is the SOAP 1.2 form, ``soap:mustUnderstand="true"``.
    """

    UNPREFIXED = "unprefixed"
    SOAP = "soap"


def new_message_id() -> str:
    """A fresh WS-Addressing MessageID, ``urn:uuid:`` + a random UUID (reference §1.3.1)."""
    return f"urn:uuid:{uuid.uuid4()}"


def build_request(
    body: etree._Element,
    *,
    action: str,
    message_id: str,
    to: str = "",
    assertion: bytes | None = None,
    must_understand: MustUnderstandStyle = MustUnderstandStyle.UNPREFIXED,
    reply_to: bool = True,
) -> bytes:
    """Build a DMP request envelope (reference §1.3): MessageID, To, ReplyTo, Action, wsse:Security.

    Args:
        body: the body root element; serialised, not moved.
        action: the ``wsa:Action`` of the TD (reference §3.0).
        message_id: the ``wsa:MessageID`` (see :func:`new_message_id`).
        to: the endpoint URL, or empty as in the official examples.
        assertion: the signed VIHF, grafted byte-for-byte; ``None`` sends no ``wsse:Security`` header.
        must_understand: how ``mustUnderstand`` is written on ReplyTo and Action.
        reply_to: send ``wsa:ReplyTo`` (anonymous), as the official examples do.

    Raises:
        DmpValidationError: a header value is not XML text, or the assertion is not an element.
    """
    envelope, header = _skeleton(with_security=assertion is not None)
    _header(header, "MessageID", message_id, "message_id")
    _header(header, "To", to, "to")
    if reply_to:
        reply = _header(header, "ReplyTo", None, "reply_to")
        _header(reply, "Address", ANONYMOUS, "reply_to")
        _mark_must_understand(reply, must_understand)
    _mark_must_understand(_header(header, "Action", action, "action"), must_understand)
    slots = [(_BODY_SLOT, serialize(body))]
    if assertion is not None:
        etree.SubElement(header, _SECURITY)
        slots.insert(0, (_SECURITY_SLOT, _bare_element(assertion)))
    return _fill(serialize(envelope), slots)


def build_response(body: etree._Element, *, action: str, relates_to: str | None, message_id: str | None) -> bytes:
    """Build a response envelope as the DMP sends it: Action, MessageID, To (anonymous), RelatesTo — without
    ``mustUnderstand`` (the official answers mark no response header).

    Args:
        body: the body root element (a result or a ``soap:Fault``); serialised, not moved.
        action: the response ``wsa:Action`` (request action + ``Response``, or the fault action).
        relates_to: the request's MessageID, when known.
        message_id: this response's MessageID; ``None`` omits it (some custom-service examples do).
    """
    envelope, header = _skeleton(with_security=False)
    _header(header, "Action", action, "action")
    if message_id is not None:
        _header(header, "MessageID", message_id, "message_id")
    _header(header, "To", ANONYMOUS, "to")
    if relates_to is not None:
        _header(header, "RelatesTo", relates_to, "relates_to")
    return _fill(serialize(envelope), [(_BODY_SLOT, serialize(body))])


@dataclass(frozen=True, slots=True)
class SoapMessage:
    """A parsed SOAP envelope: the WS-Addressing values, the security header and the body.

    ``warnings`` lists what was accepted although not strictly as the DMP sends it (SOAP 1.1,
    duplicate headers, several body elements), for logs and for the mock's diagnostics.
    """

    envelope: etree._Element
    body: etree._Element | None
    action: str | None = None
    message_id: str | None = None
    relates_to: str | None = None
    to: str | None = None
    security: etree._Element | None = None
    soap_version: str = "1.2"
    warnings: tuple[str, ...] = ()

    @property
    def assertion(self) -> etree._Element | None:
        """The ``saml2:Assertion`` of the ``wsse:Security`` header (the VIHF), or ``None``.

        Raises:
            DmpProtocolError: the header holds several assertions (the DMP expects exactly one).
        """
        if self.security is None:
            return None
        found = self.security.findall(_ASSERTION)
        if len(found) > 1:
            raise DmpProtocolError(
                f"wsse:Security holds {len(found)} SAML assertions; exactly one VIHF is expected",
                message_id=self.message_id,
            )
        return found[0] if found else None


def parse_envelope(root: etree._Element, *, allow_soap11: bool = False) -> SoapMessage:
    """Read a SOAP envelope already parsed by :func:`dmpclient._xml.parse_untrusted`.

    Liberal in what it accepts (reference §1.3.1): both ``mustUnderstand`` forms, WS-A headers with
    any prefix or as the default namespace, headers in any order. Faults are returned like any body
    (see :mod:`dmpclient.soap.faults`).

    Args:
        root: the document element.
        allow_soap11: accept a SOAP 1.1 envelope (tolerated for ``repository``), with a warning.

    Raises:
        DmpProtocolError: not a SOAP envelope, SOAP 1.1 when not allowed, or no ``Body``.
    """
    name = etree.QName(root)
    namespace = name.namespace or ""
    version = _VERSIONS.get(namespace) if name.localname == "Envelope" else None
    if version is None:
        raise DmpProtocolError(
            f"expected a SOAP 1.2 envelope but the document element is {_short(str(root.tag))}; "
            "the peer may have answered with an error page or a non-SOAP document"
        )
    warnings: list[str] = []
    if version == "1.1":
        if not allow_soap11:
            raise DmpProtocolError("received a SOAP 1.1 envelope; the DMP exchanges SOAP 1.2 messages")
        warnings.append("SOAP 1.1 envelope accepted; the DMP uses SOAP 1.2")
    body_el = root.find(f"{{{namespace}}}Body")
    if body_el is None:
        raise DmpProtocolError(f"the SOAP {version} envelope has no Body element")
    header_el = root.find(f"{{{namespace}}}Header")
    headers, security = _read_headers(header_el, warnings) if header_el is not None else ({}, None)
    return SoapMessage(
        envelope=root,
        body=_first_body_element(body_el, warnings),
        action=headers.get("action"),
        message_id=headers.get("message_id"),
        relates_to=headers.get("relates_to"),
        to=headers.get("to"),
        security=security,
        soap_version=version,
        warnings=tuple(warnings),
    )


def read_soap(
    xml: bytes, *, allow_soap11: bool = False, max_bytes: int | None = None, budget: XmlBudget = DEFAULT_BUDGET
) -> SoapMessage:
    """Parse received bytes with the hardened parser (at most ``max_bytes``, default ``budget.max_bytes``, and
    within ``budget``), then read the envelope.

    Raises:
        DmpUnsafeXmlError: the XML is malformed, too large, over budget, declares a DTD or holds a processing
            instruction (SOAP 1.2 part 1 §5).
        DmpProtocolError: see :func:`parse_envelope`.
    """
    root = parse_untrusted(xml, max_bytes=max_bytes, budget=budget, strict=True)
    return parse_envelope(root, allow_soap11=allow_soap11)


# --- building -----------------------------------------------------------------------------------


def _skeleton(*, with_security: bool) -> tuple[etree._Element, etree._Element]:
    """An Envelope with an empty Header and an empty Body placeholder; no default namespace."""
    nsmap = {"soap": _SOAP12, "wsa": _WSA}
    if with_security:
        nsmap["wsse"] = _WSSE
    envelope = etree.Element(f"{{{_SOAP12}}}Envelope", nsmap=nsmap)
    header = etree.SubElement(envelope, f"{{{_SOAP12}}}Header")
    etree.SubElement(envelope, f"{{{_SOAP12}}}Body")
    return envelope, header


def _header(parent: etree._Element, local: str, text: str | None, field: str) -> etree._Element:
    """Append ``wsa:{local}`` with ``text``; a value that XML cannot carry is a validation error."""
    element = etree.SubElement(parent, f"{{{_WSA}}}{local}")
    try:
        element.text = text
    except ValueError:
        raise DmpValidationError(f"{field} contains characters that XML cannot carry", field=field) from None
    return element


def _mark_must_understand(element: etree._Element, style: MustUnderstandStyle) -> None:
    element.set("mustUnderstand" if style is MustUnderstandStyle.UNPREFIXED else _MUST_UNDERSTAND, "true")


def _bare_element(assertion: bytes) -> bytes:
    """The assertion bytes without BOM, XML declaration or surrounding whitespace (its bytes untouched).

    Raises:
        DmpValidationError: declared in another encoding than UTF-8, or not starting with an element.
    """
    prolog = _XML_DECLARATION.match(assertion)
    start = prolog.end() if prolog else 0
    declared = _DECLARED_ENCODING.search(assertion, 0, start)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        raise DmpValidationError("the assertion must be UTF-8 encoded to be grafted", field="assertion")
    element = assertion[start:].rstrip()
    if not element.startswith(b"<") or element[1:2] in (b"?", b"!") or not element.endswith(b">"):
        raise DmpValidationError("the assertion bytes do not look like one XML element", field="assertion")
    return element


def _fill(skeleton: bytes, slots: list[tuple[bytes, bytes]]) -> bytes:
    """Replace each empty placeholder element, in document order, by the same element with ``content``.

    Header values cannot contain a raw ``<``, so the first occurrence of a placeholder is the slot.
    """
    parts: list[bytes] = []
    position = 0
    for placeholder, content in slots:
        found = skeleton.index(placeholder, position)
        tag = placeholder[1:-2]
        parts += [skeleton[position:found], b"<", tag, b">", content, b"</", tag, b">"]
        position = found + len(placeholder)
    parts.append(skeleton[position:])
    return b"".join(parts)


# --- reading ------------------------------------------------------------------------------------


def _read_headers(header: etree._Element, warnings: list[str]) -> tuple[dict[str, str], etree._Element | None]:
    """The WS-A values (stripped text) and the first ``wsse:Security``; duplicates are noted."""
    values: dict[str, str] = {}
    security: etree._Element | None = None
    unqualified = [etree.QName(c).localname for c in header if isinstance(c.tag, str) and c.get("mustUnderstand")]
    if unqualified:
        warnings.append(
            f"unqualified mustUnderstand on {', '.join(unqualified)} (official DMP form; SOAP 1.2 expects "
            "soap:mustUnderstand)"
        )
    for child in header:
        field = _WSA_FIELDS.get(child.tag) if isinstance(child.tag, str) else None
        if field is not None:
            if field in values:
                warnings.append(f"duplicate {etree.QName(child).localname} header ignored")
            else:
                values[field] = (child.text or "").strip(_XML_WHITESPACE)
        elif child.tag == _SECURITY:
            if security is not None:
                warnings.append("duplicate wsse:Security header ignored")
            else:
                security = child
    return values, security


def _first_body_element(body: etree._Element, warnings: list[str]) -> etree._Element | None:
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) > 1:
        warnings.append(f"soap:Body holds {len(elements)} elements; only the first is read")
    return elements[0] if elements else None


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"
