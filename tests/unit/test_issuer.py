"""VihfIssuer: one fresh signed VIHF per call, AIR switched to INDIRECTE for feeding, config wiring."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dmpclient import Actor, AuthMode, CallerIdentity, DmpConfig, NonPsRole, PurposeOfUse
from dmpclient._prepare import effective_mode, issuer_from_config
from dmpclient.errors import DmpConfigError, DmpValidationError
from dmpclient.ids import InsOid
from dmpclient.security.issuer import VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.verify import VerificationPolicy, verify_vihf
from dmpclient.security.vihf import PatientId
from dmpclient.transactions import patients
from dmpclient.transactions.spec import FEEDING_MODE

DOCTOR = Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26")
PATIENT = PatientId(ins="207058575627097", oid=InsOid.TEST)


@pytest.fixture(scope="module")
def issuer(pki: TestPki) -> VihfIssuer:
    return issuer_from_config(DmpConfig.for_test_pki(pki))


FEEDING = dataclasses.replace(patients.TEST_EXISTENCE, td="TD2.1", forced_mode=FEEDING_MODE)


@pytest.mark.parametrize(
    ("mode", "feeding", "expected"),
    [
        (AuthMode.AIR, False, AuthMode.AIR),
        (AuthMode.AIR, True, AuthMode.INDIRECTE),
        (AuthMode.INDIRECTE, True, AuthMode.INDIRECTE),
        (AuthMode.DIRECTE, True, AuthMode.DIRECTE),
    ],
)
def test_feeding_is_never_sent_in_air(mode: AuthMode, feeding: bool, expected: AuthMode) -> None:
    spec = FEEDING if feeding else patients.TEST_EXISTENCE
    assert effective_mode(spec, CallerIdentity(DOCTOR, mode=mode)) is expected


def test_issued_assertions_verify_and_carry_the_configuration(issuer: VihfIssuer, pki: TestPki) -> None:
    now = dt.datetime.now(dt.UTC)
    identity = CallerIdentity(DOCTOR, purpose=PurposeOfUse.BRIS_DE_GLACE)
    signed = issuer.issue(identity, PATIENT, now=now)
    vihf = verify_vihf(signed, VerificationPolicy.from_ca_file(pki.ca_bundle), now=now).vihf
    assert vihf.mode is AuthMode.AIR
    assert vihf.authn_context_decl == "CONF_EXI_PGSSIS"
    assert vihf.purpose is PurposeOfUse.BRIS_DE_GLACE
    assert (vihf.structure_id, vihf.secteur_activite) == (pki.structure_id, "SA01")
    assert vihf.patient == PATIENT
    assert vihf.lps.nom == "DMPCLIENT"


def test_every_call_gets_a_new_assertion_id(issuer: VihfIssuer) -> None:
    now = dt.datetime.now(dt.UTC)
    ids = {issuer.build(CallerIdentity(DOCTOR), PATIENT, now=now).assertion_id for _ in range(5)}
    assert len(ids) == 5


def test_feeding_vihf_is_indirecte(issuer: VihfIssuer) -> None:
    vihf = issuer.build(CallerIdentity(DOCTOR), PATIENT, now=dt.datetime.now(dt.UTC), mode=AuthMode.INDIRECTE)
    assert vihf.mode is AuthMode.INDIRECTE
    assert vihf.authn_context_decl is None


def test_a_configuration_without_signing_credential_says_so(pki: TestPki) -> None:
    config = DmpConfig.for_test_pki(pki)
    unsigned = config.model_copy(update={"credentials": config.credentials.model_copy(update={"signing": None})})
    with pytest.raises(DmpConfigError, match="signing"):
        issuer_from_config(unsigned)


def test_a_user_without_name_is_refused_before_signing(issuer: VihfIssuer) -> None:
    anonymous = Actor.professional("899900063480", profession="10", specialty="SM26")
    with pytest.raises(DmpValidationError, match="subject-id"):
        issuer.build(CallerIdentity(anonymous), PATIENT, now=dt.datetime.now(dt.UTC))
    directe = issuer.build(CallerIdentity(anonymous, mode=AuthMode.DIRECTE), PATIENT, now=dt.datetime.now(dt.UTC))
    assert directe.subject_id is None


def test_medical_secretaries_may_consult_in_air_but_processes_may_not(issuer: VihfIssuer) -> None:
    now = dt.datetime.now(dt.UTC)
    secretary = Actor.device("899900063480", name="SECRETARIAT CARDIO", kind=NonPsRole.SECRETARIAT_MEDICAL)
    assert not secretary.is_device
    assert issuer.build(CallerIdentity(secretary), PATIENT, now=now).mode is AuthMode.AIR
    robot = Actor.device("899900063480", name="PFI, v3, imagerie", kind=NonPsRole.AUTOMATE)
    with pytest.raises(DmpValidationError, match="devices use INDIRECTE"):
        issuer.build(CallerIdentity(robot), PATIENT, now=now)
    assert issuer.build(CallerIdentity(robot), PATIENT, now=now, mode=AuthMode.INDIRECTE).mode is AuthMode.INDIRECTE
