"""TD0.4 (patientList) against the mock over mutual TLS, through both clients, with the matrices' notes."""

from __future__ import annotations

import datetime as dt

import pytest

from dmpclient._client import DmpClient
from dmpclient.config import DmpConfig
from dmpclient.custom.patients_specific import PatientListDateType
from dmpclient.errors import DmpBusinessError, DmpRightsError, DmpRightsPrecheckError
from dmpclient.security.vihf import Actor, AuthMode, NonPsRole, PurposeOfUse
from dmpclient.transactions import patient_list
from mock_server.runtime import MockRuntime
from mock_server.store.records import AuthorisationStatus, SubjectKind
from tests.mock_server.conftest import DOCTOR, PATB_QUATRE, TEST_OID, Both, FreshMock, identity

SECRETARY = Actor.device("899900063480", name="ACCUEIL Marie", kind=NonPsRole.SECRETARIAT_MEDICAL)
NEWCOMER = Actor.professional("899900011118", name="NOUVEAU Paul", profession="10", specialty="SM26")


def _expected_for_doctor(runtime: MockRuntime, now: dt.datetime) -> set[str]:
    """The patients with a valid authorisation of the test doctor and a DMP (read from the store)."""
    found = set()
    for patient in runtime.store.list_patients():
        if patient.dmp_status.value == "none":
            continue
        for authorisation in runtime.store.list_authorisations(patient.ins):
            mine = (authorisation.subject_kind, authorisation.subject_id) == (
                SubjectKind.PROFESSIONAL,
                DOCTOR.national_id,
            )
            if mine and authorisation.status_at(now) is AuthorisationStatus.VALIDE:
                found.add(patient.ins)
    return found


def test_the_doctors_authorised_dmps(both: Both, mock_config: DmpConfig, mock_runtime: MockRuntime) -> None:
    result = both(mock_config, "patient_list", identity())
    listed = {p.ins: p for p in result.patients}
    assert set(listed) == _expected_for_doctor(mock_runtime, dt.datetime.now(dt.UTC))
    assert "279035121518989" not in listed  # blocked
    assert "211046322000147" not in listed  # expired
    patb = listed[PATB_QUATRE]
    stored = mock_runtime.store.get_patient(PATB_QUATRE)
    assert stored is not None
    assert (patb.last_name, patb.first_name, patb.birth_date, patb.civility) == (
        stored.family_name,
        stored.given_name,
        stored.birth_date,
        "MME",
    )
    assert patb.treating_physician is True
    assert patb.identifiers[0].national_id_type == TEST_OID
    assert patb.last_add is not None
    assert result.context


def test_since_a_date(both: Both, mock_config: DmpConfig) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert both(mock_config, "patient_list", identity(), since=future).patients == ()
    everything = both(mock_config, "patient_list", identity(), since=dt.date(2000, 1, 1))
    by_doc = both(
        mock_config, "patient_list", identity(), since=dt.date(2000, 1, 1), date_type=PatientListDateType.LAST_DOCUMENT
    )
    assert {p.ins for p in by_doc.patients} <= {p.ins for p in everything.patients}
    assert all(p.last_add is not None for p in by_doc.patients)


def test_a_new_authorisation_is_listed_since_the_moment_it_was_declared(fresh_mock: FreshMock) -> None:
    with DmpClient(fresh_mock.config) as dmp:
        before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        assert dmp.patient_list(identity(NEWCOMER)).patients == ()
        dmp.set_authorization(PATB_QUATRE, identity(NEWCOMER), ins_oid=TEST_OID)
        listed = dmp.patient_list(identity(NEWCOMER), since=before)
    assert [p.ins for p in listed.patients] == [PATB_QUATRE]
    assert listed.patients[0].treating_physician is False


def test_staff_see_their_structures_patients(fresh_mock: FreshMock) -> None:
    """606 note 3 / 526 note 2: non-PS staff list the DMPs authorised to their structure or its professionals."""
    structure = fresh_mock.config.structure.id
    with DmpClient(fresh_mock.config) as dmp:
        listed = {p.ins for p in dmp.patient_list(identity(SECRETARY)).patients}
        owner_only = {p.ins for p in dmp.patient_list(identity(SECRETARY), ps_owner_id=DOCTOR.national_id).patients}
    store, now = fresh_mock.runtime.store, dt.datetime.now(dt.UTC)
    expected = {
        p.ins
        for p in store.list_patients()
        if p.dmp_status.value != "none"
        and any(
            a.status_at(now) is AuthorisationStatus.VALIDE
            and (a.subject_id == structure if a.subject_kind is SubjectKind.STRUCTURE else a.structure_id == structure)
            for a in store.list_authorisations(p.ins)
        )
    }
    assert listed == expected
    assert PATB_QUATRE in owner_only
    assert owner_only <= listed


def test_the_establishment_certificate_lists_new_authorisations_by_date(both: Both, mock_config: DmpConfig) -> None:
    """526 note 3: ES (INDIRECTE) in normal access, limited by date to new authorisations."""
    es = identity(mode=AuthMode.INDIRECTE)
    with pytest.raises(DmpBusinessError, match="startDate") as caught:
        both(mock_config, "patient_list", es)
    assert caught.value.code == "DMPInvalidRequest"
    recent = both(
        mock_config, "patient_list", es, since=dt.date(2000, 1, 1), date_type=PatientListDateType.LAST_AUTHORIZATION
    )
    assert PATB_QUATRE in {p.ins for p in recent.patients}


def test_regulation_with_the_establishment_certificate_is_refused_locally_and_by_the_mock(
    mock_config: DmpConfig,
) -> None:
    es_regulation = identity(mode=AuthMode.INDIRECTE, purpose=PurposeOfUse.CENTRE_15)
    with DmpClient(mock_config) as dmp:
        with pytest.raises(DmpRightsPrecheckError, match="ES_R"):
            dmp.patient_list(es_regulation)
        with pytest.raises(DmpRightsError, match="ES_R"):
            dmp.execute(patient_list.patient_list(dmp.context), es_regulation, precheck=False)
