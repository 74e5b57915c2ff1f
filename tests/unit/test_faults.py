"""SOAP faults: built as the DMP sends them (reference §9.2), validated, and read back into exceptions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import NS
from dmpclient.errors import (
    DmpPatientOppositionError,
    DmpProfessionalBlockedError,
    DmpRightsError,
    DmpSoapFault,
    DmpValidationError,
)
from dmpclient.soap.envelope import ANONYMOUS, read_soap
from dmpclient.soap.faults import FAULT_ACTION, RIGHTS_SUBCODES, build_fault, fault_from_message, raise_for_fault
from tests.xsd import assert_valid

SOAP = NS["soap"]
INVALID_CERT_FR = "Le certificat ayant signé le VIHF est invalide : Not a valid signature certificate"
REQUEST_ID = "urn:uuid:6a1d3c54-0a7e-4f7e-9f59-3f2b1a0c9d21"


def fault_of(xml: bytes, *, td: str | None = None, allow_soap11: bool = False) -> DmpSoapFault:
    fault = fault_from_message(read_soap(xml, allow_soap11=allow_soap11), td=td)
    assert fault is not None
    return fault


def test_invalid_certificate_fault_as_observed_on_the_dmp() -> None:
    xml = build_fault(
        code="Sender",
        subcode="DMPInvalidCertificate",
        reason=INVALID_CERT_FR,
        relates_to=REQUEST_ID,
        message_id="urn:uuid:1",
    )
    assert_valid(xml, "soap12/soap-1.2-envelope.xsd")
    assert_valid(xml, "bundle/all.xsd")
    msg = read_soap(xml)
    assert (msg.action, msg.relates_to, msg.message_id, msg.to) == (FAULT_ACTION, REQUEST_ID, "urn:uuid:1", ANONYMOUS)

    fault = fault_of(xml, td="TD3.1")
    assert type(fault) is DmpSoapFault
    assert (fault.code, fault.subcode, fault.reason, fault.detail) == (
        "Sender",
        "DMPInvalidCertificate",
        INVALID_CERT_FR,
        None,
    )
    assert (fault.td, fault.message_id) == ("TD3.1", REQUEST_ID)
    assert fault.message.startswith(f"the DMP refused the request (Sender/DMPInvalidCertificate): {INVALID_CERT_FR}; ")
    assert "ORG SIGN" in fault.message
    assert str(fault).endswith(f"[TD3.1 {REQUEST_ID}]")


def test_subcode_is_a_qname_with_the_envelope_prefix_and_reason_is_french() -> None:
    root = etree.fromstring(build_fault(code="Sender", subcode="DMPInvalidCertificate", reason=INVALID_CERT_FR))
    value = root.find("soap:Body/soap:Fault/soap:Code/soap:Subcode/soap:Value", NS)
    assert value is not None
    assert value.text == "soap:DMPInvalidCertificate"
    assert value.nsmap["soap"] == SOAP
    assert root.findtext("soap:Body/soap:Fault/soap:Code/soap:Value", namespaces=NS) == "soap:Sender"
    text = root.find("soap:Body/soap:Fault/soap:Reason/soap:Text", NS)
    assert text is not None
    assert text.get(f"{{{NS['xml']}}}lang") == "fr"


def test_receiver_fault_without_subcode() -> None:
    xml = build_fault(code="Receiver", reason="Service indisponible", lang="fr-FR")
    assert_valid(xml, "bundle/all.xsd")
    assert b"Subcode" not in xml
    fault = fault_of(xml)
    assert (fault.code, fault.subcode, fault.reason) == ("Receiver", None, "Service indisponible")
    assert fault.message.startswith("the DMP failed to process the request (Receiver): Service indisponible; retry")
    assert fault.message_id is None


def test_rights_subcode_raises_a_rights_error() -> None:
    assert "DMPAccessDeniedByRightsService" in RIGHTS_SUBCODES
    xml = build_fault(code="Sender", subcode="DMPAccessDeniedByRightsService", reason="Accès refusé", relates_to="u")
    with pytest.raises(DmpRightsError) as info:
        raise_for_fault(read_soap(xml), td="TD3.2")
    assert isinstance(info.value, DmpSoapFault)
    assert (info.value.subcode, info.value.td, info.value.message_id) == (
        "DMPAccessDeniedByRightsService",
        "TD3.2",
        "u",
    )
    assert info.value.message.startswith("the DMP rights service refused the request")


def test_detail_is_carried_and_returned_serialised() -> None:
    detail = etree.fromstring(b'<d:Why xmlns:d="urn:si-dmp-diag"><d:Rule>signature</d:Rule></d:Why>')
    xml = build_fault(code="Sender", subcode="DMPInvalidVihf", reason="VIHF invalide", detail=detail)
    assert_valid(xml, "soap12/soap-1.2-envelope.xsd")
    assert detail.getparent() is None
    fault = fault_of(xml)
    assert fault.detail is not None
    returned = etree.fromstring(fault.detail)
    assert returned.tag == f"{{{SOAP}}}Detail"
    assert returned.findtext("{urn:si-dmp-diag}Why/{urn:si-dmp-diag}Rule") == "signature"


def test_custom_action_and_non_fault_bodies() -> None:
    xml = build_fault(code="Sender", reason="x", action="urn:si-dmp-habilitations:fault")
    assert read_soap(xml).action == "urn:si-dmp-habilitations:fault"
    ok = (
        f'<e:Envelope xmlns:e="{SOAP}"><e:Body><rs:RegistryResponse xmlns:rs="{NS["rs"]}" status="s"/></e:Body>'
        "</e:Envelope>"
    ).encode()
    assert fault_from_message(read_soap(ok)) is None
    raise_for_fault(read_soap(ok))
    empty = f'<e:Envelope xmlns:e="{SOAP}"><e:Body/></e:Envelope>'.encode()
    assert fault_from_message(read_soap(empty)) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": "Client"}, "code"),
        ({"code": "Sender", "subcode": "DMP Invalid"}, "subcode"),
        ({"code": "Sender", "subcode": "soap:DMPInvalid"}, "subcode"),
        ({"code": "Sender", "subcode": ""}, "subcode"),
    ],
)
def test_invalid_codes_are_refused(kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(DmpValidationError) as info:
        build_fault(reason="r", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


# --- reading faults other stacks write ------------------------------------------------------------


def soap12_fault(
    code: str, extra: str = "", *, declare_prefix: str = 'xmlns:env="http://www.w3.org/2003/05/soap-envelope"'
) -> bytes:
    return (
        f"<env:Envelope {declare_prefix}><env:Body><env:Fault>"
        f"<env:Code><env:Value>{code}</env:Value>{extra}</env:Code>"
        '<env:Reason><env:Text xml:lang="en">Access denied</env:Text>'
        '<env:Text xml:lang="FR-fr">  Accès\n   refusé  </env:Text></env:Reason>'
        "</env:Fault></env:Body></env:Envelope>"
    ).encode()


def test_french_reason_is_preferred_and_prefixes_need_not_be_declared() -> None:
    extra = "<env:Subcode><env:Value>dmp:DMPAccessDeniedByRightsService</env:Value></env:Subcode>"
    fault = fault_of(soap12_fault("env:Sender", extra))
    assert isinstance(fault, DmpRightsError)
    assert (fault.code, fault.subcode, fault.reason) == ("Sender", "DMPAccessDeniedByRightsService", "Accès\n   refusé")
    assert "(Sender/DMPAccessDeniedByRightsService): Accès refusé;" in fault.message


def test_only_the_first_subcode_level_is_the_dmp_code() -> None:
    extra = (
        "<env:Subcode><env:Value>env:DMPInvalidVihf</env:Value>"
        "<env:Subcode><env:Value>env:Deeper</env:Value></env:Subcode></env:Subcode>"
    )
    assert fault_of(soap12_fault("env:Sender", extra)).subcode == "DMPInvalidVihf"


def test_cxf_addressing_fault_in_english_without_subcode() -> None:
    xml = (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value>'
        '</soap:Code><soap:Reason><soap:Text xml:lang="en">A required header representing a Message Addressing '
        "Property is not present</soap:Text></soap:Reason></soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
    fault = fault_of(xml)
    assert (fault.code, fault.subcode) == ("Sender", None)
    assert fault.reason.startswith("A required header representing a Message Addressing Property")
    assert "check the request, the VIHF and the certificates" in fault.message


def test_fault_with_unexpected_code_and_no_reason() -> None:
    xml = (
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault><s:Code><s:Value>s:MustUnderstand</s:Value></s:Code>'
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()
    fault = fault_of(xml)
    assert (fault.code, fault.reason) == ("MustUnderstand", "")
    assert fault.message == (
        "the DMP answered with a SOAP fault (MustUnderstand): no reason given; check the SOAP and WS-Addressing headers"
    )


def test_long_reasons_are_shortened_in_the_message_only() -> None:
    reason = "Erreur " * 200
    fault = fault_of(build_fault(code="Receiver", reason=reason))
    assert fault.reason == reason.strip()
    assert len(fault.message) < 500
    assert "…" in fault.message


@pytest.mark.parametrize(
    ("faultcode", "code", "subcode", "kind"),
    [
        ("soap:Client", "Sender", None, DmpSoapFault),
        ("Server", "Receiver", None, DmpSoapFault),
        ("soap:Client.DMPAccessDeniedByRightsService", "Sender", "DMPAccessDeniedByRightsService", DmpRightsError),
        ("soap:VersionMismatch", "VersionMismatch", None, DmpSoapFault),
    ],
)
def test_soap11_faults_are_read_leniently(faultcode: str, code: str, subcode: str | None, kind: type) -> None:
    xml = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
        f"<faultcode>{faultcode}</faultcode><faultstring> Requête invalide </faultstring>"
        "<detail><e:Info xmlns:e='urn:e'>x</e:Info></detail>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
    fault = fault_of(xml, allow_soap11=True)
    assert type(fault) is kind
    assert (fault.code, fault.subcode, fault.reason) == (code, subcode, "Requête invalide")
    assert fault.detail is not None
    assert etree.fromstring(fault.detail).findtext("{urn:e}Info") == "x"


def test_soap11_fault_with_qualified_children() -> None:
    s11 = "http://schemas.xmlsoap.org/soap/envelope/"
    xml = (
        f'<s:Envelope xmlns:s="{s11}"><s:Body><s:Fault><s:faultcode>s:Server</s:faultcode>'
        "<s:faultstring>down</s:faultstring></s:Fault></s:Body></s:Envelope>"
    ).encode()
    fault = fault_of(xml, allow_soap11=True)
    assert (fault.code, fault.reason, fault.detail) == ("Receiver", "down", None)


REASON_TEXT = st.text(
    st.sampled_from("\t\n\r") | st.characters(min_codepoint=0x20, codec="utf-8", exclude_characters="\ufffe\uffff"),
    max_size=80,
)


@given(reason=REASON_TEXT, subcode=st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,30}", fullmatch=True))
def test_reason_and_subcode_round_trip(reason: str, subcode: str) -> None:
    fault = fault_of(build_fault(code="Sender", reason=reason, subcode=subcode))
    assert (fault.reason, fault.subcode) == (reason.strip(), subcode)
    assert isinstance(fault, DmpRightsError) == (subcode in RIGHTS_SUBCODES)


@pytest.mark.parametrize(
    ("refusal", "kind", "hint"),
    [
        ("DMPPatientOpposedBreakGlass", DmpPatientOppositionError, "normal access"),
        ("DMPPatientOpposedEmergencyAccess", DmpPatientOppositionError, "régulation"),
        ("DMPProfessionalBlocked", DmpProfessionalBlockedError, "only the patient"),
        ("DMPAttachedToMES", DmpRightsError, "Mon espace santé"),
        ("DMPSomethingNew", DmpRightsError, "check the professional's rights"),
    ],
)
def test_a_nested_refusal_subcode_types_the_rights_error(refusal: str, kind: type[DmpRightsError], hint: str) -> None:
    xml = build_fault(code="Sender", reason="Accès refusé", subcode="DMPAccessDeniedByRightsService", refusal=refusal)
    root = etree.fromstring(xml)
    values = [v.text for v in root.iter("{http://www.w3.org/2003/05/soap-envelope}Value")]
    assert values == ["soap:Sender", "soap:DMPAccessDeniedByRightsService", f"soap:{refusal}"]
    fault = fault_from_message(read_soap(xml))
    assert type(fault) is kind
    assert (fault.subcode, fault.refusal) == ("DMPAccessDeniedByRightsService", refusal)
    assert hint in fault.message


def test_a_refusal_needs_a_first_subcode() -> None:
    with pytest.raises(DmpValidationError, match="first subcode"):
        build_fault(code="Sender", reason="x", refusal="DMPProfessionalBlocked")
