"""The MTOM decoder on real captures (eHealth Suisse projectathon, Apache CXF; see fixtures README).

ITI-41_request_raw.xml has a Content-Type boundary that does not match the body, a ``start`` naming no
part, LF line endings, text after the close delimiter and a percent-encoded ``cid:`` href.
ITI-41_response_raw.xml is a single-part MTOM response with LF line endings.
"""

from __future__ import annotations

import base64
import json

import pytest
from lxml import etree

from dmpclient._xml import NS, parse_untrusted
from dmpclient.errors import DmpProtocolError
from dmpclient.soap.mtom import (
    MtomDecoded,
    MtomDecoder,
    OutgoingPart,
    decode,
    encode,
    inline_xop,
    is_multipart,
    xop_href,
)
from tests.conftest import FIXTURES
from tests.xsd import assert_valid, schema

SAMPLES = FIXTURES / "samples"
FHIR_CID = "8ba22b9e-fcff-49d8-945e-438a11f25b0f-1@urn:ihe:iti:xds-b:2007"
PNR = "{urn:ihe:iti:xds-b:2007}ProvideAndRegisterDocumentSetRequest"


def split_http_capture(raw: bytes) -> tuple[dict[str, str], bytes]:
    """Cut a capture (log lines, request or status line, headers, blank line, body) into headers and body."""
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    end, sep_len = (crlf, 4) if crlf >= 0 and (lf < 0 or crlf < lf) else (lf, 2)
    lines = raw[:end].decode("utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(("POST ", "GET ", "HTTP/")))
    headers = {}
    for line in lines[first + 1 :]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, raw[end + sep_len :]


def capture(name: str) -> tuple[str, bytes]:
    headers, body = split_http_capture((SAMPLES / name).read_bytes())
    return headers["content-type"], body


def recover(xml: bytes) -> etree._Element:
    """The ITI-41 root part uses an undeclared ``wsse`` prefix (pasted assertion): parse it leniently, tests only."""
    return etree.fromstring(xml, etree.XMLParser(recover=True, no_network=True, resolve_entities=False))


@pytest.fixture
def iti41_request() -> MtomDecoded:
    content_type, body = capture("ITI-41_request_raw.xml")
    return decode(content_type, body)


def test_iti41_request_is_decoded_despite_its_quirks(iti41_request: MtomDecoded) -> None:
    decoded = iti41_request
    assert decoded.root_content_type == 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
    assert decoded.root_xml.lstrip().startswith(b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">')
    assert decoded.root_xml.rstrip().endswith(b"</soap:Envelope>")
    assert list(decoded.attachments) == [FHIR_CID]
    boundary_warning, start_warning = decoded.warnings
    assert "MIMEBoundary_05b39a33" in boundary_warning
    assert "uuid:df997b05-d075-415b-9cc8-0f68c74cd993" in boundary_warning
    assert "0.15b39a33" in start_warning


def test_iti41_root_part_parses_and_its_href_resolves_to_the_fhir_document(iti41_request: MtomDecoded) -> None:
    envelope = recover(iti41_request.root_xml)
    assert envelope.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope"
    (include,) = envelope.iterfind(".//xop:Include", NS)
    href = include.get("href", "")
    assert href == "cid:8ba22b9e-fcff-49d8-945e-438a11f25b0f-1@urn%3Aihe%3Aiti%3Axds-b%3A2007"
    assert href == xop_href(FHIR_CID)  # our encoder writes the href exactly as CXF does
    attachment = iti41_request.attachment_for_href(href)
    assert attachment.content_type == "application/fhir+json"
    text = attachment.read_bytes().decode("utf-8")
    assert json.loads(text)["resourceType"] == "Bundle"
    assert not text.isascii()
    assert attachment.size == len(attachment.read_bytes())


@pytest.mark.parametrize("chunk_size", [1, 7, 100, 4096])
def test_iti41_request_fed_in_chunks_gives_the_same_result(iti41_request: MtomDecoded, chunk_size: int) -> None:
    content_type, body = capture("ITI-41_request_raw.xml")
    decoder = MtomDecoder(content_type, spool_threshold=1000)
    for start in range(0, len(body), chunk_size):
        decoder.feed(body[start : start + chunk_size])
    with decoder.close() as decoded:
        assert decoded.root_xml == iti41_request.root_xml
        assert decoded.warnings == iti41_request.warnings
        assert decoded.attachments[FHIR_CID].path is not None
        assert decoded.attachments[FHIR_CID].read_bytes() == iti41_request.attachments[FHIR_CID].read_bytes()


def test_iti41_request_validates_against_the_repository_xsd_after_xop_decoding(iti41_request: MtomDecoded) -> None:
    request = recover(iti41_request.root_xml).find(f".//{PNR}")
    assert request is not None
    assert not schema("ihe/XDS.b_DocumentRepository.xsd").validate(request)  # xop:Include in xs:base64Binary
    inline_xop(request, iti41_request)
    assert_valid(request, "ihe/XDS.b_DocumentRepository.xsd")
    document = request.find("xdsb:Document", NS)
    assert document is not None
    assert base64.b64decode(document.text or "") == iti41_request.attachments[FHIR_CID].read_bytes()


def test_iti41_request_survives_our_encoder(iti41_request: MtomDecoded) -> None:
    fhir = iti41_request.attachments[FHIR_CID]
    message = encode(
        iti41_request.root_xml,
        [OutgoingPart(FHIR_CID, fhir.read_bytes(), fhir.content_type)],
        action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
    )
    with decode(message.content_type, message.iter_bytes(chunk_size=1000)) as decoded:
        assert decoded.root_xml == iti41_request.root_xml
        assert decoded.warnings == ()
        (include,) = recover(decoded.root_xml).iterfind(".//xop:Include", NS)
        assert decoded.attachment_for_href(include.get("href", "")).read_bytes() == fhir.read_bytes()


def test_iti41_response_is_a_single_part_with_lf_endings() -> None:
    content_type, body = capture("ITI-41_response_raw.xml")
    assert is_multipart(content_type)
    assert b"\r\n" not in body
    with decode(content_type, body) as decoded:
        assert decoded.attachments == {}
        assert decoded.warnings == ()
        envelope = parse_untrusted(decoded.root_xml)
    assert envelope.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope"
    response = envelope.find("soap:Body/rs:RegistryResponse", NS)
    assert response is not None
    assert response.get("status") == "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    assert_valid(response, "ebrs30/rs.xsd")


def test_iti43_response_without_mime_wrapper_is_plain_soap() -> None:
    xml = (SAMPLES / "ITI-43_response_raw.xml").read_bytes()
    assert not is_multipart("application/soap+xml; charset=UTF-8")
    with pytest.raises(DmpProtocolError, match="expected a multipart/related"):
        decode("application/soap+xml; charset=UTF-8", xml)
    (include,) = parse_untrusted(xml).iterfind(".//xop:Include", NS)
    with pytest.raises(DmpProtocolError, match="72f7c587"):
        MtomDecoded(xml, "application/soap+xml", {}).attachment_for_href(include.get("href", ""))
