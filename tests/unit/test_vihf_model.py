"""Structural conformance of the VIHF with the reference (§2.1–§2.9) and the official schemas."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import (
    REQUIRED_ATTRIBUTES,
    SECRET_CONNECTION,
    AuthMode,
    AuthnContextClass,
    PatientId,
    PurposeOfUse,
    SoftwareSigner,
    Vihf,
    VihfAttribute,
    read_assertion,
    sign_vihf,
    vihf_from_raw,
    vihf_to_element,
)
from dmpclient.security.vihf_dn import certificate_dn, same_dn
from dmpclient.security.vihf_model import ATTRIBUTE_ORDER, format_instant, parse_instant
from tests.unit.vihf_factory import NS, build, now, signer_of
from tests.xsd import assert_valid, schema

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XS = "http://www.w3.org/2001/XMLSchema"
HL7 = "urn:hl7-org:v3"


@pytest.fixture
def org_signer(pki: TestPki) -> SoftwareSigner:
    return signer_of(pki.org_sign)


def signed_root(mode: AuthMode, pki: TestPki, **options: object) -> tuple[Vihf, etree._Element]:
    signer = signer_of(pki.ps_sign if mode is AuthMode.DIRECTE else pki.org_sign)
    vihf = build(mode, signer, now(), **options)
    return vihf, etree.fromstring(sign_vihf(vihf, signer))


@pytest.mark.parametrize("mode", list(AuthMode))
def test_signed_vihf_validates_against_the_saml_and_hl7_schemas(pki: TestPki, mode: AuthMode) -> None:
    _, root = signed_root(mode, pki, confidentiality=SECRET_CONNECTION)
    assert_valid(root, "bundle/all.xsd")
    saml_only = schema("saml/saml-schema-assertion-2.0.xsd")
    saml_only.validate(root)
    leftovers = [e.message for e in saml_only.error_log if "'{urn:hl7-org:v3}CE'" not in e.message]
    assert leftovers == []  # the SAML schema alone only lacks the HL7 CE datatype


@pytest.mark.parametrize("mode", list(AuthMode))
def test_element_order_and_header(pki: TestPki, mode: AuthMode) -> None:
    _, root = signed_root(mode, pki)
    assert root.tag == "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"
    assert root.prefix == "saml2"
    assert [etree.QName(c).localname for c in root] == [
        "Issuer",
        "Signature",
        "Subject",
        "AuthnStatement",
        "AttributeStatement",
    ]
    assert root.get("Version") == "2.0"
    assert root.get("ID").startswith("_")
    assert root.find("saml2:Issuer", NS).get("Format") == "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    name_id = root.find("saml2:Subject/saml2:NameID", NS)
    assert name_id.text == "899900063480"
    assert name_id.get("Format") is None
    context = root.find("saml2:AuthnStatement/saml2:AuthnContext", NS)
    assert [etree.QName(c).localname for c in context] == (
        ["AuthnContextClassRef", "AuthnContextDecl"] if mode is AuthMode.AIR else ["AuthnContextClassRef"]
    )
    if mode is AuthMode.DIRECTE:
        assert context[0].text == AuthnContextClass.SMARTCARD_PKI
    if mode is AuthMode.AIR:
        assert context[1].text == "CONF_EXI_PGSSIS"


@pytest.mark.parametrize("mode", list(AuthMode))
def test_attribute_names_and_order(pki: TestPki, mode: AuthMode) -> None:
    _, root = signed_root(mode, pki)
    names = root.xpath("saml2:AttributeStatement/saml2:Attribute/@Name", namespaces=NS)
    expected = [
        "Identifiant_Structure",
        "Secteur_Activite",
        "urn:oasis:names:tc:xspa:1.0:subject:subject-id",
        "urn:oasis:names:tc:xacml:2.0:subject:role",
        "VIHF_Version",
        "Authentification_mode",
        "urn:oasis:names:tc:xacml:2.0:resource:resource-id",
        "Ressource_URN",
        "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse",
        "LPS_ID",
        "LPS_Nom",
        "LPS_Version",
        "LPS_ID_HOMOLOGATION_DMP",
    ]
    if mode is AuthMode.DIRECTE:
        expected.remove("urn:oasis:names:tc:xspa:1.0:subject:subject-id")
    assert names == expected
    assert set(REQUIRED_ATTRIBUTES[mode]) <= set(names)
    assert [name for name in ATTRIBUTE_ORDER if name in names] == names


def test_attribute_values(pki: TestPki) -> None:
    _, root = signed_root(AuthMode.AIR, pki)

    def values(name: VihfAttribute) -> list[etree._Element]:
        return root.findall(f"saml2:AttributeStatement/saml2:Attribute[@Name='{name}']/saml2:AttributeValue", NS)

    assert values(VihfAttribute.SECTEUR_ACTIVITE)[0].text == "SA01^1.2.250.1.71.4.2.4"
    assert values(VihfAttribute.RESOURCE_ID)[0].text == "207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert values(VihfAttribute.RESSOURCE_URN)[0].text == "urn:dmp"
    assert values(VihfAttribute.VIHF_VERSION)[0].text == "3.0"
    assert values(VihfAttribute.AUTHENTIFICATION_MODE)[0].text == "INDIRECTE_RENFORCEE"
    for node in values(VihfAttribute.LPS_NOM) + values(VihfAttribute.SUBJECT_ID):
        assert node.get(XSI_TYPE) == "xs:string"
        assert node.nsmap.get("xs") == XS
        assert len(node) == 0


def test_coded_values_are_hl7_ce_elements(pki: TestPki) -> None:
    _, root = signed_root(AuthMode.AIR, pki)
    roles = root.findall("saml2:AttributeStatement/saml2:Attribute/saml2:AttributeValue/hl7:Role", NS)
    assert [(r.get("code"), r.get("codeSystem"), r.get("codeSystemName")) for r in roles] == [
        ("10", "1.2.250.1.71.1.2.7", "professions"),
        ("SM26", "1.2.250.1.71.4.2.5", "specialites RPPS"),
    ]
    assert roles[0].get("displayName") == "Médecin"
    assert roles[1].get("displayName") == "Qualifié en médecine générale (SM)"
    purpose = root.find("saml2:AttributeStatement/saml2:Attribute/saml2:AttributeValue/hl7:PurposeOfUse", NS)
    assert dict(purpose.attrib) == {
        "code": "normal",
        "codeSystem": "1.2.250.1.213.1.1.4.248",
        "codeSystemName": "mode acces VIHF 2.0",
        "displayName": "Accès normal",
        XSI_TYPE: "CE",
    }
    for ce in [*roles, purpose]:
        assert ce.prefix is None  # <Role xmlns="urn:hl7-org:v3" xsi:type="CE">: CE resolves in hl7
        assert ce.nsmap[None] == HL7
        assert ce.getparent().get(XSI_TYPE) is None


def test_instants_are_utc_with_milliseconds(pki: TestPki) -> None:
    _, root = signed_root(AuthMode.AIR, pki)
    for value in (root.get("IssueInstant"), root.find("saml2:AuthnStatement", NS).get("AuthnInstant")):
        assert value.endswith("Z")
        assert len(value) == len("2020-08-04T07:12:16.918Z")
    assert format_instant(dt.datetime(2020, 8, 4, 7, 12, 16, 918765, tzinfo=dt.UTC)) == "2020-08-04T07:12:16.918Z"
    paris = dt.timezone(dt.timedelta(hours=2))
    assert format_instant(dt.datetime(2020, 8, 4, 9, 12, 16, 0, tzinfo=paris)) == "2020-08-04T07:12:16.000Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-08-04T07:12:16.918Z", dt.datetime(2020, 8, 4, 7, 12, 16, 918000, tzinfo=dt.UTC)),
        ("2020-10-14T22:15:49.831582Z", dt.datetime(2020, 10, 14, 22, 15, 49, 831582, tzinfo=dt.UTC)),
        ("2020-08-04T09:12:16+02:00", dt.datetime(2020, 8, 4, 7, 12, 16, tzinfo=dt.UTC)),
        ("2020-08-04T07:12:16.9Z", dt.datetime(2020, 8, 4, 7, 12, 16, 900000, tzinfo=dt.UTC)),
        ("2020-08-04T07:12:16", dt.datetime(2020, 8, 4, 7, 12, 16, tzinfo=dt.UTC)),
    ],
)
def test_parse_instant(text: str, expected: dt.datetime) -> None:
    assert parse_instant(text) == expected


def test_issuer_is_the_rfc4514_dn_of_the_signing_certificate(pki: TestPki) -> None:
    org = signer_of(pki.org_sign).certificate
    assert certificate_dn(org) == (
        "CN=CENTRE HOSPITALIER DE TEST DMPCLIENT,OU=10B0127189,O=CENTRE HOSPITALIER DE TEST DMPCLIENT,"
        "ST=Auvergne-Rhône-Alpes (69),C=FR"
    )
    card = signer_of(pki.ps_sign).certificate
    assert certificate_dn(card) == "CN=899900063480+SN=LIBRE+GN=MAX,title=Médecin,C=FR"
    assert same_dn(certificate_dn(card), card.subject)
    assert same_dn("CN=899900063480+2.5.4.4=#14054c49425245+2.5.4.42=#14034d4158,title=Médecin,C=FR", card.subject)
    assert not same_dn("OU=10B0127189,CN=CENTRE HOSPITALIER DE TEST DMPCLIENT", org.subject)


def test_read_assertion_round_trip(pki: TestPki) -> None:
    vihf, root = signed_root(AuthMode.AIR, pki, confidentiality=SECRET_CONNECTION, purpose=PurposeOfUse.CENTRE_15)
    assert vihf_from_raw(read_assertion(root)) == vihf
    assert vihf.confidentiality == SECRET_CONNECTION
    confidentiality = root.find(
        f"saml2:AttributeStatement/saml2:Attribute[@Name='{VihfAttribute.CONFIDENTIALITY_CODE}']"
        "/saml2:AttributeValue/hl7:ConfidentialityCode",
        NS,
    )
    assert confidentiality.get("code") == "INVISIBLE_REPRESENTANTS_LEGAUX"


def test_legacy_confidentiality_name_is_read(org_signer: SoftwareSigner) -> None:
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now(), confidentiality=SECRET_CONNECTION))
    node = element.find(f"saml2:AttributeStatement/saml2:Attribute[@Name='{VihfAttribute.CONFIDENTIALITY_CODE}']", NS)
    node.set("Name", "Confidentiality_code")
    assert vihf_from_raw(read_assertion(element)).confidentiality == SECRET_CONNECTION


def test_patient_repr_masks_the_ins(org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.AIR, org_signer, now())
    assert "207058575627097" not in repr(vihf.patient)
    assert "207058575627097" not in repr(vihf)
    assert vihf.profession.code == "10"
    assert vihf.savoir_faire is not None
    assert vihf.savoir_faire.code == "SM26"


def test_patient_str_masks_the_ins() -> None:
    patient = PatientId.from_cx("207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH")
    assert (patient.ins, patient.oid) == ("207058575627097", "1.2.250.1.213.1.4.10")
    assert "207058575627097" not in str(patient)
    assert "207058575627097" not in f"{patient!r}"
