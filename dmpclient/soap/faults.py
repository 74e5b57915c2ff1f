"""SOAP 1.2 faults as the DMP sends them (reference §9.2): built by the mock, read by the client.

A DMP fault carries ``soap:Sender`` (the request is at fault: VIHF, certificate, rights, content) or
``soap:Receiver`` (the platform failed), a DMP code as first subcode (``soap:DMPInvalidCertificate``)
and a French reason. SOAP 1.1 faults (``faultcode``/``faultstring``) are read leniently too.
"""

from __future__ import annotations

import copy
import re
from typing import Final, Literal

from lxml import etree

from dmpclient._xml import NS, serialize
from dmpclient.errors import (
    DmpPatientOppositionError,
    DmpProfessionalBlockedError,
    DmpRightsError,
    DmpSoapFault,
    DmpValidationError,
)
from dmpclient.ids import mask_ins
from dmpclient.soap.envelope import SoapMessage, build_response

__all__ = [
    "FAULT_ACTION",
    "REFUSALS",
    "RIGHTS_SUBCODES",
    "build_fault",
    "fault_from_message",
    "raise_for_fault",
]

#: WS-Addressing action of a SOAP fault.
FAULT_ACTION: Final = "http://www.w3.org/2005/08/addressing/soap/fault"

#: DMP subcodes meaning "refused by the rights service" (reference §9.3), raised as DmpRightsError.
RIGHTS_SUBCODES: Final = frozenset({"DMPAccessDeniedByRightsService"})

#: Nested subcodes under ``DMPAccessDeniedByRightsService`` saying why (project design: the DMP's own codes
#: for these refusals are not public; a client that reads only the first subcode still sees a rights refusal),
#: with the error raised and what the user can do.
REFUSALS: Final[dict[str, tuple[type[DmpRightsError], str]]] = {
    "DMPPatientOpposedBreakGlass": (
        DmpPatientOppositionError,
        "the patient opposed break-glass access: use normal access once authorised (TD0.3)",
    ),
    "DMPPatientOpposedEmergencyAccess": (
        DmpPatientOppositionError,
        "the patient opposed access by a régulation centre: use normal access once authorised (TD0.3)",
    ),
    "DMPProfessionalBlocked": (
        DmpProfessionalBlockedError,
        "the patient blocked this professional: only the patient (or his médecin traitant) can lift it",
    ),
    "DMPAttachedToMES": (
        DmpRightsError,
        "the DMP is attached to Mon espace santé: the patient manages these data there",
    ),
}

_SOAP12: Final = NS["soap"]
_SOAP11: Final = NS["soap11"]
_XML_LANG: Final = f"{{{NS['xml']}}}lang"
_FAULT12: Final = f"{{{_SOAP12}}}Fault"
_FAULT11: Final = f"{{{_SOAP11}}}Fault"
_CODES: Final = frozenset({"Sender", "Receiver"})
#: SOAP 1.1 fault codes and their SOAP 1.2 equivalents.
_SOAP11_CODES: Final = {"Client": "Sender", "Server": "Receiver"}
_NCNAME: Final = re.compile(r"[A-Za-z_][\w.\-]*")
_REASON_IN_MESSAGE: Final = 300
_HINTS: Final = {
    "DMPInvalidCertificate": "check that the VIHF is signed with the structure's ORG SIGN certificate (IGC-Santé)",
    "DMPAccessDeniedByRightsService": "check the professional's rights for this patient and access mode",
    "Sender": "check the request, the VIHF and the certificates",
    "Receiver": "retry later if the operation is idempotent, otherwise check its outcome before sending it again",
}


def build_fault(
    *,
    code: Literal["Sender", "Receiver"],
    reason: str,
    subcode: str | None = None,
    lang: str = "fr",
    detail: etree._Element | None = None,
    relates_to: str | None = None,
    message_id: str | None = None,
    action: str = FAULT_ACTION,
    refusal: str | None = None,
) -> bytes:
    """A complete SOAP 1.2 response envelope holding a ``soap:Fault`` (reference §9.2).

    Args:
        code: ``Sender`` for client errors (VIHF, rights, validation), ``Receiver`` for outages.
        reason: the ``soap:Reason/soap:Text`` (French for the DMP).
        subcode: the DMP code, written as a QName with the envelope prefix (``soap:DMPInvalidCertificate``).
        lang: the ``xml:lang`` of the reason.
        detail: an element copied into ``soap:Detail``.
        relates_to: the request's MessageID.
        message_id: this response's MessageID.
        action: the ``wsa:Action``; the WS-Addressing fault action by default.
        refusal: a nested subcode under ``subcode`` saying why (:data:`REFUSALS`).

    Raises:
        DmpValidationError: unknown code, or a subcode that is not an XML name.
    """
    if code not in _CODES:
        raise DmpValidationError(f"a SOAP fault code is Sender or Receiver, not {code!r}", field="code")
    for name in (subcode, refusal):
        if name is not None and not _NCNAME.fullmatch(name):
            raise DmpValidationError(
                "a fault subcode must be an XML name such as DMPInvalidCertificate", field="subcode"
            )
    if refusal is not None and subcode is None:
        raise DmpValidationError("a nested refusal subcode needs a first subcode", field="refusal")
    fault = etree.Element(_FAULT12, nsmap={"soap": _SOAP12})
    code_el = etree.SubElement(fault, f"{{{_SOAP12}}}Code")
    etree.SubElement(code_el, f"{{{_SOAP12}}}Value").text = f"soap:{code}"
    parent = code_el
    for name in (subcode, refusal):
        if name is not None:
            parent = etree.SubElement(parent, f"{{{_SOAP12}}}Subcode")
            etree.SubElement(parent, f"{{{_SOAP12}}}Value").text = f"soap:{name}"
    text = etree.SubElement(etree.SubElement(fault, f"{{{_SOAP12}}}Reason"), f"{{{_SOAP12}}}Text")
    text.set(_XML_LANG, lang)
    text.text = reason
    if detail is not None:
        etree.SubElement(fault, f"{{{_SOAP12}}}Detail").append(copy.deepcopy(detail))
    return build_response(fault, action=action, relates_to=relates_to, message_id=message_id)


def fault_from_message(msg: SoapMessage, *, td: str | None = None) -> DmpSoapFault | None:
    """The exception a fault body stands for, or ``None`` when the body is not a fault.

    Returns a :class:`DmpRightsError` when the subcode is in :data:`RIGHTS_SUBCODES`. The exception's
    ``message_id`` is the request's (the response's ``RelatesTo``).
    """
    body = msg.body
    if body is None or body.tag not in (_FAULT12, _FAULT11):
        return None
    code, subcode, reason, detail = _read_fault12(body) if body.tag == _FAULT12 else _read_fault11(body)
    refusal = _local(body.findtext("soap:Code/soap:Subcode/soap:Subcode/soap:Value", None, NS)) or None
    kind: type[DmpSoapFault] = DmpSoapFault
    hint = None
    if subcode in RIGHTS_SUBCODES:
        kind, hint = REFUSALS.get(refusal or "", (DmpRightsError, None))
    return kind(
        _describe(code, subcode, reason, rights=issubclass(kind, DmpRightsError), hint=hint),
        code=code,
        subcode=subcode,
        reason=reason,
        detail=serialize(detail) if detail is not None else None,
        refusal=refusal,
        td=td,
        message_id=msg.relates_to,
    )


def raise_for_fault(msg: SoapMessage, *, td: str | None = None) -> None:
    """Raise the fault carried by ``msg`` (see :func:`fault_from_message`); do nothing otherwise."""
    fault = fault_from_message(msg, td=td)
    if fault is not None:
        raise fault


_Parts = tuple[str, str | None, str, etree._Element | None]


def _read_fault12(fault: etree._Element) -> _Parts:
    """Code, first subcode (local names: a subcode prefix need not be declared), reason, detail."""
    code = fault.findtext("soap:Code/soap:Value", "", NS)
    subcode = fault.findtext("soap:Code/soap:Subcode/soap:Value", None, NS)
    texts = fault.findall("soap:Reason/soap:Text", NS)
    french = [text for text in texts if text.get(_XML_LANG, "").lower().startswith("fr")]
    reason = _text(next(iter(french or texts), None))
    return _local(code), _local(subcode) or None, reason, fault.find("soap:Detail", NS)


def _read_fault11(fault: etree._Element) -> _Parts:
    """``faultcode`` (``Client``/``Server``, optionally dotted ``Client.DMPxxx``), ``faultstring``, ``detail``.

    Children are matched by local name: some toolkits wrongly qualify them.
    """
    children = {etree.QName(child).localname: child for child in fault if isinstance(child.tag, str)}
    faultcode = _local(_text(children.get("faultcode")))
    base, _, subcode = faultcode.partition(".")
    return _SOAP11_CODES.get(base, base), subcode or None, _text(children.get("faultstring")), children.get("detail")


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _local(qname: str | None) -> str:
    """Local part of a QName written as text (``soap:Sender`` → ``Sender``)."""
    return (qname or "").strip().rpartition(":")[2]


def _describe(code: str, subcode: str | None, reason: str, *, rights: bool, hint: str | None = None) -> str:
    """What happened and what to check; INS-shaped values in the DMP's reason are masked (the raw text is
    kept in ``DmpSoapFault.reason``)."""
    if rights:
        what = "the DMP rights service refused the request"
    elif code == "Sender":
        what = "the DMP refused the request"
    elif code == "Receiver":
        what = "the DMP failed to process the request"
    else:
        what = "the DMP answered with a SOAP fault"
    label = "/".join(part for part in (code or "no code", subcode) if part)
    flat = mask_ins(" ".join(reason.split())) or "no reason given"
    if len(flat) > _REASON_IN_MESSAGE:
        flat = f"{flat[:_REASON_IN_MESSAGE]}…"
    hint = hint or _HINTS.get(subcode or "") or _HINTS.get(code, "check the SOAP and WS-Addressing headers")
    return f"{what} ({label}): {flat}; {hint}"
