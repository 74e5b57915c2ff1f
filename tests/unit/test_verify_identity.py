"""verify_vihf: the mode must agree with the signer, coded values in their value sets, every field bounded.

One negative test per rule of :mod:`dmpclient.security.vihf_checks`, each built as an attacker holding a
*trusted* certificate would build it (signed correctly, so only the new rule can refuse it).
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from dmpclient.errors import DmpSecurityError
from dmpclient.security.credentials import Credential
from dmpclient.security.pki import TestPki
from dmpclient.security.verify import VerificationPolicy, VihfRule, verify_vihf
from dmpclient.security.vihf import (
    AuthMode,
    CodedValue,
    SoftwareSigner,
    Structure,
    VihfAttribute,
    sign_vihf,
    vihf_to_element,
)
from dmpclient.security.vihf_checks import SignerKind, signer_kind
from tests.unit.vihf_factory import (
    DOCTOR,
    NS,
    build,
    edited,
    now,
    policy_for,
    resign_signed_info,
    sign_element,
    signer_of,
)


@pytest.fixture
def policy(pki: TestPki) -> VerificationPolicy:
    return policy_for(pki)


@pytest.fixture
def org_signer(pki: TestPki) -> SoftwareSigner:
    return signer_of(pki.org_sign)


@pytest.fixture
def card_signer(pki: TestPki) -> SoftwareSigner:
    return signer_of(pki.ps_sign)


def rejected(data: bytes | etree._Element, policy: VerificationPolicy, rule: VihfRule) -> str:
    with pytest.raises(DmpSecurityError) as caught:
        verify_vihf(data, policy, now=now())
    assert caught.value.rule == rule.value, caught.value.message
    assert caught.value.dmp_code == rule.dmp_code
    return caught.value.message


def _attribute(name: str) -> str:
    return f"saml2:AttributeStatement/saml2:Attribute[@Name='{name}']"


# --- mode ↔ signing certificate -----------------------------------------------------------------


def test_directe_signed_with_the_structures_org_sign_key(
    policy: VerificationPolicy, org_signer: SoftwareSigner
) -> None:
    """The attack: a structure passes as a card holder by writing DIRECTE and signing with its cachet."""
    forged = build(AuthMode.DIRECTE, org_signer, now())
    assert forged.subject_name_id == DOCTOR.national_id
    message = rejected(sign_vihf(forged, org_signer), policy, VihfRule.SIGNER_NOT_PERSONAL)
    assert "personal signature certificate" in message
    assert VihfRule.SIGNER_NOT_PERSONAL.dmp_code == "DMPInvalidCertificate"


def test_directe_signed_with_the_cards_authentication_key(pki: TestPki, policy: VerificationPolicy) -> None:
    assert pki.ps_auth is not None
    authentication = signer_of(pki.ps_auth)
    data = sign_vihf(build(AuthMode.DIRECTE, authentication, now()), authentication)
    rejected(data, policy, VihfRule.SIGNER_NOT_SIGNATURE_CERTIFICATE)
    assert VihfRule.SIGNER_NOT_SIGNATURE_CERTIFICATE.reason_fr.endswith("Not a valid signature certificate")


def test_directe_for_someone_else_than_the_card_holder(policy: VerificationPolicy, card_signer: SoftwareSigner) -> None:
    other = DOCTOR.model_copy(update={"national_id": "899900023351"})
    vihf = build(AuthMode.DIRECTE, card_signer, now()).model_copy(update={"subject_name_id": other.national_id})
    rejected(sign_vihf(vihf, card_signer), policy, VihfRule.NAME_ID_NOT_CARD_HOLDER)


@pytest.mark.parametrize("mode", [AuthMode.AIR, AuthMode.INDIRECTE])
def test_organisation_modes_signed_with_a_personal_card(
    policy: VerificationPolicy, card_signer: SoftwareSigner, mode: AuthMode
) -> None:
    data = sign_vihf(build(mode, card_signer, now()), card_signer)
    rejected(data, policy, VihfRule.SIGNER_NOT_ORGANISATION)


def test_structure_speaking_for_another_structure(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    data = sign_vihf(build(AuthMode.AIR, org_signer, now(), structure=Structure.of("10B0167011", "SA01")), org_signer)
    rejected(data, policy, VihfRule.STRUCTURE_MISMATCH)


def test_the_signer_kind_and_structure_checks_are_independent(
    pki: TestPki, org_signer: SoftwareSigner, card_signer: SoftwareSigner
) -> None:
    """Relaxing one check (odd certificates of a test platform) must not silently relax the other."""
    other_structure = Structure.of("10B0167011", "SA01")
    data = sign_vihf(build(AuthMode.AIR, org_signer, now(), structure=other_structure), org_signer)
    rejected(data, policy_for(pki, check_signer_kind=False), VihfRule.STRUCTURE_MISMATCH)
    card_signed = sign_vihf(build(AuthMode.INDIRECTE, card_signer, now()), card_signer)
    rejected(card_signed, policy_for(pki, check_structure_ou=False), VihfRule.SIGNER_NOT_ORGANISATION)


def test_signer_kinds_of_the_test_pki(pki: TestPki) -> None:
    assert pki.ps_auth is not None
    kinds = {name: signer_kind(signer_of(getattr(pki, name)).certificate) for name in ("org_sign", "org_auth")}
    kinds |= {name: signer_kind(signer_of(getattr(pki, name)).certificate) for name in ("ps_sign", "ps_auth")}
    assert kinds == {
        "org_sign": SignerKind.ORGANISATION,
        "org_auth": SignerKind.ORGANISATION,
        "ps_sign": SignerKind.PERSONAL,
        "ps_auth": SignerKind.PERSONAL,
    }


# --- certificates issued by a private CA, shaped to hit one rule each ---------------------------


@pytest.fixture(scope="module")
def private_ca() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PRIVATE TEST CA")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),  # keyCertSign, cRLSign
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def _issued(
    ca: tuple[x509.Certificate, rsa.RSAPrivateKey], subject: x509.Name, key_usage: x509.KeyUsage
) -> SoftwareSigner:
    ca_certificate, ca_key = ca
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return SoftwareSigner.from_credential(Credential(certificate, key))


_SIGNING = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
_ORG_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "10B0127189"),
        x509.NameAttribute(NameOID.COMMON_NAME, "CENTRE DE TEST"),
    ]
)


def test_encryption_certificate_cannot_sign(private_ca: tuple[x509.Certificate, rsa.RSAPrivateKey]) -> None:
    """An ORG CONF-like certificate (keyEncipherment only) signing a VIHF."""
    encipherment = x509.KeyUsage(False, False, True, False, False, False, False, False, False)
    signer = _issued(private_ca, _ORG_NAME, encipherment)
    policy = VerificationPolicy(trust_anchors=(private_ca[0],))
    rejected(sign_vihf(build(AuthMode.AIR, signer, now()), signer), policy, VihfRule.CERTIFICATE_KEY_USAGE)


def test_certificate_naming_neither_a_person_nor_a_structure(
    private_ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    bare = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SOMEONE")])
    signer = _issued(private_ca, bare, _SIGNING)
    assert signer_kind(signer.certificate) is SignerKind.UNKNOWN
    policy = VerificationPolicy(trust_anchors=(private_ca[0],), check_structure_ou=False)
    rejected(sign_vihf(build(AuthMode.INDIRECTE, signer, now()), signer), policy, VihfRule.SIGNER_NOT_ORGANISATION)


def test_an_organisation_certificate_with_any_eku_still_signs(
    private_ca: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    """Liberal by design (§1.4): key usage digitalSignature only, no EKU at all."""
    digital_signature = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    signer = _issued(private_ca, _ORG_NAME, digital_signature)
    policy = VerificationPolicy(trust_anchors=(private_ca[0],))
    assert verify_vihf(sign_vihf(build(AuthMode.AIR, signer, now()), signer), policy, now=now()).vihf


# --- value sets ---------------------------------------------------------------------------------


def _with_roles(org_signer: SoftwareSigner, *roles: CodedValue) -> bytes:
    vihf = build(AuthMode.AIR, org_signer, now())
    return sign_element(vihf_to_element(vihf.model_copy(update={"roles": roles})), org_signer)


def test_unknown_profession_code(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    role = CodedValue(code="99", code_system="1.2.250.1.71.1.2.7", code_system_name="professions")
    rejected(_with_roles(org_signer, role), policy, VihfRule.PROFESSION_UNKNOWN)


def test_profession_of_an_unknown_code_system(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    role = CodedValue(code="10", code_system="1.2.3.4")
    rejected(_with_roles(org_signer, role), policy, VihfRule.PROFESSION_UNKNOWN)


def test_a_savoir_faire_in_first_position_is_not_a_profession(
    policy: VerificationPolicy, org_signer: SoftwareSigner
) -> None:
    rejected(_with_roles(org_signer, DOCTOR.savoir_faire), policy, VihfRule.PROFESSION_UNKNOWN)  # type: ignore[arg-type]


def test_unknown_savoir_faire_code(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    specialty = CodedValue(code="SM99", code_system="1.2.250.1.71.4.2.5", code_system_name="specialites RPPS")
    rejected(_with_roles(org_signer, DOCTOR.profession, specialty), policy, VihfRule.SAVOIR_FAIRE_UNKNOWN)


def test_roles_of_unshipped_terminologies_are_accepted_after_the_first_two(
    policy: VerificationPolicy, org_signer: SoftwareSigner
) -> None:
    role_in_care = CodedValue(code="ANY", code_system="1.2.250.1.213.1.1.4.999")
    data = _with_roles(org_signer, DOCTOR.profession, DOCTOR.savoir_faire, role_in_care)  # type: ignore[arg-type]
    assert len(verify_vihf(data, policy, now=now()).vihf.roles) == 3


def test_more_than_four_roles(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    extra = CodedValue(code="ANY", code_system="1.2.250.1.213.1.1.4.999")
    data = _with_roles(org_signer, DOCTOR.profession, DOCTOR.savoir_faire, extra, extra, extra)  # type: ignore[arg-type]
    rejected(data, policy, VihfRule.ROLE_COUNT)


@pytest.mark.parametrize(
    "value", ["SA99^1.2.250.1.71.4.2.4", "SA07", "SA07^1.2.250.1.71.4.2.5", "SA07^", "^1.2.250.1.71.4.2.4"]
)
def test_unknown_or_malformed_secteur(policy: VerificationPolicy, org_signer: SoftwareSigner, value: str) -> None:
    xpath = _attribute(VihfAttribute.SECTEUR_ACTIVITE) + "/saml2:AttributeValue"
    rejected(
        edited(build(AuthMode.AIR, org_signer, now()), org_signer, xpath, "set", value),
        policy,
        VihfRule.SECTEUR_UNKNOWN,
    )


def test_purpose_of_another_code_system(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now()))
    purpose = element.find(_attribute(VihfAttribute.PURPOSE_OF_USE) + "/saml2:AttributeValue/hl7:PurposeOfUse", NS)
    purpose.set("codeSystem", "1.2.250.1.213.1.1.4.247")
    rejected(sign_element(element, org_signer), policy, VihfRule.PURPOSE_UNKNOWN)


@pytest.mark.parametrize("name", ["mode acces VIHF 1.0", "mode acces VIHF 2.0", None])
def test_purpose_code_system_name_is_free(
    policy: VerificationPolicy, org_signer: SoftwareSigner, name: str | None
) -> None:
    """Both codeSystemName spellings reached the test platforms (§2.7); absence is tolerated too."""
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now()))
    purpose = element.find(_attribute(VihfAttribute.PURPOSE_OF_USE) + "/saml2:AttributeValue/hl7:PurposeOfUse", NS)
    if name is None:
        del purpose.attrib["codeSystemName"]
    else:
        purpose.set("codeSystemName", name)
    assert verify_vihf(sign_element(element, org_signer), policy, now=now()).vihf


# --- sizes --------------------------------------------------------------------------------------


def test_five_megabyte_name_id_is_refused_before_the_signature(
    policy: VerificationPolicy, org_signer: SoftwareSigner
) -> None:
    huge = "8" * (5 * 1024 * 1024)
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, "saml2:Subject/saml2:NameID", "set", huge)
    message = rejected(data, policy, VihfRule.ASSERTION_TOO_LARGE)
    assert huge[:100] not in message


def test_name_id_longer_than_its_bound(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, "saml2:Subject/saml2:NameID", "set", "8" * 65)
    assert "NameID" in rejected(data, policy, VihfRule.VALUE_TOO_LONG)


@pytest.mark.parametrize(
    ("name", "length"),
    [
        (VihfAttribute.IDENTIFIANT_STRUCTURE, 65),
        (VihfAttribute.SUBJECT_ID, 257),
        (VihfAttribute.LPS_NOM, 257),
        (VihfAttribute.RESOURCE_ID, 257),
    ],
)
def test_attribute_value_longer_than_its_bound(
    policy: VerificationPolicy, org_signer: SoftwareSigner, name: VihfAttribute, length: int
) -> None:
    xpath = _attribute(name) + "/saml2:AttributeValue"
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, xpath, "set", "1" * length)
    rejected(data, policy, VihfRule.VALUE_TOO_LONG)


def test_coded_label_longer_than_its_bound(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    long_label = DOCTOR.profession.model_copy(update={"display_name": "M" * 257})
    rejected(_with_roles(org_signer, long_label, DOCTOR.savoir_faire), policy, VihfRule.VALUE_TOO_LONG)  # type: ignore[arg-type]


def test_too_many_attributes(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now()))
    statement = element.find("saml2:AttributeStatement", NS)
    for index in range(40):
        etree.SubElement(statement, f"{{{NS['saml2']}}}Attribute", Name=f"Extra_{index}")
    rejected(sign_element(element, org_signer), policy, VihfRule.VALUE_TOO_LONG)


def test_too_many_values_in_one_attribute(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now()))
    attribute = element.find(_attribute(VihfAttribute.LPS_NOM), NS)
    for _ in range(9):
        attribute.append(etree.fromstring(etree.tostring(attribute[0])))
    rejected(sign_element(element, org_signer), policy, VihfRule.VALUE_TOO_LONG)


def test_assertion_with_too_many_nodes(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now()))
    holder = etree.SubElement(element, f"{{{NS['saml2']}}}Advice")
    for _ in range(600):
        etree.SubElement(holder, f"{{{NS['saml2']}}}AssertionIDRef").text = "_x"
    rejected(sign_element(element, org_signer), policy, VihfRule.ASSERTION_TOO_LARGE)


def test_element_with_many_attributes_is_refused_before_they_are_read(
    policy: VerificationPolicy, org_signer: SoftwareSigner
) -> None:
    """Found by the fuzz campaign: lxml reads an element's attributes in quadratic time (hours for 500,000)."""
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now()))
    extra = etree.SubElement(element.find("saml2:Subject", NS), f"{{{NS['saml2']}}}SubjectConfirmation")
    for index in range(5000):
        extra.set(f"a{index}", "")
    rejected(element, policy, VihfRule.ASSERTION_TOO_LARGE)


def test_processing_instruction_inside_the_signed_assertion(
    policy: VerificationPolicy, org_signer: SoftwareSigner
) -> None:
    """Found by the fuzz campaign's xmlsec1 differential: we dropped the instruction before checking the digest,
    xmlsec1 canonicalises it, so we accepted an assertion that the reference verifier rejects."""
    signed = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    start = signed.index(b"<saml2:Issuer")
    assert "processing instruction" in rejected(signed[:start] + b"<?p?>" + signed[start:], policy, VihfRule.MALFORMED)


def _signature_part(root: etree._Element, local: str) -> etree._Element:
    return root.find(f"ds:Signature//ds:{local}", NS | {"ds": "http://www.w3.org/2000/09/xmldsig#"})


@pytest.mark.parametrize("local", ["X509Certificate", "SignatureValue"])
def test_base64_with_characters_outside_the_alphabet_is_refused(
    policy: VerificationPolicy, org_signer: SoftwareSigner, local: str
) -> None:
    """Found by the fuzz campaign's xmlsec1 differential: a '>' inside the certificate was silently skipped."""
    root = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    node = _signature_part(root, local)
    node.text = node.text[:40] + ">" + node.text[40:]
    rule = VihfRule.CERTIFICATE_MISSING if local == "X509Certificate" else VihfRule.SIGNATURE_INVALID
    rejected(etree.tostring(root), policy, rule)


def test_base64_split_over_lines_is_accepted(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    """XML-DSig producers wrap base64 at 64 or 76 characters; whitespace is not part of the value."""
    root = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    for local in ("X509Certificate", "DigestValue"):
        node = _signature_part(root, local)
        text = node.text
        node.text = "\n" + "\n".join(text[i : i + 64] for i in range(0, len(text), 64)) + "\n"
    resign_signed_info(root, org_signer)
    assert verify_vihf(etree.tostring(root), policy, now=now()).vihf


@pytest.mark.parametrize("extra", ["KeyInfo", "Foreign"])
def test_a_second_key_info_or_a_foreign_element_in_the_signature(
    policy: VerificationPolicy, org_signer: SoftwareSigner, extra: str
) -> None:
    """Found by the fuzz campaign's xmlsec1 differential: a duplicated, unsigned KeyInfo was accepted."""
    root = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    key_info = _signature_part(root, "KeyInfo")
    if extra == "KeyInfo":
        key_info.addnext(etree.fromstring(etree.tostring(key_info)))
    else:
        etree.SubElement(key_info.getparent(), "{urn:evil}Foreign")
    assert "at most one KeyInfo" in rejected(etree.tostring(root), policy, VihfRule.SIGNATURE_INVALID)


def test_an_assertion_in_utf32_is_refused(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    """Found by the fuzz campaign's xmlsec1 differential (xmlsec1 cannot read it; SOAP peers use UTF-8/16)."""
    signed = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    assert "encoding" in rejected(signed.decode().encode("utf-32"), policy, VihfRule.MALFORMED)
