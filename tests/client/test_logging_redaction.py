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
from dmpclient._logging import REDACTED, redact, redact_headers
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


def test_redact_keeps_what_is_useful_for_debugging() -> None:
    xml = '<wsa:Action>urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action><rim:Slot name="$XDSDocumentEntryStatus"/>'
    assert redact(xml) == xml


def test_redact_headers_blanks_credentials_only() -> None:
    headers = redact_headers({"Authorization": "Bearer x", "Cookie": "s=1", "Content-Type": "application/soap+xml"})
    assert headers == {"Authorization": REDACTED, "Cookie": REDACTED, "Content-Type": "application/soap+xml"}


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
