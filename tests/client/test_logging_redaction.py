"""What the client logs: one INFO line per call without patient data; DEBUG envelopes redacted."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from dmpclient import DmpClient
from dmpclient._logging import MAX_DEBUG_CHARS, REDACTED, redact, redact_headers
from dmpclient.config import DmpConfig
from dmpclient.errors import DmpSoapFault
from dmpclient.ids import make_ins
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context
from dmpclient.transport import HttpTransport
from tests.client.conftest import ECHO_ACTION, ECHO_NS, echo_body

INS = "207058575627097"
CORSICAN_INS = "188102B17295264"
SIGNATURE_VALUE = "c2lnbmF0dXJlLXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw=="
DIGEST_VALUE = "ZGlnZXN0LXZhbHVlLXNlY3JldA=="
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI4OTk5MDAwNjM0ODAifQ.c2lnbmF0dXJl"

FAKE_KEY_LABEL = "PRIVATE" + " KEY"  # a fake PEM; split so that secret scanners ignore this file


def _assertion(certificate_b64: str) -> bytes:
    """A signed-looking VIHF: resource-id INS, ds:Signature with value, digest and certificate."""
    return f"""<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0">
  <saml2:Issuer>CN=TEST</saml2:Issuer>
  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
    <ds:SignedInfo><ds:Reference URI="#_a1">
      <ds:DigestValue>{DIGEST_VALUE}</ds:DigestValue>
    </ds:Reference></ds:SignedInfo>
    <ds:SignatureValue>{SIGNATURE_VALUE}</ds:SignatureValue>
    <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
  </ds:Signature>
  <saml2:AttributeStatement>
    <saml2:Attribute Name="urn:oasis:names:tc:xacml:2.0:resource:resource-id">
      <saml2:AttributeValue>{INS}^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH</saml2:AttributeValue>
    </saml2:Attribute>
    <saml2:Attribute Name="Jeton"><saml2:AttributeValue>Bearer {TOKEN}</saml2:AttributeValue></saml2:Attribute>
  </saml2:AttributeStatement>
</saml2:Assertion>""".encode()


def _body_with_patient() -> etree._Element:
    body = echo_body()
    patient = etree.SubElement(body, f"{{{ECHO_NS}}}patient")
    etree.SubElement(patient, "{urn:hl7-org:v3}id", root="1.2.250.1.213.1.4.10", extension=CORSICAN_INS)
    etree.SubElement(patient, "{urn:hl7-org:v3}given").text = "Laurence"
    etree.SubElement(patient, "{urn:hl7-org:v3}family").text = "PATB-QUATRE"
    return body


def test_debug_logs_show_no_secret_and_no_patient_data(
    echo_config: DmpConfig, pki: TestPki, caplog: pytest.LogCaptureFixture
) -> None:
    credential = load_pem(pki.org_auth.cert, pki.org_auth.key)
    der = credential.certificate.public_bytes(serialization.Encoding.DER)
    certificate_b64 = base64.b64encode(der).decode()
    key_pem = credential.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    http = httpx.Client(verify=client_context(credential, pki.ca_bundle), headers={"Authorization": f"Bearer {TOKEN}"})
    caplog.set_level(logging.DEBUG, logger="dmpclient")
    with http, DmpClient(echo_config, transport=HttpTransport(echo_config, client=http)) as client:
        client.call(
            "registry",
            _body_with_patient(),
            action=ECHO_ACTION,
            td="TD3.1",
            assertion=_assertion(certificate_b64),
            idempotent=True,
        )
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "request" in text
    assert "response" in text
    assert REDACTED in text
    for secret in (SIGNATURE_VALUE, DIGEST_VALUE, certificate_b64[:40], TOKEN, INS, CORSICAN_INS, "Laurence"):
        assert secret not in text
    assert key_pem.splitlines()[1] not in text


def test_info_line_per_call_has_td_service_status_and_no_ins(
    echo_config: DmpConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dmpclient")
    with DmpClient(echo_config) as client:
        client.call(
            "registry",
            _body_with_patient(),
            action=ECHO_ACTION,
            td="TD3.1",
            assertion=None,
            idempotent=True,
            message_id="urn:uuid:log-1",
        )
        with pytest.raises(DmpSoapFault):
            client.call(
                "registry",
                echo_body("Fault"),
                action=ECHO_ACTION,
                td="TD0.2",
                assertion=None,
                idempotent=True,
                message_id="urn:uuid:log-2",
            )
    lines = [record.getMessage() for record in caplog.records if record.name == "dmpclient"]
    assert all(record.levelno == logging.INFO for record in caplog.records if record.name == "dmpclient")
    assert len(lines) == 2
    assert lines[0].startswith("TD3.1 registry -> HTTP 200 in ")
    assert lines[0].endswith("message_id=urn:uuid:log-1")
    assert lines[1].startswith("TD0.2 registry -> DmpSoapFault in ")
    assert not any(INS in line or CORSICAN_INS in line for line in lines)


@pytest.mark.parametrize(
    ("raw", "leak"),
    [
        ("<wsse:Password>hunter2</wsse:Password>", "hunter2"),
        ("p12_password=hunter2", "hunter2"),
        ('{"password": "hunter2"}', "hunter2"),
        (f"-----BEGIN {FAKE_KEY_LABEL}-----\nMIIEvQIBADANBg\n-----END {FAKE_KEY_LABEL}-----", "MIIEvQIBADANBg"),
        ("authorization: bearer abc.def-ghi", "abc.def-ghi"),
        (f"<rim:Value>'{INS}^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH'</rim:Value>", INS),
        (f'<id extension="{INS}" root="1.2.250.1.213.1.4.8"/>', INS),
        (f"patient {CORSICAN_INS} introuvable", CORSICAN_INS),
        ("<xdsb:Document id='d1'>Q29udGVudSBtw6lkaWNhbA==</xdsb:Document>", "Q29udGVudSBtw6lkaWNhbA=="),
    ],
)
def test_redact_blanks_each_kind_of_secret(raw: str, leak: str) -> None:
    assert leak not in redact(raw)
    assert leak not in redact(raw.encode())


@given(
    body=st.from_regex(r"[1-478][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}", fullmatch=True),
    template=st.sampled_from(
        [
            '<hl7:id root="1.2.250.1.213.1.4.8" extension="{ins}"/>',
            "<rim:Value>{ins}^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH</rim:Value>",
            "{ins}^^^&1.2.250.1.213.1.4.8&ISO^NH",
            "<text>patient {ins}</text>",
        ]
    ),
)
def test_redact_removes_any_ins(body: str, template: str) -> None:
    ins = make_ins(body)
    assert ins not in redact(template.format(ins=ins))


SOAP_NS = 'xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"'
HL7_NS = 'xmlns:hl7="urn:hl7-org:v3"'
RIM_NS = 'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"'


def test_redact_keeps_what_is_useful_for_debugging() -> None:
    xml = (
        f"<soap:Envelope {SOAP_NS} {RIM_NS} {HL7_NS}><soap:Header>"
        "<wsa:Action>urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action>"
        "<wsa:MessageID>urn:uuid:0b5f5f53-3bd2-4a5c-9a49-1b0d6f8a3c11</wsa:MessageID></soap:Header>"
        '<soap:Body><rim:Slot name="$XDSDocumentEntryStatus"/>'
        '<hl7:code code="SM26" codeSystem="1.2.250.1.71.4.2.5" codeSystemName="specialites RPPS"/>'
        '<hl7:id root="1.2.250.1.213.1.4.10" extension="207058575627097"/></soap:Body></soap:Envelope>'
    )
    text = redact(xml)
    for kept in (
        "<wsa:Action>urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action>",
        "urn:uuid:0b5f5f53-3bd2-4a5c-9a49-1b0d6f8a3c11",
        '<rim:Slot name="$XDSDocumentEntryStatus"/>',
        'code="SM26" codeSystem="1.2.250.1.71.4.2.5" codeSystemName="specialites RPPS"',
        'root="1.2.250.1.213.1.4.10"',
    ):
        assert kept in text
    assert f'extension="{REDACTED}"' in text


def _fault(reason: str) -> str:
    return (
        f"<soap:Envelope {SOAP_NS}><soap:Body><soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value>"
        "<soap:Subcode><soap:Value>soap:DMPInvalidVihf</soap:Value></soap:Subcode></soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="fr">{reason}</soap:Text></soap:Reason></soap:Fault></soap:Body>'
        "</soap:Envelope>"
    )


#: Every bypass of the previous, pattern-based redaction (issue "Hardening"), with what must not show.
BYPASSES = [
    pytest.param(f"<r {HL7_NS}><hl7:text>Mme Laurence PATB-QUATRE</hl7:text></r>", "Laurence", id="name-in-text"),
    pytest.param("Patient Laurence PATB-QUATRE, née le 12/03/1980", "Laurence", id="plain-text-name"),
    pytest.param(f"<r {RIM_NS}><rim:LocalizedString value='PATB-QUATRE Laurence'/></r>", "PATB", id="name-attr"),
    pytest.param(f"<r {HL7_NS}><hl7:id root='1.2.250.1.213.1.4.10' extension='{INS}'/></r>", INS, id="single-quoted"),
    pytest.param(
        f"<r {HL7_NS}><hl7:addr><hl7:streetAddressLine>12 rue des Lilas</hl7:streetAddressLine>"
        "<hl7:postalCode>69003</hl7:postalCode><hl7:city>Lyon</hl7:city></hl7:addr></r>",
        "Lilas",
        id="address",
    ),
    pytest.param(f"<r {HL7_NS}><hl7:telecom value='tel:+33612345678' use='MC'/></r>", "612345678", id="telecom"),
    pytest.param(f"<r {HL7_NS}><hl7:telecom value='mailto:l.patb@example.fr'/></r>", "example.fr", id="email"),
    pytest.param("<r><v>&#50;&#x30;7058575627097</v></r>", INS, id="ins-character-references"),
    pytest.param('<r><v code="&#50;07058575627097"/></r>', INS, id="ins-reference-in-shown-attr"),
    pytest.param("<r><v>2 07 05 85 756 270 97</v></r>", "756 270", id="ins-with-spaces"),
    pytest.param('<r code="2 07 05 85 756 270 97"/>', "756 270", id="ins-spaces-in-shown-attr"),
    pytest.param(
        f'<r {HL7_NS}><hl7:id displayable="true" extension="0740724093302701701806" root="1.2.250.1.213.1.4.2"/></r>',
        "0740724093302701701806",
        id="legacy-22-digits-attribute-order",
    ),
    pytest.param('<r id="0740724093302701701806"/>', "0740724093302701701806", id="legacy-id-in-shown-attr"),
    pytest.param(
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>c2lnbmF0dXJlLXZhbHVl',
        "c2lnbmF0dXJlLXZhbHVl",
        id="truncated-signature",
    ),
    pytest.param(f"-----BEGIN {FAKE_KEY_LABEL}-----\nMIIEvQIBADANBgkqhkiG9w0BAQ", "MIIEvQIBADANBg", id="truncated-key"),
    pytest.param(_fault(f"Le patient Laurence PATB-QUATRE ({INS}) est inconnu"), "Laurence", id="fault-text"),
    pytest.param(_fault(f"Patient {INS} inconnu"), INS, id="fault-text-ins"),
    pytest.param("<a><b>Laurence</b", "Laurence", id="truncated-xml"),
    pytest.param("<Laurence207058575627097/>", "207058575627097", id="ins-in-element-name"),
    pytest.param("<!-- Laurence --><r/>", "Laurence", id="comment"),
]


@pytest.mark.parametrize(("raw", "leak"), BYPASSES)
def test_redact_shows_only_the_allowlist(raw: str, leak: str) -> None:
    assert leak not in redact(raw)
    assert leak not in redact(raw.encode())


def test_the_fault_code_stays_visible_its_reason_does_not() -> None:
    text = redact(_fault("Le patient Laurence est inconnu"))
    assert "<soap:Value>soap:DMPInvalidVihf</soap:Value>" in text
    assert f'<soap:Text xml:lang="fr">{REDACTED}</soap:Text>' in text


def test_an_element_with_too_many_attributes_is_not_read() -> None:
    """lxml reads attributes in quadratic time: a large document is refused by the budget, a small one's
    element is shown without reading its attributes."""
    text = redact("<r " + " ".join(f'a{index}="v"' for index in range(100_000)) + "/>")
    assert text.startswith("[not well-formed XML: ")
    assert (
        redact("<r " + " ".join(f'a{index}="v"' for index in range(1000)) + "/>")
        == "<r [1000 attributes: [redacted]]/>"
    )


def test_unparseable_input_is_summarised_not_echoed() -> None:
    text = redact("<wsse:Password>hunter2</wsse:Password> and more")
    assert text.startswith("[not well-formed XML: ")
    assert "wsse:Password" in text
    assert "hunter2" not in text


def test_a_large_message_is_cut_at_the_debug_bound() -> None:
    xml = "<r>" + "<a code='x'/>" * 20_000 + "</r>"
    text = redact(xml)
    assert len(text) < MAX_DEBUG_CHARS + 200
    assert text.endswith(f"first {MAX_DEBUG_CHARS} characters shown]")


def test_hostile_text_gives_a_short_summary() -> None:
    text = redact("a" * 1_000_000 + "<" * 1000)
    assert len(text) < 200


@given(
    secret=st.from_regex(r"[A-Za-z]{6,20}", fullmatch=True),
    element=st.sampled_from(["given", "family", "text", "Value", "LocalizedString", "streetAddressLine", "x"]),
    attribute=st.sampled_from(["value", "extension", "displayName", "title", "data-x"]),
)
def test_values_outside_the_allowlist_never_show(secret: str, element: str, attribute: str) -> None:
    xml = f"<r><{element} {attribute}='{secret}'>{secret}</{element}></r>"
    assert secret not in redact(xml).replace(f"<{element}", "").replace(f"</{element}", "")


@given(body=st.from_regex(r"[1-478][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}", fullmatch=True))
def test_an_ins_never_shows_even_in_a_shown_attribute(body: str) -> None:
    ins = make_ins(body)
    for xml in (f'<r code="{ins}"/>', f'<r root="{ins}"/>', f"<r name='x{ins}y'/>"):
        assert ins not in redact(xml)


def test_redact_headers_shows_structural_headers_only() -> None:
    headers = redact_headers(
        {
            "Authorization": "Bearer x",
            "Cookie": "s=1",
            "Content-Type": "application/soap+xml",
            "X-Patient": "PATB-QUATRE",
            "User-Agent": f"agent {INS}",
        }
    )
    assert headers == {
        "Authorization": REDACTED,
        "Cookie": REDACTED,
        "Content-Type": "application/soap+xml",
        "X-Patient": REDACTED,
        "User-Agent": REDACTED,
    }


def test_birth_dates_and_contact_details_in_attributes_are_redacted() -> None:
    from dmpclient._logging import redact  # noqa: PLC0415

    text = redact('<birthTime value="19800101"/><telecom use="H" value="mailto:laurence@example.fr"/>')
    assert "19800101" not in text
    assert "laurence@example.fr" not in text


def test_fault_messages_mask_ins_values_the_peer_echoes() -> None:
    from dmpclient.soap.envelope import read_soap  # noqa: PLC0415
    from dmpclient.soap.faults import build_fault, fault_from_message  # noqa: PLC0415

    fault = fault_from_message(
        read_soap(build_fault(code="Sender", subcode="DMPX", reason="Patient 207058575627097 inconnu"))
    )
    assert fault is not None
    assert "207058575627097" not in str(fault)
    assert "207058575627097" in fault.reason  # the raw text stays available to the caller
