"""Envelope core: build a request around a ~4 KB signed VIHF, read a response.

Baseline, same run: lxml ``fromstring`` + ``tostring`` of the very bytes produced / read, i.e. one
parse-and-serialise round trip of the message. Splicing the assertion and the body at the byte level
should keep building well under that; reading adds the hardened parser's checks and header extraction.
"""

from __future__ import annotations

import base64
import os

from lxml import etree

from benchmarks._harness import Result, median_seconds
from dmpclient.soap.envelope import build_request, build_response, read_soap

_ACTION = "urn:ihe:iti:2007:RegistryStoredQuery"
_MESSAGE_ID = "urn:uuid:0b5f5f53-3bd2-4a5c-9a49-1b0d6f8a3c11"


def _assertion() -> bytes:
    """A signed-looking VIHF of about 4 KB (signature value and certificate are random base64)."""
    certificate = base64.b64encode(os.urandom(1700)).decode()
    signature = base64.b64encode(os.urandom(256)).decode()
    attributes = "".join(
        f'<saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:{name}">'
        f"<saml2:AttributeValue>{value}</saml2:AttributeValue></saml2:Attribute>"
        for name, value in [
            ("subject-id", "Dr Test"),
            ("organization", "Clinique de test"),
            ("organization-id", "10B0127189"),
            ("purposeofuse", "NORMAL"),
        ]
    )
    return (
        '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_b1" '
        'IssueInstant="2025-03-01T10:00:00Z" Version="2.0">'
        "<saml2:Issuer>CN=10B0127189,OU=10B0127189</saml2:Issuer>"
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        '<ds:Reference URI="#_b1"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        "<ds:DigestValue>cgd5z1JCatHZIgScNAe2RE+Kra3vW8imHRZK4QQTcbw=</ds:DigestValue></ds:Reference>"
        f"</ds:SignedInfo><ds:SignatureValue>{signature}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>"
        f"<ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"
        f"<saml2:Subject><saml2:NameID>899700000001</saml2:NameID></saml2:Subject>"
        f"<saml2:AttributeStatement>{attributes}</saml2:AttributeStatement></saml2:Assertion>"
    ).encode()


def _query() -> etree._Element:
    return etree.fromstring(
        b'<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        b'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">'
        b'<query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>'
        b'<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"/></query:AdhocQueryRequest>'
    )


def _query_response(entries: int) -> etree._Element:
    """An ITI-18 response with ``entries`` ExtrinsicObjects carrying a few slots each."""
    rim = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
    objects = "".join(
        f'<rim:ExtrinsicObject id="urn:uuid:00000000-0000-4000-8000-{i:012d}" mimeType="text/xml">'
        + "".join(
            f'<rim:Slot name="slot{k}"><rim:ValueList><rim:Value>value {k}</rim:Value></rim:ValueList></rim:Slot>'
            for k in range(6)
        )
        + "</rim:ExtrinsicObject>"
        for i in range(entries)
    )
    return etree.fromstring(
        '<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        f'xmlns:rim="{rim}" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success">'
        f"<rim:RegistryObjectList>{objects}</rim:RegistryObjectList></query:AdhocQueryResponse>"
    )


def _round_trip(data: bytes) -> bytes:
    return etree.tostring(etree.fromstring(data), encoding="utf-8")


def run(quick: bool) -> list[Result]:
    """Per-call medians of build_request and read_soap, each against a parse+serialise of the same bytes."""
    repeat, number = (5, 200) if quick else (9, 2000)
    assertion, body = _assertion(), _query()
    request = build_request(body, action=_ACTION, message_id=_MESSAGE_ID, assertion=assertion)
    response = build_response(
        _query_response(10), action=_ACTION + "Response", relates_to=_MESSAGE_ID, message_id=_MESSAGE_ID
    )

    def build() -> bytes:
        return build_request(body, action=_ACTION, message_id=_MESSAGE_ID, assertion=assertion)

    build_s = median_seconds(build, repeat=repeat, number=number)
    build_base = median_seconds(lambda: _round_trip(request), repeat=repeat, number=number)
    read_s = median_seconds(lambda: read_soap(response), repeat=repeat, number=number)
    read_base = median_seconds(lambda: _round_trip(response), repeat=repeat, number=number)
    baseline = "lxml fromstring+tostring of the same bytes"
    return [
        Result(
            f"envelope.build_request ({len(assertion) / 1024:.1f} KB VIHF, {len(request)} B out)",
            build_s * 1e6,
            "us/call",
            baseline,
            build_base * 1e6,
            "< 1x",
        ),
        Result(
            f"envelope.read_soap (ITI-18 response, {len(response)} B)",
            read_s * 1e6,
            "us/call",
            baseline,
            read_base * 1e6,
            "< 1.5x",
        ),
    ]
