"""XML-DSig profile of the VIHF: our fast engine, the signxml engine, xmlsec1 and signxml as oracles."""

from __future__ import annotations

import base64
import copy
import subprocess
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import verification
from lxml import etree
from signxml import XMLVerifier

from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import AuthMode, SoftwareSigner, vihf_to_element
from dmpclient.security.xmldsig import (
    ENVELOPED_SIGNATURE,
    EXC_C14N,
    DigestAlgorithm,
    DsigFailure,
    LegacyAlgorithmWarning,
    SignatureAlgorithm,
    SignatureError,
    Signer,
    sign_enveloped,
    verify_enveloped,
)
from tests.conftest import FIXTURES
from tests.unit.vihf_factory import (
    DS,
    ID_ATTR,
    NS,
    XMLSEC1,
    build,
    needs_xmlsec1,
    now,
    resign_signed_info,
    signer_of,
    xmlsec1_signed,
    xmlsec1_verify,
)


@pytest.fixture
def org_signer(pki: TestPki) -> SoftwareSigner:
    """ORG SIGN (EKU emailProtection, like the official INDIRECTE example)."""
    return signer_of(pki.org_sign)


@pytest.fixture
def unsigned(org_signer: SoftwareSigner) -> etree._Element:
    return vihf_to_element(build(AuthMode.AIR, org_signer, now()))


def _signed(unsigned: etree._Element, signer: SoftwareSigner, **options: object) -> etree._Element:
    return etree.fromstring(sign_enveloped(unsigned, signer, position=1, **options))  # type: ignore[arg-type]


def test_signature_structure_follows_the_profile(unsigned: etree._Element, org_signer: SoftwareSigner) -> None:
    root = _signed(unsigned, org_signer)
    assert [etree.QName(child).localname for child in root][:3] == ["Issuer", "Signature", "Subject"]
    signature = root.find("ds:Signature", NS)
    assert signature.xpath("ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm", namespaces=NS) == [EXC_C14N]
    assert signature.xpath("ds:SignedInfo/ds:SignatureMethod/@Algorithm", namespaces=NS) == [
        SignatureAlgorithm.RSA_SHA256.value
    ]
    assert signature.xpath("ds:SignedInfo/ds:Reference/@URI", namespaces=NS) == [f"#{root.get('ID')}"]
    transforms = signature.xpath("ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform/@Algorithm", namespaces=NS)
    assert transforms == [ENVELOPED_SIGNATURE, EXC_C14N]
    assert not signature.xpath(".//*[local-name()='InclusiveNamespaces']")
    assert signature.xpath("ds:SignedInfo/ds:Reference/ds:DigestMethod/@Algorithm", namespaces=NS) == [
        DigestAlgorithm.SHA256.value
    ]
    certificates = signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    assert len(certificates) == 1
    assert base64.b64decode(certificates[0].text) == org_signer.certificate.public_bytes(Encoding.DER)


def test_signing_leaves_the_input_unchanged_and_returns_bytes(
    unsigned: etree._Element, org_signer: SoftwareSigner
) -> None:
    before = etree.tostring(unsigned)
    signed = sign_enveloped(unsigned, org_signer, position=1)
    assert isinstance(signed, bytes)
    assert not signed.startswith(b"<?xml")
    assert etree.tostring(unsigned) == before


def test_software_signer_is_a_signer_and_hides_its_key(org_signer: SoftwareSigner) -> None:
    assert isinstance(org_signer, Signer)
    assert "PRIVATE" not in repr(org_signer)
    assert "CN=" in repr(org_signer)


@pytest.mark.parametrize("engine", ["fast", "signxml"])
def test_both_engines_verify_with_the_lean_verifier(
    unsigned: etree._Element, org_signer: SoftwareSigner, engine: str
) -> None:
    result = verify_enveloped(_signed(unsigned, org_signer, engine=engine))
    assert result.certificate == org_signer.certificate
    assert result.signature_algorithm is SignatureAlgorithm.RSA_SHA256
    assert result.signed.find("ds:Signature", NS) is None


def test_both_engines_produce_the_same_signature(unsigned: etree._Element, org_signer: SoftwareSigner) -> None:
    """RSA PKCS#1 v1.5 is deterministic: identical SignedInfo and value prove an identical structure."""
    fast = _signed(unsigned, org_signer).find("ds:Signature", NS)
    general = _signed(unsigned, org_signer, engine="signxml").find("ds:Signature", NS)
    assert etree.tostring(fast, method="c14n", exclusive=True) == etree.tostring(general, method="c14n", exclusive=True)


@pytest.mark.parametrize("engine", ["fast", "signxml"])
def test_signxml_verifies_our_signatures(
    pki: TestPki, unsigned: etree._Element, org_signer: SoftwareSigner, engine: str
) -> None:
    data = sign_enveloped(unsigned, org_signer, position=1, engine=engine)  # type: ignore[arg-type]
    result = XMLVerifier().verify(
        data,
        ca_pem_file=str(pki.ca_bundle),
        ee_policy=verification.ExtensionPolicy.permit_all(),
        ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
        id_attribute="ID",
        expect_references=1,
    )
    assert etree.QName(result.signed_xml).localname == "Assertion"


@needs_xmlsec1
@pytest.mark.parametrize("mode", list(AuthMode))
def test_xmlsec1_verifies_our_signatures(pki: TestPki, tmp_path: Path, mode: AuthMode) -> None:
    signer = signer_of(pki.ps_sign if mode is AuthMode.DIRECTE else pki.org_sign)
    path = tmp_path / "vihf.xml"
    path.write_bytes(sign_enveloped(vihf_to_element(build(mode, signer, now())), signer, position=1))
    result = xmlsec1_verify(path, pki)
    assert result.returncode == 0, result.stderr


@needs_xmlsec1
def test_xmlsec1_rejects_a_modified_vihf(
    pki: TestPki, tmp_path: Path, unsigned: etree._Element, org_signer: SoftwareSigner
) -> None:
    data = sign_enveloped(unsigned, org_signer, position=1).replace(b"SA01^", b"SA07^")
    path = tmp_path / "vihf.xml"
    path.write_bytes(data)
    assert xmlsec1_verify(path, pki).returncode != 0


@needs_xmlsec1
@pytest.mark.parametrize("prefix_list", ["", "xs xsi"])
def test_lean_verifier_and_signxml_accept_xmlsec1_signatures(
    pki: TestPki, tmp_path: Path, unsigned: etree._Element, prefix_list: str
) -> None:
    data = xmlsec1_signed(pki, tmp_path, unsigned, prefix_list=prefix_list)
    root = etree.fromstring(data)
    assert root.find("ds:Signature", NS).tag == f"{{{DS}}}Signature"
    result = verify_enveloped(root)
    assert result.signed.get("ID") == unsigned.get("ID")
    expected = copy.deepcopy(unsigned)
    expected[0].tail = "\n  "  # the enveloped transform keeps the tail text of the removed signature
    assert etree.tostring(result.signed, method="c14n", exclusive=True) == etree.tostring(
        expected, method="c14n", exclusive=True
    )
    XMLVerifier().verify(
        data,
        ca_pem_file=str(pki.ca_bundle),
        ee_policy=verification.ExtensionPolicy.permit_all(),
        ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
        id_attribute="ID",
        expect_references=1,
    )


@needs_xmlsec1
def test_lean_verifier_detects_tampering_in_xmlsec1_signatures(
    pki: TestPki, tmp_path: Path, unsigned: etree._Element
) -> None:
    data = xmlsec1_signed(pki, tmp_path, unsigned).replace(b"LIBRE MAX", b"EVIL MAX")
    with pytest.raises(SignatureError) as caught:
        verify_enveloped(etree.fromstring(data))
    assert caught.value.failure is DsigFailure.DIGEST_MISMATCH


@needs_xmlsec1
def test_legacy_sha1_is_warned_and_interoperable(
    pki: TestPki, tmp_path: Path, unsigned: etree._Element, org_signer: SoftwareSigner
) -> None:
    with pytest.warns(LegacyAlgorithmWarning):
        data = sign_enveloped(
            unsigned,
            org_signer,
            position=1,
            signature_algorithm=SignatureAlgorithm.RSA_SHA1,
            digest_algorithm=DigestAlgorithm.SHA1,
        )
    path = tmp_path / "sha1.xml"
    path.write_bytes(data)
    assert xmlsec1_verify(path, pki).returncode == 0
    assert verify_enveloped(etree.fromstring(data)).digest_algorithm is DigestAlgorithm.SHA1
    other = xmlsec1_signed(pki, tmp_path, unsigned, sha1=True)
    assert verify_enveloped(etree.fromstring(other)).signature_algorithm is SignatureAlgorithm.RSA_SHA1


def test_sha256_signing_does_not_warn(unsigned: etree._Element, org_signer: SoftwareSigner) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sign_enveloped(unsigned, org_signer, position=1)


def test_policy_can_refuse_sha1(unsigned: etree._Element, org_signer: SoftwareSigner) -> None:
    with pytest.warns(LegacyAlgorithmWarning):
        data = sign_enveloped(unsigned, org_signer, position=1, signature_algorithm=SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(SignatureError) as caught:
        verify_enveloped(
            etree.fromstring(data), allowed_signature_algorithms=frozenset({SignatureAlgorithm.RSA_SHA256})
        )
    assert caught.value.failure is DsigFailure.ALGORITHM_NOT_ALLOWED


def test_comments_cannot_truncate_signed_text(unsigned: etree._Element, org_signer: SoftwareSigner) -> None:
    """Comments are outside c14n: the verified copy has them removed so text is read whole."""
    root = _signed(unsigned, org_signer)
    name_id = root.find("saml2:Subject/saml2:NameID", NS)
    name_id.text = "8999"
    comment = etree.Comment("x")
    comment.tail = "00063480"
    name_id.append(comment)
    result = verify_enveloped(etree.fromstring(etree.tostring(root)))
    assert result.signed.find("saml2:Subject/saml2:NameID", NS).text == "899900063480"


def _failure(root: etree._Element) -> DsigFailure:
    with pytest.raises(SignatureError) as caught:
        verify_enveloped(root)
    return caught.value.failure


def test_unsigned_element_is_reported(unsigned: etree._Element) -> None:
    assert _failure(unsigned) is DsigFailure.UNSIGNED


def test_changed_signature_value_is_invalid(unsigned: etree._Element, org_signer: SoftwareSigner) -> None:
    root = _signed(unsigned, org_signer)
    value = root.find("ds:Signature/ds:SignatureValue", NS)
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    assert _failure(root) is DsigFailure.SIGNATURE_INVALID


def test_disallowed_transform_is_reported(unsigned: etree._Element, org_signer: SoftwareSigner) -> None:
    root = _signed(unsigned, org_signer)
    transforms = root.find("ds:Signature/ds:SignedInfo/ds:Reference/ds:Transforms", NS)
    transforms.append(etree.Element(f"{{{DS}}}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"))
    resign_signed_info(root, org_signer)
    assert _failure(root) is DsigFailure.TRANSFORM_NOT_ALLOWED


def test_missing_certificate_is_reported(unsigned: etree._Element, org_signer: SoftwareSigner) -> None:
    root = _signed(unsigned, org_signer)
    key_info = root.find("ds:Signature/ds:KeyInfo", NS)
    key_info.getparent().remove(key_info)
    assert _failure(root) is DsigFailure.CERTIFICATE_MISSING


@needs_xmlsec1
@pytest.mark.parametrize("name", ["XUA_samples/assertion_only.xml", "samples/ITI-18_request_raw.xml"])
def test_swiss_xua_samples_are_rejected_like_xmlsec1_does(name: str) -> None:
    """Real assertions (default-namespace ds, PrefixList, rsa-sha1, SOAP context) were edited upstream
    (fixtures README): xmlsec1 refuses them, and so do we, without tripping on their shapes."""
    path = FIXTURES / name
    command = [str(XMLSEC1), "--verify", "--insecure", *ID_ATTR, str(path)]
    assert subprocess.run(command, capture_output=True, check=False, timeout=60).returncode != 0
    assertion = next(etree.parse(str(path)).getroot().iter("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"))
    assert _failure(assertion) in {DsigFailure.SIGNATURE_INVALID, DsigFailure.DIGEST_MISMATCH}
