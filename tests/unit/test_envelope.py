"""SOAP 1.2 envelopes: XSD validity, byte-exact VIHF grafting, round trips and real captures."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import NS, parse_untrusted
from dmpclient.errors import DmpProtocolError, DmpValidationError
from dmpclient.security.pki import TestPki
from dmpclient.soap.envelope import (
    ANONYMOUS,
    MustUnderstandStyle,
    SoapMessage,
    build_request,
    build_response,
    new_message_id,
    parse_envelope,
    read_soap,
)
from dmpclient.soap.request import prepare_request
from tests.conftest import FIXTURES
from tests.xsd import assert_valid

SOAP = NS["soap"]
WSA = NS["wsa"]
SAML = NS["saml2"]
ACTION = "urn:ihe:iti:2007:RegistryStoredQuery"
MESSAGE_ID = "urn:uuid:0b5f5f53-3bd2-4a5c-9a49-1b0d6f8a3c11"
ENDPOINT = "https://lps.dev1.dmp.gouv.fr/si-dmp-server/v2/services/registry"

#: Signed-looking VIHF: signature in the default ds namespace, indentation, non-ASCII, HL7 xsi:type.
ASSERTION = """<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_9d1c1c1e" IssueInstant="2025-03-01T10:00:00Z" Version="2.0">
  <saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    >CN=10B0127189,OU=10B0127189,O=Clinique Éole</saml2:Issuer>
  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
    <SignedInfo>
      <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
      <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
      <Reference URI="#_9d1c1c1e">
        <Transforms>
          <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
          <Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
        </Transforms>
        <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <DigestValue>cgd5z1JCatHZIgScNAe2RE+Kra3vW8imHRZK4QQTcbw=</DigestValue>
      </Reference>
    </SignedInfo>
    <SignatureValue>PKTS4/EmLGWMS3nMHwIX+2Z2/wvIkTNGX//ms7z9C9A7YbLE4ew3F5TFX9noKHj8Ho7f9bLsJi52QeQoW028Ow==</SignatureValue>
  </Signature>
  <saml2:Subject><saml2:NameID>899700000001 Dr Éloïse Test</saml2:NameID></saml2:Subject>
  <saml2:AttributeStatement>
    <saml2:Attribute Name="urn:oasis:names:tc:xacml:2.0:subject:role">
      <saml2:AttributeValue
        ><Role xmlns="urn:hl7-org:v3" xsi:type="CE" code="10" codeSystem="1.2.250.1.71.1.2.7"/></saml2:AttributeValue>
    </saml2:Attribute>
  </saml2:AttributeStatement>
</saml2:Assertion>""".encode()
#: The same without HL7 ``xsi:type``, for the single-spec schemas that do not know HL7 types (catalog.md).
PLAIN_ASSERTION = ASSERTION.replace(b' xsi:type="CE"', b"")


def query_body() -> etree._Element:
    """A schema-valid ITI-18 request body (fictitious values)."""
    return etree.fromstring(
        b'<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        b'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">'
        b'<query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>'
        b'<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">'
        b'<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList>'
        b"<rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value>"
        b"</rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>"
    )


def request(**overrides: object) -> bytes:
    args: dict[str, object] = {"action": ACTION, "message_id": MESSAGE_ID, "to": ENDPOINT, "assertion": ASSERTION}
    args.update(overrides)
    return build_request(query_body(), **args)  # type: ignore[arg-type]


def c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def header_children(xml: bytes) -> list[etree._Element]:
    header = etree.fromstring(xml).find(f"{{{SOAP}}}Header")
    assert header is not None
    return list(header)


# --- shape and schema validity -------------------------------------------------------------------


def test_request_headers_in_the_documented_order() -> None:
    names = [etree.QName(child).localname for child in header_children(request())]
    assert names == ["MessageID", "To", "ReplyTo", "Action", "Security"]


def test_soap_style_request_validates_part_by_part_and_as_a_whole() -> None:
    xml = request(must_understand=MustUnderstandStyle.SOAP, assertion=PLAIN_ASSERTION)
    assert_valid(xml, "soap12/soap-1.2-envelope.xsd")
    for child in header_children(xml):
        if etree.QName(child).namespace == WSA:
            assert_valid(child, "wsa/ws-addr.xsd")
        else:
            assert_valid(child, "wss/oasis-200401-wss-wssecurity-secext-1.0.xsd")
    assert_valid(request(must_understand=MustUnderstandStyle.SOAP), "bundle/all.xsd")


def test_official_unprefixed_must_understand_is_the_default() -> None:
    """The DMP examples write mustUnderstand in no namespace; ws-addr.xsd forbids that attribute.

    This pins the known deviation: the envelope is SOAP-valid, and only those attributes break the
    WS-Addressing schema (the whole message validates once they are dropped).
    """
    root = etree.fromstring(request())
    marked = [el for el in root.iter() if "mustUnderstand" in el.attrib]
    assert [etree.QName(el).localname for el in marked] == ["ReplyTo", "Action"]
    assert all(el.get("mustUnderstand") == "true" for el in marked)
    assert_valid(request(assertion=PLAIN_ASSERTION), "soap12/soap-1.2-envelope.xsd")
    with pytest.raises(AssertionError, match="mustUnderstand"):
        assert_valid(marked[1], "wsa/ws-addr.xsd")
    for el in marked:
        del el.attrib["mustUnderstand"]
    assert_valid(root, "bundle/all.xsd")


def test_soap_must_understand_is_in_the_envelope_namespace() -> None:
    root = etree.fromstring(request(must_understand=MustUnderstandStyle.SOAP))
    marked = [el for el in root.iter() if f"{{{SOAP}}}mustUnderstand" in el.attrib]
    assert [etree.QName(el).localname for el in marked] == ["ReplyTo", "Action"]
    assert not any("mustUnderstand" in el.attrib for el in root.iter())


def test_reply_to_is_anonymous_and_optional() -> None:
    root = etree.fromstring(request())
    assert root.findtext("soap:Header/wsa:ReplyTo/wsa:Address", namespaces=NS) == ANONYMOUS
    names = [etree.QName(c).localname for c in header_children(request(reply_to=False))]
    assert names == ["MessageID", "To", "Action", "Security"]


def test_empty_to_is_sent_as_in_the_official_examples() -> None:
    xml = request(to="")
    assert b"<wsa:To></wsa:To>" in xml
    assert read_soap(xml).to == ""


def test_no_assertion_means_no_security_header_nor_namespace() -> None:
    xml = request(assertion=None)
    assert b"wsse" not in xml
    assert [etree.QName(c).localname for c in header_children(xml)] == ["MessageID", "To", "ReplyTo", "Action"]
    assert read_soap(xml).security is None


def test_output_is_utf8_without_declaration() -> None:
    body = etree.fromstring('<note xmlns="urn:x">Électrocardiogramme</note>'.encode())
    xml = build_request(body, action=ACTION, message_id=MESSAGE_ID)
    assert xml.startswith(b"<soap:Envelope ")
    assert "Électrocardiogramme".encode() in xml
    assert b"&#" not in xml


def test_caller_body_is_neither_moved_nor_changed() -> None:
    container = etree.fromstring(b'<c xmlns:q="urn:q"><q:b a="1">x</q:b>tail</c>')
    body = container[0]
    before = etree.tostring(container)
    xml = build_request(body, action=ACTION, message_id=MESSAGE_ID)
    assert body.getparent() is container
    assert etree.tostring(container) == before
    parsed = read_soap(xml).body
    assert parsed is not None
    assert c14n(parsed) == c14n(body)
    assert parsed.tail is None


def test_header_values_are_escaped() -> None:
    xml = build_request(query_body(), action='urn:a&b<c>"d"', message_id="urn:uuid:é", to="https://h/?a=1&b=2")
    msg = read_soap(xml)
    assert (msg.action, msg.message_id, msg.to) == ('urn:a&b<c>"d"', "urn:uuid:é", "https://h/?a=1&b=2")


@pytest.mark.parametrize("bad", ["urn:\x00", "urn:\x01x", "urn:\ufffe"])
def test_values_xml_cannot_carry_are_refused(bad: str) -> None:
    with pytest.raises(DmpValidationError) as info:
        build_request(query_body(), action=bad, message_id=MESSAGE_ID)
    assert info.value.field == "action"


def test_new_message_id_is_a_fresh_uuid4_urn() -> None:
    first, second = new_message_id(), new_message_id()
    assert first != second
    assert first.startswith("urn:uuid:")
    assert uuid.UUID(first.removeprefix("urn:uuid:")).version == 4


# --- byte-exact grafting --------------------------------------------------------------------------


def test_assertion_bytes_appear_verbatim_inside_security() -> None:
    xml = request()
    assert xml.count(ASSERTION) == 1
    start = xml.index(ASSERTION)
    assert xml[:start].endswith(b"<wsse:Security>")
    assert xml[start + len(ASSERTION) :].startswith(b"</wsse:Security>")


def test_grafted_assertion_canonicalises_as_the_standalone_one() -> None:
    """What a verifier digests (exclusive c14n) is unchanged by the envelope around it."""
    msg = read_soap(request())
    assert msg.assertion is not None
    assert c14n(msg.assertion) == c14n(etree.fromstring(ASSERTION))
    assert msg.assertion.get("ID") == "_9d1c1c1e"


@pytest.mark.parametrize(
    "wrapped",
    [
        b'<?xml version="1.0" encoding="UTF-8"?>\n' + ASSERTION + b"\n",
        b"<?xml version='1.0'?>" + ASSERTION,
        b"\xef\xbb\xbf<?xml version=\"1.0\" encoding='utf-8' standalone='yes'?>\r\n" + ASSERTION,
        b"  \n" + ASSERTION + b"  ",
    ],
)
def test_declaration_bom_and_outer_whitespace_are_dropped(wrapped: bytes) -> None:
    xml = request(assertion=wrapped)
    assert b"<wsse:Security>" + ASSERTION + b"</wsse:Security>" in xml
    assert xml.count(b"<?xml") == 0


@pytest.mark.parametrize(
    "bad",
    [
        b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>',
        b"not xml",
        b"",
        b"<!-- comment --><a/>",
        b"<?pi x?><a/>",
        b"<a",
    ],
)
def test_assertion_that_cannot_be_grafted_is_refused(bad: bytes) -> None:
    with pytest.raises(DmpValidationError) as info:
        request(assertion=bad)
    assert info.value.field == "assertion"


def test_grafting_is_robust_to_colliding_prefixes() -> None:
    """Prefixes soap/wsse rebound inside the assertion, and a literal ``<soap:Body/>`` in it."""
    odd = (
        b'<wsse:Assertion xmlns:wsse="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:soap="urn:other" '
        b'ID="_x" Version="2.0" IssueInstant="2025-01-01T00:00:00Z"><wsse:Issuer>i</wsse:Issuer>'
        b"<wsse:Advice><soap:Body/></wsse:Advice></wsse:Assertion>"
    )
    xml = request(assertion=odd)
    assert odd in xml
    msg = read_soap(xml)
    assert msg.assertion is not None
    assert c14n(msg.assertion) == c14n(etree.fromstring(odd))
    assert msg.body is not None
    assert etree.QName(msg.body).localname == "AdhocQueryRequest"
    assert all("mustUnderstand" in warning for warning in msg.warnings)  # only the official unprefixed form


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed")
def test_signature_made_standalone_still_verifies_inside_the_envelope(pki: TestPki, tmp_path: Path) -> None:
    """Independent oracle: xmlsec1 signs the assertion alone and verifies it in the built envelope."""
    template = ASSERTION.replace(b"cgd5z1JCatHZIgScNAe2RE+Kra3vW8imHRZK4QQTcbw=", b"").replace(
        b"PKTS4/EmLGWMS3nMHwIX+2Z2/wvIkTNGX//ms7z9C9A7YbLE4ew3F5TFX9noKHj8Ho7f9bLsJi52QeQoW028Ow==", b""
    )
    (tmp_path / "template.xml").write_bytes(template)
    signer = x509.load_pem_x509_certificates(pki.org_sign.cert.read_bytes())[0]
    (tmp_path / "signer.pem").write_bytes(signer.public_bytes(serialization.Encoding.PEM))
    id_attr = "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
    subprocess.run(
        ["xmlsec1", "--sign", "--privkey-pem", str(pki.org_sign.key), *id_attr,
         "--output", str(tmp_path / "signed.xml"), str(tmp_path / "template.xml")],
        check=True, capture_output=True,
    )  # fmt: skip
    signed = (tmp_path / "signed.xml").read_bytes()
    assert signed.startswith(b"<?xml")

    def verifies(document: bytes) -> bool:
        (tmp_path / "message.xml").write_bytes(document)
        command = ["xmlsec1", "--verify", "--pubkey-cert-pem", str(tmp_path / "signer.pem"), *id_attr]
        return (
            subprocess.run([*command, str(tmp_path / "message.xml")], check=False, capture_output=True).returncode == 0
        )

    message = request(assertion=signed)
    assert verifies(message)
    assert not verifies(message.replace(b"OU=10B0127189", b"OU=10B0127180", 1))


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("style", list(MustUnderstandStyle))
def test_request_round_trip(style: MustUnderstandStyle) -> None:
    msg = read_soap(request(must_understand=style))
    assert (msg.action, msg.message_id, msg.to, msg.relates_to) == (ACTION, MESSAGE_ID, ENDPOINT, None)
    assert msg.soap_version == "1.2"
    unqualified = style is MustUnderstandStyle.UNPREFIXED
    assert msg.warnings == (
        ("unqualified mustUnderstand on ReplyTo, Action (official DMP form; SOAP 1.2 expects soap:mustUnderstand)",)
        if unqualified
        else ()
    )
    assert msg.body is not None
    assert c14n(msg.body) == c14n(query_body())
    assert msg.security is not None
    assert etree.QName(msg.security).localname == "Security"


def test_response_round_trip_and_validity() -> None:
    body = etree.fromstring(
        b'<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" '
        b'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>'
    )
    xml = build_response(body, action=ACTION + "Response", relates_to=MESSAGE_ID, message_id="urn:uuid:2")
    assert_valid(xml, "bundle/all.xsd")
    for child in header_children(xml):
        assert_valid(child, "wsa/ws-addr.xsd")
    msg = read_soap(xml)
    assert (msg.action, msg.relates_to, msg.message_id, msg.to) == (
        ACTION + "Response",
        MESSAGE_ID,
        "urn:uuid:2",
        ANONYMOUS,
    )
    assert [etree.QName(c).localname for c in header_children(xml)] == ["Action", "MessageID", "To", "RelatesTo"]
    assert not [c for c in header_children(xml) if any("mustUnderstand" in name for name in c.attrib)]


def test_response_without_ids_omits_those_headers() -> None:
    xml = build_response(query_body(), action="urn:a", relates_to=None, message_id=None)
    assert [etree.QName(c).localname for c in header_children(xml)] == ["Action", "To"]
    msg = read_soap(xml)
    assert (msg.message_id, msg.relates_to) == (None, None)


#: XML 1.0 characters (no surrogates, no non-characters, no C0 controls except tab/LF/CR).
XML_TEXT = st.text(
    st.sampled_from("\t\n\r") | st.characters(min_codepoint=0x20, codec="utf-8", exclude_characters="\ufffe\uffff"),
    max_size=60,
)


@given(action=XML_TEXT, message_id=XML_TEXT, to=XML_TEXT)
def test_header_values_round_trip(action: str, message_id: str, to: str) -> None:
    msg = read_soap(build_request(query_body(), action=action, message_id=message_id, to=to, assertion=ASSERTION))
    stripped = [value.strip(" \t\r\n") for value in (action, message_id, to)]
    assert [msg.action, msg.message_id, msg.to] == stripped


@given(relates_to=XML_TEXT, message_id=XML_TEXT)
def test_response_ids_round_trip(relates_to: str, message_id: str) -> None:
    msg = read_soap(build_response(query_body(), action="urn:a", relates_to=relates_to, message_id=message_id))
    assert (msg.relates_to, msg.message_id) == (relates_to.strip(" \t\r\n"), message_id.strip(" \t\r\n"))


# --- reading: liberal but not credulous -----------------------------------------------------------


def envelope(headers: str = "", body: str = "<x:b xmlns:x='urn:x'/>", ns: str = SOAP) -> bytes:
    return (
        f'<e:Envelope xmlns:e="{ns}" xmlns:wsa="{WSA}"><e:Header>{headers}</e:Header><e:Body>{body}</e:Body>'
        "</e:Envelope>"
    ).encode()


def test_both_must_understand_forms_and_default_namespace_headers_are_read() -> None:
    headers = (
        '<wsa:Action mustUnderstand="true">urn:one</wsa:Action>'
        f'<MessageID xmlns="{WSA}" e:mustUnderstand="1">  urn:uuid:m \n</MessageID>'
        f'<RelatesTo xmlns="{WSA}">urn:uuid:r</RelatesTo>'
    )
    msg = read_soap(envelope(headers))
    assert (msg.action, msg.message_id, msg.relates_to) == ("urn:one", "urn:uuid:m", "urn:uuid:r")


def test_duplicates_extra_body_elements_and_unknown_headers_are_noted() -> None:
    headers = (
        f"<wsa:Action>urn:first</wsa:Action><wsa:Action>urn:second</wsa:Action><!-- c --><other xmlns='urn:o'/>"
        f"<s:Security xmlns:s='{NS['wsse']}'/><s:Security xmlns:s='{NS['wsse']}'/>"
    )
    msg = read_soap(envelope(headers, body="<!-- c --><a/><b/>"))
    assert msg.action == "urn:first"
    assert msg.body is not None
    assert msg.body.tag == "a"
    assert msg.warnings == (
        "duplicate Action header ignored",
        "duplicate wsse:Security header ignored",
        "soap:Body holds 2 elements; only the first is read",
    )


def test_wrong_namespace_wsa_headers_are_not_mistaken() -> None:
    msg = read_soap(envelope("<Action>urn:unqualified</Action><a:Action xmlns:a='urn:other'>urn:x</a:Action>"))
    assert msg.action is None


def test_envelope_without_header_and_empty_body() -> None:
    msg = read_soap(f'<e:Envelope xmlns:e="{SOAP}"><e:Body> </e:Body></e:Envelope>'.encode())
    assert msg.body is None
    assert (msg.action, msg.security, msg.assertion) == (None, None, None)


def test_soap11_is_refused_unless_allowed() -> None:
    xml = envelope("<wsa:Action>urn:a</wsa:Action>", ns=NS["soap11"])
    with pytest.raises(DmpProtocolError, match=r"SOAP 1\.1"):
        read_soap(xml)
    msg = read_soap(xml, allow_soap11=True)
    assert (msg.soap_version, msg.action) == ("1.1", "urn:a")
    assert msg.body is not None
    assert msg.warnings == ("SOAP 1.1 envelope accepted; the DMP uses SOAP 1.2",)


@pytest.mark.parametrize(
    "xml",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        f'<e:Message xmlns:e="{SOAP}"><e:Body/></e:Message>'.encode(),
        b"<Envelope><Body/></Envelope>",
    ],
)
def test_non_soap_documents_are_protocol_errors(xml: bytes) -> None:
    with pytest.raises(DmpProtocolError, match=r"expected a SOAP 1\.2 envelope"):
        read_soap(xml)


def test_envelope_without_body_is_a_protocol_error() -> None:
    with pytest.raises(DmpProtocolError, match=r"no .*Body"):
        read_soap(f'<e:Envelope xmlns:e="{SOAP}"><e:Header/></e:Envelope>'.encode())


def test_several_assertions_are_refused_when_asked_for_the_vihf() -> None:
    assertions = f"<s:Security xmlns:s='{NS['wsse']}'>" + 2 * ASSERTION.decode() + "</s:Security>"
    msg = read_soap(envelope(assertions))
    assert msg.security is not None
    with pytest.raises(DmpProtocolError, match="2 SAML assertions"):
        _ = msg.assertion


def test_parse_envelope_accepts_an_already_parsed_root() -> None:
    root = parse_untrusted(request())
    msg = parse_envelope(root)
    assert isinstance(msg, SoapMessage)
    assert msg.envelope is root
    assert msg.action == ACTION


# --- real captures (eHealth Suisse, CC0) ----------------------------------------------------------


def sample(name: str) -> SoapMessage:
    return read_soap((FIXTURES / name).read_bytes())


def test_iti18_request_capture() -> None:
    msg = sample("samples/ITI-18_request_raw.xml")
    assert msg.action == "urn:ihe:iti:2007:RegistryStoredQuery"
    assert msg.message_id == "urn:uuid:31D7E4B5-C117-481E-9EE1-F32849E81BF8"
    assert msg.to == "https://epd-test.ith-icoserve.com:7443/Registry/services/RegistryService"
    assert msg.assertion is not None
    assert msg.assertion.get("ID") == "_ffb617d7-4529-4c00-9a23-3c02a398d6fd"
    assert msg.body is not None
    assert msg.body.tag == f"{{{NS['query']}}}AdhocQueryRequest"
    assert msg.warnings == ()


def test_iti18_response_capture() -> None:
    msg = sample("samples/ITI-18_response_raw.xml")
    assert msg.action == "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    assert msg.relates_to == "urn:uuid:a8313b99-aad5-4880-94d2-4b02197cb650"
    assert (msg.message_id, msg.to, msg.security) == (None, None, None)
    assert msg.body is not None
    assert msg.body.tag == f"{{{NS['query']}}}AdhocQueryResponse"


def test_iti41_response_with_default_namespace_headers() -> None:
    msg = sample("samples/ITI-41_response.xml")
    assert msg.action == "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
    assert msg.message_id == "urn:uuid:3dbfa2b7-3cd6-46b3-b642-9569bb3b43fb"
    assert msg.to == ANONYMOUS
    assert msg.relates_to == "d22ebb69-8368-4eb6-929b-b382f1b37c72"
    assert msg.body is not None
    assert msg.body.tag == f"{{{NS['rs']}}}RegistryResponse"


def test_iti43_request_and_response_captures_relate() -> None:
    req = sample("samples/ITI-43_request_raw.xml")
    resp = sample("samples/ITI-43_response_raw.xml")
    assert req.action == "urn:ihe:iti:2007:RetrieveDocumentSet"
    assert req.message_id == "urn:uuid:1EB10F67-6562-46D5-9B6B-5DC42EB2B4A6"
    assert req.assertion is not None
    assert req.assertion.get("ID") == "_5316abb1-becd-4b5e-bcd0-591f4978247a"
    assert resp.action == "urn:ihe:iti:2007:RetrieveDocumentSetResponse"
    assert resp.relates_to == req.message_id
    assert resp.body is not None
    assert resp.body.tag == f"{{{NS['xdsb']}}}RetrieveDocumentSetResponse"


def test_wstrust_envelope_without_header() -> None:
    """assertion_only.xml is a SOAP 1.2 WS-Trust response: the assertion is in the body, not the header."""
    msg = sample("XUA_samples/assertion_only.xml")
    assert (msg.action, msg.message_id, msg.security, msg.assertion) == (None, None, None, None)
    assert msg.body is not None
    assert msg.body.tag == "{http://docs.oasis-open.org/ws-sx/ws-trust/200512}RequestSecurityTokenResponseCollection"
    lifted = msg.body.find(f".//{{{SAML}}}Assertion")
    assert lifted is not None
    assert lifted.get("ID") == "Id-1E0B3B40-0E6A-11EB-BC87-001C42B2D956"


def test_a_prepared_request_shows_no_assertion_no_patient_and_no_token() -> None:
    """Its repr lands in tracebacks and test reports: the signed VIHF, the INS and a PSC Bearer stay out."""
    body = etree.Element("{urn:hl7-org:v3}PRPA_IN201307UV02")
    etree.SubElement(body, "{urn:hl7-org:v3}id", extension="207058575627097")
    prepared = prepare_request(
        url="https://dmp.example/si-dmp-server/v2/services/patients",
        service="patients",
        td="TD0.2",
        action="urn:hl7-org:v3:PRPA_IN201307UV02",
        body=body,
        message_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        assertion=b"<a:Assertion xmlns:a='urn:oasis:names:tc:SAML:2.0:assertion' ID='_a'>SIGNED</a:Assertion>",
        idempotent=True,
        extra_headers={"Authorization": "Bearer eyJ.secret.token"},
    )
    assert b"SIGNED" in prepared.envelope  # the assertion is there, only not shown
    shown = repr(prepared)
    assert "TD0.2" in shown
    for secret in ("SIGNED", "207058575627097", "eyJ.secret.token"):
        assert secret not in shown
