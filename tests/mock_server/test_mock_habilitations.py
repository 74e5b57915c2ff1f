"""TD0.3 (setAuthorization) and TD1.6 (listAuthorizationByPatient) against the mock over mutual TLS, both clients.

Tests that change authorisations use a mock of their own (``fresh_mock``); reads use the session's mock.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dmpclient._client import DmpClient
from dmpclient.config import DmpConfig, TlsCredentialSource
from dmpclient.custom.habilitations import AuthorizationAction, AuthorizationListMode, PartyKind
from dmpclient.errors import (
    DmpAuthorizationError,
    DmpClosedError,
    DmpNotFoundError,
    DmpPatientOppositionError,
    DmpProfessionalBlockedError,
    DmpRightsError,
    DmpRightsPrecheckError,
    DmpSoapFault,
)
from dmpclient.hl7v3.patient_query import AuthorizationStatus
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import (
    Actor,
    AuthMode,
    LpsIdentity,
    NonPsRole,
    PatientId,
    PurposeOfUse,
    SoftwareSigner,
    Structure,
)
from dmpclient.transactions import habilitations
from mock_server.store.records import SubjectKind
from tests.mock_server.conftest import (
    CLOSED,
    DOCTOR,
    NURSE,
    OPPOSES_BRIS_DE_GLACE,
    PATB_QUATRE,
    TEST_OID,
    Both,
    FreshMock,
    identity,
)

AUTHORISED = "153078987658513"  # the test doctor is authorised (not MT)
BLOCKS_TEST_PS = "279035121518989"
EXPIRED_FOR_TEST_PS = "211046322000147"
NEWCOMER = Actor.professional("899900011118", name="NOUVEAU Paul", profession="10", specialty="SM26")
LPS = LpsIdentity(nom="DMPCLIENT TEST", version="1", homologation="TEST-tmp1")
SECRETARY = Actor.device("899900063480", name="ACCUEIL Marie", kind=NonPsRole.SECRETARIAT_MEDICAL)


def _no_dmp(fresh: FreshMock) -> str:
    return next(p.ins for p in fresh.runtime.store.list_patients() if p.dmp_status.value == "none")


def test_declare_then_remove_an_authorisation(both: Both, fresh_mock: FreshMock) -> None:
    config, newcomer = fresh_mock.config, identity(NEWCOMER)
    before = both(config, "test_existence", AUTHORISED, newcomer, ins_oid=TEST_OID)
    assert before.authorization is AuthorizationStatus.NON_EXISTE

    added = both(config, "set_authorization", AUTHORISED, newcomer, ins_oid=TEST_OID)
    assert (added.status, added.context) == ("DMPOk", "Autorisation ajoutée")
    assert (
        both(config, "test_existence", AUTHORISED, newcomer, ins_oid=TEST_OID).authorization
        is AuthorizationStatus.VALIDE
    )
    again = both(config, "set_authorization", AUTHORISED, newcomer, ins_oid=TEST_OID)
    assert again.context == "Autorisation déjà présente aucune action effectuée"

    listed = both(
        config, "list_authorizations", AUTHORISED, newcomer, ins_oid=TEST_OID, mode=AuthorizationListMode.ACTIVE
    )
    mine = next(p for p in listed.parties if p.national_id == NEWCOMER.national_id)
    assert (mine.kind, mine.last_name, mine.first_name, mine.mode, mine.blocked) == (
        PartyKind.PROFESSIONAL,
        "NOUVEAU",
        "Paul",
        "ACTIVE",
        False,
    )
    assert (mine.specialty_codes, mine.specialty_labels) == (
        ("G15_10/SM26",),
        ("Médecin - Qualifié en médecine générale (SM)",),
    )
    assert mine.start is not None
    assert abs(mine.start - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)

    removed = both(
        config, "set_authorization", AUTHORISED, newcomer, ins_oid=TEST_OID, action=AuthorizationAction.REMOVE
    )
    assert removed.context == "Autorisation supprimée"
    after = both(config, "test_existence", AUTHORISED, newcomer, ins_oid=TEST_OID)
    assert after.authorization is AuthorizationStatus.NON_EXISTE
    with pytest.raises(DmpAuthorizationError) as caught:
        both(config, "set_authorization", AUTHORISED, newcomer, ins_oid=TEST_OID, action=AuthorizationAction.REMOVE)
    assert caught.value.code == "DMPAuthorizationNotFound"


def test_become_treating_physician(both: Both, fresh_mock: FreshMock) -> None:
    config, newcomer = fresh_mock.config, identity(NEWCOMER)
    both(config, "set_authorization", PATB_QUATRE, newcomer, ins_oid=TEST_OID, treating_physician=True)
    answer = both(config, "test_existence", PATB_QUATRE, newcomer, ins_oid=TEST_OID)
    assert (answer.authorization, answer.treating_physician) == (AuthorizationStatus.VALIDE, True)
    previous = both(config, "test_existence", PATB_QUATRE, identity(), ins_oid=TEST_OID)
    assert (previous.authorization, previous.treating_physician) == (AuthorizationStatus.VALIDE, False)
    parties = both(config, "list_authorizations", PATB_QUATRE, newcomer, ins_oid=TEST_OID).parties
    assert [p.national_id for p in parties if p.treating_physician] == [NEWCOMER.national_id]
    with pytest.raises(DmpRightsPrecheckError, match=r"606 v1\.3 has no row for TD0_3_SE_SUPPRIMER_MT"):
        both(
            config,
            "set_authorization",
            PATB_QUATRE,
            newcomer,
            ins_oid=TEST_OID,
            action=AuthorizationAction.REMOVE,
            treating_physician=True,
        )


def _card_client(config: DmpConfig, pki: TestPki) -> tuple[DmpClient, CallerIdentity]:
    """DIRECTE: the card's authentication certificate opens the TLS channel, its signature certificate signs
    the VIHF; the holder is the test doctor."""
    card = load_pem(pki.ps_sign.cert, pki.ps_sign.key)
    assert pki.ps_auth is not None
    tls = TlsCredentialSource(cert=pki.ps_auth.cert, key=pki.ps_auth.key)
    config = config.model_copy(update={"credentials": config.credentials.model_copy(update={"tls": tls})})
    issuer = VihfIssuer(SoftwareSigner.from_credential(card), structure=Structure.of(pki.structure_id, "SA01"), lps=LPS)
    holder = CallerIdentity(DOCTOR.model_copy(update={"national_id": pki.ps_id}), mode=AuthMode.DIRECTE)
    return DmpClient(config, vihf_issuer=issuer), holder


def test_the_treating_physician_steps_down_with_his_card(fresh_mock: FreshMock, pki: TestPki) -> None:
    """526 "Se supprimer MT" (MT_N only; no such row in 606)."""
    dmp, holder = _card_client(fresh_mock.config, pki)
    with dmp:
        assert dmp.test_existence(PATB_QUATRE, holder, ins_oid=TEST_OID).treating_physician is True
        update = dmp.set_authorization(
            PATB_QUATRE, holder, ins_oid=TEST_OID, action=AuthorizationAction.REMOVE, treating_physician=True
        )
        assert update.context == "Droit de médecin traitant supprimé"
        answer = dmp.test_existence(PATB_QUATRE, holder, ins_oid=TEST_OID)
    assert (answer.authorization, answer.treating_physician) == (AuthorizationStatus.VALIDE, False)


def test_a_physician_who_is_not_the_mt_cannot_remove_the_mt_right(mock_config: DmpConfig, pki: TestPki) -> None:
    """526 "Se supprimer MT": MT_N oui, MED_N non. The client cannot know who is MT (it lets the call go); the
    mock decides on its own record: the test doctor is authorised on this DMP but not its MT."""
    dmp, holder = _card_client(mock_config, pki)
    with dmp, pytest.raises(DmpRightsError) as caught:
        dmp.set_authorization(
            AUTHORISED, holder, ins_oid=TEST_OID, action=AuthorizationAction.REMOVE, treating_physician=True
        )
    assert caught.value.subcode == "DMPAccessDeniedByRightsService"
    assert "MED_N" in caught.value.reason


def test_an_expired_authorisation_is_renewed(both: Both, fresh_mock: FreshMock) -> None:
    config = fresh_mock.config
    with pytest.raises(DmpAuthorizationError, match="expired") as caught:
        both(config, "list_authorizations", EXPIRED_FOR_TEST_PS, identity(), ins_oid=TEST_OID)
    assert caught.value.code == "DMPAuthorizationExpired"
    assert both(config, "set_authorization", EXPIRED_FOR_TEST_PS, identity(), ins_oid=TEST_OID).context == (
        "Autorisation ajoutée"
    )
    assert both(config, "list_authorizations", EXPIRED_FOR_TEST_PS, identity(), ins_oid=TEST_OID).parties


def test_non_ps_staff_authorise_their_structure(fresh_mock: FreshMock) -> None:
    with DmpClient(fresh_mock.config) as dmp:
        dmp.set_authorization(AUTHORISED, identity(SECRETARY), ins_oid=TEST_OID)
    held = {(a.subject_kind, a.subject_id) for a in fresh_mock.runtime.store.list_authorisations(AUTHORISED)}
    assert (SubjectKind.STRUCTURE, fresh_mock.config.structure.id) in held
    assert (SubjectKind.PROFESSIONAL, SECRETARY.national_id) not in {
        (k, s) for k, s in held if k is SubjectKind.STRUCTURE
    }


def test_no_dmp_and_closed_dmp_are_typed(both: Both, fresh_mock: FreshMock) -> None:
    config = fresh_mock.config
    with pytest.raises(DmpNotFoundError, match="test_existence"):
        both(config, "set_authorization", _no_dmp(fresh_mock), identity(), ins_oid=TEST_OID)
    with pytest.raises(DmpClosedError) as caught:
        both(config, "list_authorizations", CLOSED, identity(), ins_oid=TEST_OID)
    assert (caught.value.code, caught.value.td) == ("DMPClosed", "TD1.6")
    assert CLOSED not in str(caught.value)


def test_a_blocked_professional_is_told_so(both: Both, mock_config: DmpConfig) -> None:
    with pytest.raises(DmpProfessionalBlockedError, match="only the patient") as caught:
        both(mock_config, "set_authorization", BLOCKS_TEST_PS, identity(), ins_oid=TEST_OID)
    assert (caught.value.subcode, caught.value.refusal) == ("DMPAccessDeniedByRightsService", "DMPProfessionalBlocked")


def test_td16_lists_blocked_parties_apart(both: Both, fresh_mock: FreshMock) -> None:
    # the test doctor is blocked on BLOCKS_TEST_PS: a newly authorised professional sees him in INTERDITE
    config, newcomer = fresh_mock.config, identity(NEWCOMER)
    both(config, "set_authorization", BLOCKS_TEST_PS, newcomer, ins_oid=TEST_OID)
    forbidden = both(
        config, "list_authorizations", BLOCKS_TEST_PS, newcomer, ins_oid=TEST_OID, mode=AuthorizationListMode.FORBIDDEN
    )
    assert [(p.national_id, p.blocked, p.mode) for p in forbidden.parties] == [(DOCTOR.national_id, True, "INTERDITE")]
    active = both(
        config, "list_authorizations", BLOCKS_TEST_PS, newcomer, ins_oid=TEST_OID, mode=AuthorizationListMode.ACTIVE
    )
    assert NEWCOMER.national_id in {p.national_id for p in active.parties}
    assert DOCTOR.national_id not in {p.national_id for p in active.parties}
    everyone = both(config, "list_authorizations", BLOCKS_TEST_PS, newcomer, ins_oid=TEST_OID)
    assert {p.national_id for p in everyone.parties} == {p.national_id for p in active.parties + forbidden.parties}


def test_td16_by_a_professional_never_authorised(both: Both, mock_config: DmpConfig) -> None:
    stranger = identity(Actor.professional("899900022226", name="INCONNU Jean", profession="60"))
    with pytest.raises(DmpAuthorizationError, match="declare the authorisation first") as caught:
        both(mock_config, "list_authorizations", PATB_QUATRE, stranger, ins_oid=TEST_OID)
    assert caught.value.code == "DMPAuthorizationNotFound"


def test_td03_in_break_glass_is_refused_locally_and_by_the_mock(mock_config: DmpConfig) -> None:
    break_glass = identity(purpose=PurposeOfUse.BRIS_DE_GLACE)
    with DmpClient(mock_config) as dmp:
        with pytest.raises(DmpRightsPrecheckError, match="606") as local:
            dmp.set_authorization(AUTHORISED, break_glass, ins_oid=TEST_OID)
        assert local.value.td == "TD0.3"
        op = habilitations.set_authorization(dmp.context, AUTHORISED, TEST_OID)
        with pytest.raises(DmpRightsError) as remote:
            dmp.execute(op, break_glass, precheck=False)
    assert "Se déclarer autorisé" in remote.value.reason


def test_removing_the_mt_right_is_for_the_mt_only(mock_config: DmpConfig) -> None:
    nurse_with_card = identity(NURSE, mode=AuthMode.DIRECTE)  # refused before any VIHF is built
    with DmpClient(mock_config) as dmp, pytest.raises(DmpRightsPrecheckError, match=r"526 v1\.8.*PSNM_N.*non"):
        dmp.set_authorization(
            AUTHORISED, nurse_with_card, ins_oid=TEST_OID, action=AuthorizationAction.REMOVE, treating_physician=True
        )


def test_only_a_physician_can_become_treating_physician(mock_config: DmpConfig) -> None:
    with DmpClient(mock_config) as dmp, pytest.raises(DmpRightsError, match="seul un médecin"):
        dmp.set_authorization(AUTHORISED, identity(NURSE), ins_oid=TEST_OID, treating_physician=True)


def test_the_vihf_must_name_the_patient(mock_config: DmpConfig) -> None:
    with DmpClient(mock_config) as dmp:
        op = habilitations.list_authorizations(dmp.context, PATB_QUATRE, TEST_OID)
        assertion = dmp.vihf_issuer.issue(identity(), None, now=dt.datetime.now(dt.UTC))
        with pytest.raises(DmpSoapFault, match="resource-id") as caught:
            dmp.call(
                op.spec.service.value,
                op.body,
                action=op.spec.request_action,
                td=op.td,
                assertion=assertion,
                idempotent=True,
            )
    assert caught.value.subcode == "DMPInvalidVihf"


def test_the_wsdl_soap_action_is_accepted(mock_config: DmpConfig) -> None:
    with DmpClient(mock_config) as dmp:
        op = habilitations.list_authorizations(dmp.context, PATB_QUATRE, TEST_OID)
        patient = PatientId(ins=PATB_QUATRE, oid=TEST_OID)
        assertion = dmp.vihf_issuer.issue(identity(), patient, now=dt.datetime.now(dt.UTC))
        (alternate,) = op.spec.alternate_actions
        with dmp.call(
            op.spec.service.value, op.body, action=alternate, td=op.td, assertion=assertion, idempotent=True
        ) as response:
            assert op.parse(response).parties


def test_an_opposition_is_a_typed_refusal(mock_config: DmpConfig) -> None:
    break_glass = identity(purpose=PurposeOfUse.BRIS_DE_GLACE)
    with DmpClient(mock_config) as dmp, pytest.raises(DmpPatientOppositionError, match="normal access") as caught:
        dmp.administrative_data(OPPOSES_BRIS_DE_GLACE, break_glass, ins_oid=TEST_OID)
    assert caught.value.refusal == "DMPPatientOpposedBreakGlass"


def test_indirect_mode_may_not_declare(mock_config: DmpConfig) -> None:
    with DmpClient(mock_config) as dmp, pytest.raises(DmpRightsPrecheckError, match="ES_N"):
        dmp.set_authorization(AUTHORISED, identity(mode=AuthMode.INDIRECTE), ins_oid=TEST_OID)
