"""TD1.3b (modification des données administratives) and TD0.5 (recherche sans INS) against the mock, over mTLS."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dmpclient._client import DmpClient
from dmpclient.config import DmpConfig
from dmpclient.errors import (
    DmpClosedError,
    DmpNotFoundError,
    DmpRightsError,
    DmpRightsPrecheckError,
    DmpSecretConnectionError,
    DmpSoapFault,
)
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.hl7v3.patient_update import AdministrativeUpdate, UpdateAuthor
from dmpclient.hl7v3.pdq import PatientSearch
from dmpclient.hl7v3.person import Address, Telecom, TelecomKind
from dmpclient.security.vihf import PurposeOfUse
from dmpclient.transactions import patients
from mock_server.runtime import MockRuntime
from tests.mock_server.conftest import CLOSED, PATB_QUATRE, TEST_OID, Both, FreshMock, identity

NOT_ATTACHED = "287080883795737"  # public test patient whose DMP is not attached to Mon espace santé
REGULATION = identity(purpose=PurposeOfUse.CENTRE_15)
AUTHOR = UpdateAuthor("899900063480", "LIBRE", "MAX", "10B0127189")


def _update(both: Both, config: DmpConfig, ins: str, **changes: object) -> object:
    record = both(config, "administrative_data", ins, identity(), ins_oid=TEST_OID)
    update = AdministrativeUpdate.from_record(record).model_copy(update=changes)
    return both(config, "update_administrative_data", update, identity())


def test_update_contacts_and_oppositions(both: Both, fresh_mock: FreshMock) -> None:
    config = fresh_mock.config
    before = both(config, "administrative_data", NOT_ATTACHED, identity(), ins_oid=TEST_OID)
    telecoms = (
        Telecom(kind=TelecomKind.MOBILE, value="+33700112233", use="MC"),
        Telecom(kind=TelecomKind.MAIL, value="nouvelle.adresse@exemple.fr", use="H"),
    )
    home = Address(street_lines=("8 rue de la Gare",), postal_code="35000", city="RENNES", country="FRANCE", use="H")
    updated = _update(
        both,
        config,
        NOT_ATTACHED,
        telecoms=telecoms,
        addresses=(home,),
        opposition_bris_de_glace=True,
        family="UN AUTRE NOM",  # traits from the INS are not changed
    )
    assert (updated.status, updated.ins, updated.family) == (DmpStatus.ACTIVE, NOT_ATTACHED, before.family)
    after = both(config, "administrative_data", NOT_ATTACHED, identity(), ins_oid=TEST_OID)
    assert (after.telecoms, after.addresses, after.opposition_bris_de_glace) == (telecoms, (home,), True)
    assert (after.family, after.given_names, after.birth_date) == (before.family, before.given_names, before.birth_date)
    assert after.opposition_acces_urgence == before.opposition_acces_urgence
    traced = [(e.td, e.detail) for e in fresh_mock.runtime.store.access_trace(patient=NOT_ATTACHED, limit=3)]
    assert traced == [("TD1.3a", "dmp=active"), ("TD1.3b", "updated"), ("TD1.3a", "dmp=active")]


def test_a_dmp_attached_to_mon_espace_sante_is_refused(both: Both, mock_config: DmpConfig) -> None:
    with pytest.raises(DmpRightsError, match="Mon espace santé") as caught:
        _update(both, mock_config, PATB_QUATRE)
    assert caught.value.refusal == "DMPAttachedToMES"


def test_closed_and_missing_dmps_are_typed(mock_config: DmpConfig, mock_runtime: MockRuntime) -> None:
    without = next(p for p in mock_runtime.store.list_patients() if p.dmp_status.value == "none")
    with DmpClient(mock_config) as dmp:
        closed = AdministrativeUpdate(ins=CLOSED, ins_oid=TEST_OID)
        with pytest.raises(DmpClosedError) as caught:
            dmp.update_administrative_data(closed, identity())
        assert (caught.value.code, caught.value.td) == ("DMPClosed", "TD1.3b")
        with pytest.raises(DmpNotFoundError):
            dmp.update_administrative_data(AdministrativeUpdate(ins=without.ins, ins_oid=without.ins_oid), identity())


def test_a_minors_secret_connection_protects_his_data(fresh_mock: FreshMock) -> None:
    store = fresh_mock.runtime.store
    minor = next(p for p in store.list_patients() if p.secret_connection)
    store.upsert_patient(dataclasses.replace(minor, mes_attached=False))
    with DmpClient(fresh_mock.config) as dmp, pytest.raises(DmpSecretConnectionError, match="secret connection"):
        dmp.update_administrative_data(AdministrativeUpdate(ins=minor.ins, ins_oid=minor.ins_oid), identity())


def test_td13b_in_regulation_is_refused_locally_and_by_the_mock(mock_config: DmpConfig) -> None:
    update = AdministrativeUpdate(ins=NOT_ATTACHED, ins_oid=TEST_OID)
    with DmpClient(mock_config) as dmp:
        with pytest.raises(DmpRightsPrecheckError, match="project rule"):
            dmp.update_administrative_data(update, REGULATION)
        op = patients.update_administrative_data(dmp.context, update, AUTHOR)
        with pytest.raises(DmpRightsError, match="règle du projet"):
            dmp.execute(op, REGULATION, precheck=False)


# --- TD0.5 --------------------------------------------------------------------------------------


def test_search_without_ins_in_regulation(both: Both, mock_config: DmpConfig, mock_runtime: MockRuntime) -> None:
    result = both(mock_config, "search_patients", PatientSearch(family="figatellix"), REGULATION)
    (found,) = result.candidates
    stored = mock_runtime.store.get_patient("188102B17295264")
    assert stored is not None
    assert (found.ins, found.ins_oid, found.family, found.given_names) == (
        stored.ins,
        stored.ins_oid,
        stored.family_name,
        stored.given_names,
    )
    assert (found.match_score, found.status, found.birth_date) == (100, DmpStatus.ACTIVE, stored.birth_date)
    assert found.opposition_acces_urgence is False
    assert found.addresses == (Address(postal_code=stored.addresses[0].postal_code, city=stored.addresses[0].city),)
    assert (result.total, result.remaining) == (1, 0)


def test_search_by_the_beginning_of_a_name_and_traits(
    both: Both, mock_config: DmpConfig, mock_runtime: MockRuntime
) -> None:
    patb = mock_runtime.store.get_patient(PATB_QUATRE)
    assert patb is not None
    search = PatientSearch(family="PATB", given="laur", gender="F", birth_date=patb.birth_date)
    result = both(mock_config, "search_patients", search, REGULATION)
    assert [(c.ins, c.match_score) for c in result.candidates] == [(PATB_QUATRE, 70)]
    wrong_day = search.model_copy(update={"birth_date": patb.birth_date + dt.timedelta(days=1)})
    assert both(mock_config, "search_patients", wrong_day, REGULATION).candidates == ()


def test_patients_opposed_to_regulation_access_are_flagged(mock_config: DmpConfig, mock_runtime: MockRuntime) -> None:
    opposed = next(
        p for p in mock_runtime.store.list_patients() if p.opposition_acces_urgence and p.dmp_status.value == "active"
    )
    with DmpClient(mock_config) as dmp:
        result = dmp.search_patients(PatientSearch(family=opposed.family_name, given=opposed.given_name), REGULATION)
    assert {(c.ins, c.opposition_acces_urgence) for c in result.candidates} >= {(opposed.ins, True)}


def test_td05_outside_regulation_is_refused_locally_and_by_the_mock(mock_config: DmpConfig) -> None:
    normal = identity()
    with DmpClient(mock_config) as dmp:
        with pytest.raises(DmpRightsPrecheckError, match=r"TD0\.5"):
            dmp.search_patients(PatientSearch(family="FIGATELLIX"), normal)
        op = patients.search_patients(dmp.context, PatientSearch(family="FIGATELLIX"))
        with pytest.raises(DmpRightsError, match="MED_N"):
            dmp.execute(op, normal, precheck=False)


def test_a_search_needs_two_letters_of_a_name() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        PatientSearch(family="F")


@pytest.mark.parametrize(
    ("search", "message"),
    [
        (PatientSearch(family="--"), "nom de famille"),
        (PatientSearch(family="' -"), "nom de famille"),
        (PatientSearch(family="A-"), "nom de famille"),
        (PatientSearch(family="PATB", given="-"), "prénom"),
    ],
    ids=["hyphens", "punctuation", "one-letter", "given-hyphen"],
)
def test_td05_names_that_normalise_to_nothing_are_refused(
    both: Both, mock_config: DmpConfig, search: PatientSearch, message: str
) -> None:
    """Compared without punctuation, these would match every patient at 100 %: a Sender fault instead."""
    with pytest.raises(DmpSoapFault) as caught:
        both(mock_config, "search_patients", search, REGULATION)
    assert caught.value.code == "Sender"
    assert "Recherche TD0.5 invalide" in caught.value.reason
    assert message in caught.value.reason
