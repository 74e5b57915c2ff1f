"""Logging helpers: the ``dmpclient`` logger and what a DEBUG line may show of a message.

INFO lines carry only the TD, service, HTTP status, duration and message id. Envelopes are logged at DEBUG
only, through :func:`redact`, which is an **allowlist**: the message is parsed with the hardened parser and
written back showing its structure (element names as prefixed in the message; namespace declarations are left
out) and only the values known to be harmless — WS-Addressing headers, SOAP fault codes, algorithm URIs, codes
and code systems, OID roots, XDS object types and statuses, the VIHF's constant attributes. Every other text or
attribute value, whatever its format (names, addresses, telecoms, INS in any spelling, signatures, keys, fault
reasons), becomes ``[redacted]``. A value shown anyway must look like a token: printable, at most 256
characters, and without a run of 13 or more digits (an INS, a NIR, a legacy 22-digit id).

What does not parse (a truncated message, plain text, a PEM key) is never echoed: the line gives its size,
its number of tags and its first element names. Everything runs in linear time (one parse in C, one walk
that stops at :data:`MAX_DEBUG_CHARS`; the only regular expressions are bounded and cannot backtrack).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from lxml import etree

from dmpclient._xml import NS, XmlBudget, parse_untrusted
from dmpclient.errors import DmpUnsafeXmlError

__all__ = ["MAX_DEBUG_CHARS", "REDACTED", "logger", "redact", "redact_headers"]

logger: Final = logging.getLogger("dmpclient")

REDACTED: Final = "[redacted]"
#: The longest redacted text a DEBUG line carries (the rest is cut, with a note).
MAX_DEBUG_CHARS: Final = 32_000
#: Larger messages are only summarised (parsing them for a DEBUG line is not worth its memory).
_MAX_PARSED: Final = 8 * 1024 * 1024
_MAX_ATTRIBUTES: Final = 64
_BUDGET: Final = XmlBudget(max_bytes=_MAX_PARSED, max_nodes=200_000, max_attributes=_MAX_ATTRIBUTES)
_MAX_VALUE: Final = 256
_MAX_DIGIT_RUN: Final = 12
_SUMMARY_NAMES: Final = 8
_SUMMARY_SCAN: Final = 256
_NAME: Final = re.compile(rb"<([A-Za-z_][\w.:-]{0,63})")  # bounded, no nested repetition: linear

_WSA, _SOAP, _SOAP11, _SAML, _DS = NS["wsa"], NS["soap"], NS["soap11"], NS["saml2"], NS["ds"]
#: Elements whose text is shown (when it looks like a token).
_SHOWN_TEXT: Final = frozenset(
    {
        *(f"{{{_WSA}}}{name}" for name in ("Action", "MessageID", "RelatesTo", "To", "Address")),
        f"{{{_SOAP}}}Value",  # fault code and subcodes (the reason, soap:Text, may name a patient)
        f"{{{_SAML}}}AuthnContextClassRef",
        f"{{{_SAML}}}AuthnContextDecl",
    }
)
#: SOAP 1.1 fault children shown, by local name under a SOAP 1.1 Fault.
_SOAP11_SHOWN: Final = frozenset({"faultcode"})
#: VIHF attributes (saml2:Attribute/@Name) whose values are constants of the profile or of the structure.
_SHOWN_VIHF_ATTRIBUTES: Final = frozenset(
    {
        "vihf_version",
        "authentification_mode",
        "ressource_urn",
        "secteur_activite",
        "identifiant_structure",
        "lps_id",
        "lps_nom",
        "lps_version",
        "lps_id_homologation_dmp",
    }
)
#: Attributes shown (by local name, any element), when their value looks like a token.
_SHOWN_ATTRIBUTES: Final = frozenset(
    {
        # SOAP, WS-A, WS-Security, XML-DSig, SAML structure
        "mustUnderstand",
        "Algorithm",
        "URI",
        "PrefixList",
        "ID",
        "Version",
        "IssueInstant",
        "AuthnInstant",
        "Format",
        "Name",
        "type",
        "lang",
        "href",
        # HL7 v3 structure and codes (``root`` is an OID; ``extension`` and ``value`` are not shown)
        "code",
        "codeSystem",
        "codeSystemName",
        "classCode",
        "moodCode",
        "typeCode",
        "determinerCode",
        "contextControlCode",
        "nullFlavor",
        "root",
        "ITSVersion",
        # ebXML registry structure, codes and statuses
        "status",
        "objectType",
        "classificationScheme",
        "classificationNode",
        "classifiedObject",
        "identificationScheme",
        "registryObject",
        "nodeRepresentation",
        "id",
        "lid",
        "home",
        "mimeType",
        "name",
        "returnType",
        "returnComposedObjects",
        "errorCode",
        "severity",
    }
)
#: Roots of HL7 identifiers that are patients (INS OIDs 1.2.250.1.213.1.4.x): their whole element is masked.
_PATIENT_ROOT: Final = "1.2.250.1.213.1.4."
#: Headers whose value is shown (when it looks like a token); every other header is redacted.
_SHOWN_HEADERS: Final = frozenset(
    {
        "accept",
        "accept-encoding",
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "date",
        "host",
        "mime-version",
        "retry-after",
        "server",
        "soapaction",
        "transfer-encoding",
        "user-agent",
    }
)


def redact(data: bytes | str) -> str:
    """What a DEBUG log may show of ``data`` (a SOAP message, or anything else received or sent).

    Never longer than about :data:`MAX_DEBUG_CHARS`; never a value outside the allowlist of the module.
    """
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
    if len(raw) > _MAX_PARSED:
        return _summary(raw, "too large to show")
    try:
        root = parse_untrusted(raw, budget=_BUDGET)
    except DmpUnsafeXmlError:
        return _summary(raw, "not well-formed XML")
    out: list[str] = []
    size = 0
    for piece in _write(root):
        out.append(piece)
        size += len(piece)
        if size >= MAX_DEBUG_CHARS:
            out.append(f"… [cut: {len(raw)} bytes in, first {MAX_DEBUG_CHARS} characters shown]")
            break
    return "".join(out)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """HTTP headers for a DEBUG log: the values of a few structural headers, every other one redacted."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {
        name: value if name.lower() in _SHOWN_HEADERS and _is_token(value, allow_spaces=True) else REDACTED
        for name, value in items
    }


# --- values -------------------------------------------------------------------------------------


def _is_token(value: str, *, allow_spaces: bool = False) -> bool:
    """Short, printable, and without a run of 13 or more digits (2A/2B count as digits) once spaces are removed."""
    if len(value) > _MAX_VALUE or not value.isprintable():
        return False
    if not allow_spaces and value.strip() != value:
        return False
    run = 0
    previous = ""
    for char in value:
        if char == " ":
            continue
        run = run + 1 if char.isdigit() or (char in "AB" and previous == "2") else 0
        if run > _MAX_DIGIT_RUN:
            return False
        previous = char
    return True


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _shown(value: str, allowed: bool) -> str:
    return _escape(value) if allowed and _is_token(value, allow_spaces=True) else REDACTED


def _text(text: str | None, allowed: bool) -> str:
    """Whitespace (layout) is kept as it is; any other text only when allowed and token-like."""
    if not text:
        return ""
    if text.strip(" \t\r\n") == "":
        return text
    return _shown(text.strip(), allowed)


# --- writing ------------------------------------------------------------------------------------


#: Prefixes for namespaced attributes (``xml:lang``, ``xsi:type``, ``wsu:Id``…): the project's usual ones.
_PREFIXES: Final = {uri: prefix for prefix, uri in NS.items()}


def _attribute_name(name: str) -> str:
    """``{uri}local`` as ``prefix:local`` with the project's usual prefix (else the local name alone).

    The element's own in-scope map (``nsmap``) is not used: building it costs as much as the declarations in
    scope, for every element.
    """
    if not name.startswith("{"):
        return name
    uri, _, local = name[1:].partition("}")
    prefix = _PREFIXES.get(uri)
    return f"{prefix}:{local}" if prefix else local


def _name(element: etree._Element) -> str:
    qname = etree.QName(element)
    name = f"{element.prefix}:{qname.localname}" if element.prefix else qname.localname
    return name if _is_token(name) else REDACTED


def _text_allowed(element: etree._Element) -> bool:
    tag = element.tag
    if tag in _SHOWN_TEXT:
        return True
    parent = element.getparent()
    if tag == f"{{{_SAML}}}AttributeValue" and parent is not None:
        return parent.get("Name", "").lower() in _SHOWN_VIHF_ATTRIBUTES
    return (
        parent is not None and parent.tag == f"{{{_SOAP11}}}Fault" and etree.QName(element).localname in _SOAP11_SHOWN
    )


def _attributes(element: etree._Element) -> Iterator[str]:
    """The attributes, each value shown or redacted (the parse budget bounds how many an element has: lxml
    reads them in quadratic time)."""
    count = len(element.attrib)  # counted in linear time, before any value is read
    if count > _MAX_ATTRIBUTES:
        yield f" [{count} attributes: {REDACTED}]"
        return
    patient = element.get("root", "").startswith(_PATIENT_ROOT)
    for key, raw_value in element.attrib.items():
        name, value = str(key), str(raw_value)
        local = name.rpartition("}")[2]
        allowed = local in _SHOWN_ATTRIBUTES and not (patient and local != "root")
        yield f' {_attribute_name(name)}="{_shown(value, allowed)}"'


def _write(root: etree._Element) -> Iterator[str]:
    """The element as text, start and end tags in document order, iteratively (no recursion on depth)."""
    for event, node in etree.iterwalk(root, events=("start", "end", "comment")):
        if event == "comment":
            yield f"<!--{REDACTED}-->{_text(node.tail, False)}"
            continue
        empty = node.text is None and len(node) == 0
        if event == "start":
            attributes = "".join(_attributes(node))
            yield f"<{_name(node)}{attributes}/>" if empty else f"<{_name(node)}{attributes}>"
            yield _text(node.text, _text_allowed(node))
        else:
            yield "" if empty else f"</{_name(node)}>"
            yield _text(node.tail, False) if node is not root else ""


def _summary(raw: bytes, why: str) -> str:
    """Size, number of tags and first element names: all a log shows of what it cannot parse or show."""
    names: list[str] = []
    for seen, match in enumerate(_NAME.finditer(raw)):
        name = match.group(1).decode("ascii")
        shown = name if _is_token(name) else REDACTED
        if shown not in names:
            names.append(shown)
        if len(names) >= _SUMMARY_NAMES or seen >= _SUMMARY_SCAN:
            break
    first = f"; first elements: {', '.join(names)}" if names else ""
    return f"[{why}: {len(raw)} bytes, {raw.count(b'<')} '<'{first}]"
