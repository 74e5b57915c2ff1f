"""Builders per mode (INDIRECTE, AIR, DIRECTE, PSC) and their input checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dmpclient.errors import DmpValidationError
from dmpclient.ids import InsOid
from dmpclient.security.pki import TestPki
from dmpclient.security.verify import verify_vihf
from dmpclient.security.vihf import (
    AIR_SIMPLIFIE,
    Actor,
    AuthMode,
    AuthnContextClass,
    NonPsRole,
    PatientId,
    PscUserInfo,
    PurposeOfUse,
    SoftwareSigner,
    Structure,
    Vihf,
    VihfRequest,
    build_vihf,
    psc_request,
    sign_vihf,
)
from dmpclient.security.vihf_dn import certificate_dn
from tests.unit.vihf_factory import DOCTOR, LPS, PATIENT, STRUCTURE, build, now, policy_for, signer_of

FIXED = dt.datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=dt.UTC)


def _request(mode: AuthMode, actor: Actor = DOCTOR, **fields: object) -> VihfRequest:
    return VihfRequest(mode=mode, actor=actor, structure=STRUCTURE, lps=LPS, now=FIXED, **fields)  # type: ignore[arg-type]


def build_psc(document: object, *, signer: SoftwareSigner, **options: object) -> Vihf:
    """The PSC mapping, then the one builder."""
    return build_vihf(psc_request(document, **options), signer)  # type: ignore[arg-type]


@pytest.fixture
def org_signer(pki: TestPki) -> SoftwareSigner:
    return signer_of(pki.org_sign)


def userinfo(**changes: Any) -> dict[str, Any]:
    """A PSC UserInfo document shaped like the ANS test data (two practices)."""
    document: dict[str, Any] = {
        "sub": "f:550e8400-e29b-41d4-a716-446655440000:899700366240",
        "SubjectNameID": "899700366240",
        "preferred_username": "899700366240",
        "given_name": "KIT",
        "family_name": "DOC0036624",
        "Secteur_Activite": "SA07^1.2.250.1.71.4.2.4",
        "SubjectRole": ["10^1.2.250.1.213.1.1.5.5"],
        "SubjectRefPro": {
            "codeCivilite": "M",
            "exercices": [
                {
                    "codeProfession": "10",
                    "codeCategorieProfessionnelle": "C",
                    "codeSavoirFaire": "SM26",
                    "activities": [
                        {"codeSecteurDactivite": "SA07", "ancienIdentifiantDeLaStructure": "499700366240001"}
                    ],
                },
                {
                    "codeProfession": "21",
                    "codeCategorieProfessionnelle": "E",
                    "codeSavoirFaire": "",
                    "activities": [
                        {
                            "codeSecteurDactivite": "SA33",
                            "codeSectionPharmacien": "D",
                            "ancienIdentifiantDeLaStructure": "10B0127189",
                        }
                    ],
                },
            ],
        },
    }
    document.update(changes)
    return document


def test_outputs_are_reproducible_from_time_and_id(org_signer: SoftwareSigner) -> None:
    first = build(AuthMode.AIR, org_signer, FIXED, assertion_id="_fixed")
    second = build(AuthMode.AIR, org_signer, FIXED, assertion_id="_fixed")
    assert sign_vihf(first, org_signer) == sign_vihf(second, org_signer)
    assert first.issue_instant == dt.datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=dt.UTC)
    assert b'IssueInstant="2025-03-14T09:26:53.589Z"' in sign_vihf(first, org_signer)


def test_default_assertion_ids_are_fresh_ncnames(org_signer: SoftwareSigner) -> None:
    ids = {build(AuthMode.AIR, org_signer, FIXED).assertion_id for _ in range(3)}
    assert len(ids) == 3
    assert all(i.startswith("_") and len(i) == 37 for i in ids)


def test_air_carries_the_primary_authentication(org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.AIR, org_signer, FIXED)
    assert vihf.mode is AuthMode.AIR
    assert vihf.authn_context_decl == AIR_SIMPLIFIE == "CONF_EXI_PGSSIS"
    other = build(AuthMode.AIR, org_signer, FIXED, primary_authentication="APP_BROWSER_AUTH")
    assert other.authn_context_decl == "APP_BROWSER_AUTH"


def test_indirecte_for_an_automated_feed(org_signer: SoftwareSigner) -> None:
    robot = Actor.device("899900063480", name="PFI DMPCLIENT, moteur 2, service DIM", kind=NonPsRole.AUTOMATE)
    vihf = build_vihf(_request(AuthMode.INDIRECTE, robot, patient=PATIENT), org_signer)
    assert vihf.mode is AuthMode.INDIRECTE
    assert vihf.authn_context_class == AuthnContextClass.UNSPECIFIED
    assert vihf.authn_context_decl is None
    assert (vihf.profession.code, vihf.profession.code_system) == ("AUTOMATE", "1.2.250.1.213.1.1.4.6")
    assert vihf.profession.display_name == "Automate"
    assert vihf.subject_id == "PFI DMPCLIENT, moteur 2, service DIM"
    device = Actor.device("899900063480", name="ECG", kind=NonPsRole.DISPOSITIF)
    assert device.profession.display_name == "Dispositif médical"


def test_indirecte_for_a_person_defaults_to_password(org_signer: SoftwareSigner) -> None:
    vihf = build_vihf(_request(AuthMode.INDIRECTE), org_signer)
    assert vihf.authn_context_class == AuthnContextClass.PASSWORD
    assert vihf.patient is None


def test_air_refuses_a_device(org_signer: SoftwareSigner) -> None:
    with pytest.raises(DmpValidationError, match="devices use INDIRECTE"):
        build_vihf(_request(AuthMode.AIR, Actor.device("899900063480", name="x")), org_signer)


def test_directe_is_signed_by_the_card_and_has_no_subject_id(pki: TestPki) -> None:
    card = signer_of(pki.ps_sign)
    vihf = build_vihf(_request(AuthMode.DIRECTE), card)
    assert vihf.mode is AuthMode.DIRECTE
    assert vihf.subject_id is None
    assert vihf.authn_context_class == AuthnContextClass.SMARTCARD_PKI
    assert vihf.issuer == certificate_dn(card.certificate)


@pytest.mark.parametrize("profession", ["10", "21"])
def test_physician_and_pharmacist_need_a_specialty(org_signer: SoftwareSigner, profession: str) -> None:
    actor = Actor.professional("899900063480", name="X", profession=profession)
    with pytest.raises(DmpValidationError, match="Spécialité obligatoire") as caught:
        build_vihf(_request(AuthMode.AIR, actor), org_signer)
    assert caught.value.field == "specialty"


def test_pharmacist_section_is_a_savoir_faire() -> None:
    actor = Actor.professional("899900063480", name="X", profession="21", specialty="H")
    assert actor.savoir_faire is not None
    assert actor.savoir_faire.code_system == "1.2.250.1.71.4.2.6"
    assert actor.savoir_faire.display_name == "Pharmacien d'établissement de santé"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: Actor.professional("799900063480", profession="10", specialty="SM26"), "ps_id"),
        (lambda: Actor.professional("899900063480", profession="99"), "profession"),
        (lambda: Actor.professional("899900063480", profession="10", specialty="XX99"), "specialty"),
        (lambda: Structure.of("10B0127189", "SA99"), "secteur_activite"),
        (lambda: Structure.of("X", "SA01"), "structure_id"),
    ],
)
def test_inputs_are_validated_with_a_field(call: Any, field: str) -> None:
    with pytest.raises(DmpValidationError) as caught:
        call()
    assert caught.value.field == field


def test_patient_ins_is_validated(org_signer: SoftwareSigner) -> None:
    with pytest.raises(DmpValidationError, match="control key") as caught:
        build(AuthMode.AIR, org_signer, FIXED, patient=PatientId(ins="288091720220371", oid=InsOid.TEST))
    assert caught.value.field == "patient.ins"
    assert "288091720220371" not in str(caught.value)


def test_naive_time_is_refused(org_signer: SoftwareSigner) -> None:
    with pytest.raises(DmpValidationError, match="aware"):
        build(AuthMode.AIR, org_signer, dt.datetime(2025, 1, 1))


def test_signing_with_another_certificate_is_refused(pki: TestPki, org_signer: SoftwareSigner) -> None:
    vihf = build(AuthMode.AIR, org_signer, FIXED)
    with pytest.raises(DmpValidationError, match="Issuer"):
        sign_vihf(vihf, signer_of(pki.ps_sign))


def test_purpose_of_use_wire_values() -> None:
    assert [p.value for p in PurposeOfUse] == ["normal", "bris_de_glace", "centre_15"]
    assert AuthMode.AIR.value == "INDIRECTE_RENFORCEE"
    assert PurposeOfUse.BRIS_DE_GLACE.coded().display_name == "Accès en bris de glace"


# --- Pro Santé Connect --------------------------------------------------------------------------


def test_psc_maps_userinfo_to_an_air_vihf(pki: TestPki, org_signer: SoftwareSigner) -> None:
    vihf = build_psc(userinfo(), signer=org_signer, lps=LPS, now=now(), structure_id="10B0127189", patient=PATIENT)
    assert vihf.mode is AuthMode.AIR
    assert vihf.subject_name_id == "899700366240"
    assert vihf.subject_id == "DOC0036624 KIT"
    assert [(r.code, r.code_system) for r in vihf.roles] == [
        ("10", "1.2.250.1.71.1.2.7"),
        ("SM26", "1.2.250.1.71.4.2.5"),
    ]
    assert vihf.secteur_activite == "SA07"
    assert vihf.structure_id == "10B0127189"
    assert vihf.authn_context_class == AuthnContextClass.MOBILE_TWO_FACTOR_UNREGISTERED
    assert vihf.authn_context_decl == "CONF_EXI_PGSSIS"
    verify_vihf(sign_vihf(vihf, org_signer), policy_for(pki), now=now())


def test_psc_work_situation_selects_the_exercice(org_signer: SoftwareSigner) -> None:
    document = userinfo()
    del document["Secteur_Activite"]
    vihf = build_psc(document, lps=LPS, signer=org_signer, now=FIXED, work_situation="21E")
    assert [(r.code, r.code_system) for r in vihf.roles] == [("21", "1.2.250.1.71.1.2.7"), ("D", "1.2.250.1.71.4.2.6")]
    assert vihf.secteur_activite == "SA33"
    assert vihf.structure_id == "10B0127189"  # from the activity (ancienIdentifiantDeLaStructure)


def test_psc_default_is_the_first_exercice_and_structure_from_the_activity(org_signer: SoftwareSigner) -> None:
    vihf = build_psc(PscUserInfo.parse(userinfo()), lps=LPS, signer=org_signer, now=FIXED)
    assert vihf.profession.code == "10"
    assert vihf.structure_id == "499700366240001"


def test_psc_indirecte_for_feeding(org_signer: SoftwareSigner) -> None:
    vihf = build_psc(userinfo(), lps=LPS, signer=org_signer, now=FIXED, mode=AuthMode.INDIRECTE)
    assert vihf.mode is AuthMode.INDIRECTE
    assert vihf.authn_context_decl is None


@pytest.mark.parametrize(
    ("document", "options", "field"),
    [
        (userinfo(), {"work_situation": "60C"}, "work_situation"),
        (userinfo(SubjectRefPro={"exercices": []}), {}, "userinfo"),
        ({"given_name": "X"}, {}, "userinfo"),
        (userinfo(), {"mode": AuthMode.DIRECTE}, "mode"),
    ],
)
def test_psc_errors_say_what_to_fix(
    org_signer: SoftwareSigner, document: dict[str, Any], options: dict[str, Any], field: str
) -> None:
    with pytest.raises(DmpValidationError) as caught:
        build_psc(document, lps=LPS, signer=org_signer, now=FIXED, **options)
    assert caught.value.field == field
    if field == "work_situation":
        assert "10C, 21E" in str(caught.value)
