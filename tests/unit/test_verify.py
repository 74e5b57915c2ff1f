"""verify_vihf: every rule, each negative case expecting its specific rule id and DMP code."""

from __future__ import annotations

import copy
import datetime as dt
import threading
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from dmpclient.codes import ValueSetId
from dmpclient.errors import DmpSecurityError
from dmpclient.security.pki import TestPki, init_test_pki
from dmpclient.security.verify import ReplayCache, VerificationPolicy, VihfRule, verify_vihf
from dmpclient.security.vihf import (
    REQUIRED_ATTRIBUTES,
    SPECIALTY_MISSING_MESSAGE,
    AuthMode,
    CodedValue,
    PatientId,
    PurposeOfUse,
    SoftwareSigner,
    Vihf,
    VihfAttribute,
    sign_vihf,
    vihf_to_element,
)
from dmpclient.security.xmldsig import DsigFailure
from tests.unit.vihf_factory import (
    NS,
    build,
    edited,
    needs_xmlsec1,
    now,
    policy_for,
    resign_signed_info,
    sign_element,
    signer_of,
    xmlsec1_signed,
)

SAML = NS["saml2"]


@pytest.fixture
def org_signer(pki: TestPki) -> SoftwareSigner:
    return signer_of(pki.org_sign)


@pytest.fixture
def policy(pki: TestPki) -> VerificationPolicy:
    return policy_for(pki)


def rejected(data: bytes | etree._Element, policy: VerificationPolicy, rule: VihfRule, **kwargs: object) -> str:
    """Assert that verification fails with ``rule``; return the message."""
    when = kwargs.pop("when", None) or now()
    with pytest.raises(DmpSecurityError) as caught:
        verify_vihf(data, policy, now=when, **kwargs)  # type: ignore[arg-type]
    assert caught.value.rule == rule.value, caught.value.message
    assert caught.value.dmp_code == rule.dmp_code
    assert rule.value in caught.value.message
    return caught.value.message


# --- valid tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(AuthMode))
def test_valid_vihf_of_every_mode_verifies(pki: TestPki, policy: VerificationPolicy, mode: AuthMode) -> None:
    signer = signer_of(pki.ps_sign if mode is AuthMode.DIRECTE else pki.org_sign)
    vihf = build(mode, signer, now())
    result = verify_vihf(sign_vihf(vihf, signer), policy, now=now())
    assert result.vihf == vihf
    assert result.certificate == signer.certificate
    assert result.signature_algorithm is not None


@pytest.mark.parametrize("files", ["org_sign", "org_auth"])
def test_chain_root_organisations_ca_org_certificate_passes_whatever_the_eku(pki: TestPki, files: str) -> None:
    """ORG SIGN carries EKU emailProtection, ORG AUTH_CLI clientAuth (the official AIR example): both pass."""
    signer = signer_of(getattr(pki, files))
    root, org_ca = (x509.load_pem_x509_certificate(p.read_bytes()) for p in (pki.root_ca, pki.org_ca))
    policy = VerificationPolicy(trust_anchors=(root,), intermediates=(org_ca,))
    result = verify_vihf(sign_vihf(build(AuthMode.AIR, signer, now()), signer), policy, now=now())
    assert result.certificate is not None
    assert result.certificate.issuer == org_ca.subject


def test_the_organisations_ca_is_needed_to_build_the_chain(pki: TestPki, org_signer: SoftwareSigner) -> None:
    root = x509.load_pem_x509_certificate(pki.root_ca.read_bytes())
    data = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    rejected(data, VerificationPolicy(trust_anchors=(root,)), VihfRule.CERTIFICATE_UNTRUSTED)


def test_unsigned_vihf_passes_only_when_the_policy_allows_it(pki: TestPki, org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.INDIRECTE, org_signer, now())
    unsigned = etree.tostring(vihf_to_element(vihf))
    rejected(unsigned, policy_for(pki), VihfRule.UNSIGNED)
    result = verify_vihf(unsigned, policy_for(pki, require_signature=False), now=now())
    assert result.vihf == vihf
    assert result.certificate is None


def test_default_namespace_saml_verifies(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.INDIRECTE, org_signer, now())
    text = etree.tostring(vihf_to_element(vihf)).decode()
    text = text.replace('xmlns:saml2="', 'xmlns="').replace("<saml2:", "<").replace("</saml2:", "</")
    element = etree.fromstring(text)
    assert element.prefix is None
    assert verify_vihf(sign_element(element, org_signer), policy, now=now()).vihf == vihf


def test_vihf_inside_a_soap_header_is_found(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    signed = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    envelope = (
        b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header>'
        b'<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        + signed
        + b"</wsse:Security></soap:Header><soap:Body/></soap:Envelope>"
    )
    assert verify_vihf(envelope, policy, now=now()).vihf.mode is AuthMode.AIR


@pytest.mark.parametrize("spelling", ["Authentification_Mode", "AUTHENTIFICATION_MODE"])
def test_authentification_mode_name_and_value_match_case_insensitively(
    policy: VerificationPolicy, org_signer: SoftwareSigner, spelling: str
) -> None:
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now()))
    attribute = element.find(
        f"saml2:AttributeStatement/saml2:Attribute[@Name='{VihfAttribute.AUTHENTIFICATION_MODE}']", NS
    )
    attribute.set("Name", spelling)
    attribute[0].text = "indirecte_renforcee"
    assert verify_vihf(sign_element(element, org_signer), policy, now=now()).vihf.mode is AuthMode.AIR


@needs_xmlsec1
@pytest.mark.parametrize("prefix_list", ["", "xs xsi"])
def test_xmlsec1_signed_vihf_verifies(
    pki: TestPki, policy: VerificationPolicy, org_signer: SoftwareSigner, tmp_path: Path, prefix_list: str
) -> None:
    """xmlsec1 signs a template (default-namespace ds:Signature, pretty-printed, optional PrefixList)."""
    vihf = build(AuthMode.AIR, org_signer, now())
    data = xmlsec1_signed(pki, tmp_path, vihf_to_element(vihf), prefix_list=prefix_list)
    assert b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">' in data
    assert verify_vihf(data, policy, now=now()).vihf == vihf


def test_tls_client_subject_equal_to_the_signer_passes(pki: TestPki, policy: VerificationPolicy) -> None:
    """ORG AUTH_CLI (mTLS) and ORG SIGN have the same DN (§1.4)."""
    signer = signer_of(pki.org_sign)
    data = sign_vihf(build(AuthMode.AIR, signer, now()), signer)
    verify_vihf(data, policy, now=now(), tls_client_subject=pki.org_auth.subject)


def test_directe_card_issuer_with_multi_valued_rdn_matches(pki: TestPki, policy: VerificationPolicy) -> None:
    signer = signer_of(pki.ps_sign)
    vihf = build(AuthMode.DIRECTE, signer, now())
    assert vihf.issuer.startswith("CN=899900063480+SN=LIBRE+GN=MAX,title=")
    assert vihf.subject_id is None
    assert verify_vihf(sign_vihf(vihf, signer), policy, now=now()).vihf.issuer == vihf.issuer


# --- signature rules ----------------------------------------------------------------------------


def test_unsigned(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    rejected(vihf_to_element(build(AuthMode.AIR, org_signer, now())), policy, VihfRule.UNSIGNED)


def test_signature_over_a_modified_attribute(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    root = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    attribute = root.find(
        f"saml2:AttributeStatement/saml2:Attribute[@Name='{VihfAttribute.IDENTIFIANT_STRUCTURE}']", NS
    )
    attribute[0].text = "10B0000000"
    rejected(root, policy, VihfRule.DIGEST_MISMATCH)


def test_two_references(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    root = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    signed_info = root.find("ds:Signature/ds:SignedInfo", NS)
    signed_info.append(copy.deepcopy(signed_info.find("ds:Reference", NS)))
    resign_signed_info(root, org_signer)
    rejected(root, policy, VihfRule.REFERENCE_COUNT)


def test_reference_to_another_element(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    root = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    root.set("ID", "_evil")
    rejected(root, policy, VihfRule.REFERENCE_TARGET)


def test_xsw_second_unsigned_assertion_next_to_the_signed_one(
    policy: VerificationPolicy, org_signer: SoftwareSigner
) -> None:
    signed = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    evil = vihf_to_element(build(AuthMode.AIR, org_signer, now(), assertion_id="_evil"))
    security = etree.Element(
        "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security"
    )
    security.extend([evil, signed])
    rejected(security, policy, VihfRule.WRAPPED_ASSERTION)


def test_xsw_signed_assertion_moved_inside_a_forged_one(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    """The forged assertion carries the original signature and wraps the original in its Advice."""
    original = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    forged = vihf_to_element(build(AuthMode.AIR, org_signer, now(), purpose=PurposeOfUse.BRIS_DE_GLACE))
    forged.set("ID", original.get("ID"))
    forged.insert(1, copy.deepcopy(original.find("ds:Signature", NS)))
    advice = etree.SubElement(forged, f"{{{SAML}}}Advice")
    advice.append(original)
    rejected(forged, policy, VihfRule.WRAPPED_ASSERTION)


def test_xsw_forged_assertion_reusing_the_signature(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    """Without nesting: the forged content with the same ID fails the digest, with another ID the reference."""
    original = etree.fromstring(sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer))
    forged = vihf_to_element(build(AuthMode.AIR, org_signer, now(), purpose=PurposeOfUse.BRIS_DE_GLACE))
    forged.insert(1, copy.deepcopy(original.find("ds:Signature", NS)))
    rejected(copy.deepcopy(forged), policy, VihfRule.REFERENCE_TARGET)
    forged.set("ID", original.get("ID"))
    rejected(forged, policy, VihfRule.DIGEST_MISMATCH)


def test_signature_rules_cover_every_xmldsig_failure() -> None:
    assert {failure.value for failure in DsigFailure} <= {rule.value for rule in VihfRule}


# --- certificate rules --------------------------------------------------------------------------


def test_untrusted_ca(policy: VerificationPolicy, rogue_pki: TestPki) -> None:
    rogue = signer_of(rogue_pki.org_sign)
    message = rejected(sign_vihf(build(AuthMode.AIR, rogue, now()), rogue), policy, VihfRule.CERTIFICATE_UNTRUSTED)
    assert VihfRule.CERTIFICATE_UNTRUSTED.dmp_code == "DMPInvalidCertificate"
    assert "trusted CA" in message


@pytest.fixture(scope="module")
def expired_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    return init_test_pki(tmp_path_factory.mktemp("expired-pki"), now=past, end_entity_days=2)


def test_expired_certificate(expired_pki: TestPki) -> None:
    signer = signer_of(expired_pki.org_sign)
    data = sign_vihf(build(AuthMode.AIR, signer, now()), signer)
    rejected(data, policy_for(expired_pki), VihfRule.CERTIFICATE_EXPIRED)
    assert VihfRule.CERTIFICATE_EXPIRED.reason_fr.startswith("Le certificat ayant signé le VIHF est invalide")


def test_issuer_different_from_the_signing_certificate(
    policy: VerificationPolicy, org_signer: SoftwareSigner, rogue_pki: TestPki
) -> None:
    vihf = build(AuthMode.AIR, org_signer, now()).model_copy(update={"issuer": rogue_pki.org_sign.subject + "X"})
    rejected(sign_element(vihf_to_element(vihf), org_signer), policy, VihfRule.ISSUER_MISMATCH)
    relaxed = VerificationPolicy(
        trust_anchors=policy.trust_anchors, intermediates=policy.intermediates, check_issuer_dn=False
    )
    verify_vihf(sign_element(vihf_to_element(vihf), org_signer), relaxed, now=now())


def test_tls_client_subject_different_from_the_signer(
    policy: VerificationPolicy, org_signer: SoftwareSigner, rogue_pki: TestPki
) -> None:
    data = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    rejected(data, policy, VihfRule.TLS_SUBJECT_MISMATCH, tls_client_subject="CN=OTHER,OU=10B0000000,C=FR")


# --- time rules ---------------------------------------------------------------------------------


def test_issue_instant_too_far_in_the_future(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    data = sign_vihf(build(AuthMode.INDIRECTE, org_signer, now() + dt.timedelta(minutes=6)), org_signer)
    rejected(data, policy, VihfRule.ISSUE_INSTANT_FUTURE)


def test_issue_instant_too_old_outside_air(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    data = sign_vihf(build(AuthMode.INDIRECTE, org_signer, now() - dt.timedelta(minutes=6)), org_signer)
    rejected(data, policy, VihfRule.ISSUE_INSTANT_STALE)
    verify_vihf(data, policy_for_skew(policy, dt.timedelta(minutes=10)), now=now())


def policy_for_skew(policy: VerificationPolicy, skew: dt.timedelta) -> VerificationPolicy:
    return VerificationPolicy(trust_anchors=policy.trust_anchors, intermediates=policy.intermediates, clock_skew=skew)


def test_air_token_older_than_30_seconds(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    issued = now()
    data = sign_vihf(build(AuthMode.AIR, org_signer, issued), org_signer)
    rejected(data, policy, VihfRule.AIR_TOKEN_EXPIRED, when=issued + dt.timedelta(seconds=31))


def test_air_token_is_valid_for_30_seconds(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    issued = now()
    data = sign_vihf(build(AuthMode.AIR, org_signer, issued), org_signer)
    verify_vihf(data, policy, now=issued + dt.timedelta(seconds=30))


def test_replayed_air_token(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    data = sign_vihf(build(AuthMode.AIR, org_signer, now()), org_signer)
    verify_vihf(data, policy, now=now())
    rejected(data, policy, VihfRule.REPLAY)


def test_indirecte_tokens_may_be_reused(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    data = sign_vihf(build(AuthMode.INDIRECTE, org_signer, now()), org_signer)
    verify_vihf(data, policy, now=now())
    verify_vihf(data, policy, now=now())


def test_replay_cache_is_single_use_thread_safe_and_expires() -> None:
    cache = ReplayCache(ttl=dt.timedelta(seconds=30), max_entries=1000)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(cache.check_and_add("_a", now=start))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert cache.check_and_add("_a", now=start + dt.timedelta(seconds=31))
    bounded = ReplayCache(max_entries=3)
    for index in range(10):
        assert bounded.check_and_add(f"_{index}", now=start)
    assert len(bounded) <= 3


# --- attribute profile --------------------------------------------------------------------------


def _attribute(name: str) -> str:
    return f"saml2:AttributeStatement/saml2:Attribute[@Name='{name}']"


@pytest.mark.parametrize(
    ("mode", "name"),
    [(mode, name) for mode, names in REQUIRED_ATTRIBUTES.items() for name in sorted(names)],
)
def test_each_missing_mandatory_attribute(
    pki: TestPki, policy: VerificationPolicy, mode: AuthMode, name: VihfAttribute
) -> None:
    signer = signer_of(pki.ps_sign if mode is AuthMode.DIRECTE else pki.org_sign)
    data = edited(build(mode, signer, now()), signer, _attribute(name), "remove")
    message = rejected(data, policy, VihfRule.MISSING_ATTRIBUTE)
    assert name.value in message


def test_required_attributes_are_configurable(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, _attribute(VihfAttribute.SUBJECT_ID), "remove")
    rejected(data, policy, VihfRule.MISSING_ATTRIBUTE)
    relaxed = dict(REQUIRED_ATTRIBUTES)
    relaxed[AuthMode.AIR] = relaxed[AuthMode.AIR] - {VihfAttribute.SUBJECT_ID}
    lenient = VerificationPolicy(
        trust_anchors=policy.trust_anchors, intermediates=policy.intermediates, required_attributes=relaxed
    )
    assert verify_vihf(data, lenient, now=now()).vihf.subject_id is None


def test_air_without_authn_context_decl(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.AIR, org_signer, now())
    data = edited(vihf, org_signer, "saml2:AuthnStatement/saml2:AuthnContext/saml2:AuthnContextDecl", "remove")
    rejected(data, policy, VihfRule.AIR_AUTHN_CONTEXT_DECL)


@pytest.mark.parametrize("profession", ["10", "21"])
def test_physician_or_pharmacist_without_savoir_faire(
    policy: VerificationPolicy, org_signer: SoftwareSigner, profession: str
) -> None:
    vihf = build(AuthMode.AIR, org_signer, now())
    only = (CodedValue.from_value_set(ValueSetId.PROFESSION, profession),)
    data = sign_element(vihf_to_element(vihf.model_copy(update={"roles": only})), org_signer)
    message = rejected(data, policy, VihfRule.SPECIALTY_REQUIRED)
    assert SPECIALTY_MISSING_MESSAGE in message
    assert VihfRule.SPECIALTY_REQUIRED.reason_fr == (
        "Aucune spécialité dans le vihf. Spécialité obligatoire pour les Médecins et les Pharmaciens"
    )


def test_nurse_needs_no_savoir_faire(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.AIR, org_signer, now())
    nurse = vihf.model_copy(update={"roles": (CodedValue.from_value_set(ValueSetId.PROFESSION, "60"),)})
    assert verify_vihf(sign_element(vihf_to_element(nurse), org_signer), policy, now=now()).vihf == nurse


def test_pharmacist_with_a_cnop_section_passes(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.AIR, org_signer, now())
    roles = (
        CodedValue.from_value_set(ValueSetId.PROFESSION, "21"),
        CodedValue.from_value_set(ValueSetId.SECTION_PHARMACIEN, "A"),
    )
    pharmacist = vihf.model_copy(update={"roles": roles})
    assert verify_vihf(sign_element(vihf_to_element(pharmacist), org_signer), policy, now=now()).vihf == pharmacist


def test_unknown_purpose(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    xpath = _attribute(VihfAttribute.PURPOSE_OF_USE) + "/saml2:AttributeValue/hl7:PurposeOfUse"
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, xpath, "set", "curiosite")
    rejected(data, policy, VihfRule.PURPOSE_UNKNOWN)


def test_two_purposes(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    element = vihf_to_element(build(AuthMode.AIR, org_signer, now()))
    attribute = element.find(_attribute(VihfAttribute.PURPOSE_OF_USE), NS)
    second = copy.deepcopy(attribute[0])
    second[0].set("code", PurposeOfUse.BRIS_DE_GLACE.value)
    attribute.append(second)
    rejected(sign_element(element, org_signer), policy, VihfRule.PURPOSE_COUNT)


def test_invalid_ins_in_resource_id(pki: TestPki, policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.AIR, org_signer, now())
    wrong_key = vihf.model_copy(update={"patient": PatientId(ins="288091720220371", oid="1.2.250.1.213.1.4.10")})
    data = sign_element(vihf_to_element(wrong_key), org_signer)
    message = rejected(data, policy, VihfRule.RESOURCE_ID)
    assert "288091720220371" not in message
    assert verify_vihf(data, policy_for(pki, check_ins_key=False), now=now()).vihf.patient == wrong_key.patient


def test_malformed_resource_id(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    xpath = _attribute(VihfAttribute.RESOURCE_ID) + "/saml2:AttributeValue"
    data = edited(build(AuthMode.AIR, org_signer, now()), org_signer, xpath, "set", "207058575627097")
    rejected(data, policy, VihfRule.RESOURCE_ID)


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        (VihfAttribute.VIHF_VERSION, "2.0", VihfRule.VIHF_VERSION),
        (VihfAttribute.RESSOURCE_URN, "urn:other", VihfRule.RESSOURCE_URN),
        (VihfAttribute.AUTHENTIFICATION_MODE, "DELEGUEE", VihfRule.AUTH_MODE),
    ],
)
def test_constant_attributes(
    policy: VerificationPolicy, org_signer: SoftwareSigner, name: VihfAttribute, value: str, rule: VihfRule
) -> None:
    data = edited(
        build(AuthMode.AIR, org_signer, now()), org_signer, _attribute(name) + "/saml2:AttributeValue", "set", value
    )
    rejected(data, policy, rule)


def test_vihf_version_4_is_accepted(policy: VerificationPolicy, org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.AIR, org_signer, now(), vihf_version="4.0")
    assert verify_vihf(sign_vihf(vihf, org_signer), policy, now=now()).vihf.vihf_version == "4.0"


def test_expected_mode(pki: TestPki, org_signer: SoftwareSigner) -> None:
    data = sign_vihf(build(AuthMode.INDIRECTE, org_signer, now()), org_signer)
    rejected(data, policy_for(pki, expected_mode=AuthMode.AIR), VihfRule.AUTH_MODE)


def test_not_an_assertion(policy: VerificationPolicy) -> None:
    rejected(b"<a/>", policy, VihfRule.MALFORMED)


def test_every_rule_has_a_dmp_code_and_a_french_reason() -> None:
    for rule in VihfRule:
        assert rule.dmp_code.startswith("DMP")
        assert rule.reason_fr
    certificate_rules = {r for r in VihfRule if r.dmp_code == "DMPInvalidCertificate"}
    assert certificate_rules == {
        VihfRule.CERTIFICATE_MISSING,
        VihfRule.CERTIFICATE_UNTRUSTED,
        VihfRule.CERTIFICATE_EXPIRED,
        VihfRule.ISSUER_MISMATCH,
        VihfRule.TLS_SUBJECT_MISMATCH,
        VihfRule.CERTIFICATE_WEAK_KEY,
        VihfRule.CERTIFICATE_NOT_END_ENTITY,
        VihfRule.CERTIFICATE_KEY_USAGE,
        VihfRule.SIGNER_NOT_PERSONAL,
        VihfRule.SIGNER_NOT_SIGNATURE_CERTIFICATE,
        VihfRule.SIGNER_NOT_ORGANISATION,
    }


def test_verified_model_comes_from_the_signed_subtree_only(
    policy: VerificationPolicy, org_signer: SoftwareSigner
) -> None:
    """Adding content outside the signed assertion (a sibling in the envelope) changes nothing."""
    vihf: Vihf = build(AuthMode.AIR, org_signer, now())
    signed = etree.fromstring(sign_vihf(vihf, org_signer))
    holder = etree.Element("holder")
    holder.append(signed)
    etree.SubElement(holder, "Attribute", Name=VihfAttribute.IDENTIFIANT_STRUCTURE.value).text = "10B0000000"
    assert verify_vihf(holder, policy, now=now()).vihf.structure_id == vihf.structure_id


def test_replay_cache_keeps_a_token_until_its_own_expiry() -> None:
    cache = ReplayCache(ttl=dt.timedelta(seconds=1))
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert cache.check_and_add("_a", now=start, expires_at=start + dt.timedelta(minutes=10))
    assert not cache.check_and_add("_a", now=start + dt.timedelta(minutes=9))


def test_unsafe_xml_is_malformed(policy: VerificationPolicy) -> None:
    message = rejected(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', policy, VihfRule.MALFORMED)
    assert "DTD" in message
