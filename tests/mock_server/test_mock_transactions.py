"""TD0.2 and TD1.3a against the seeded mock, through both clients (sync and async) over mutual TLS."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest

from dmpclient import AsyncDmpClient, DmpClient
from dmpclient.config import DmpConfig
from dmpclient.errors import DmpNotFoundError
from dmpclient.hl7v3.patient_query import AdministrativeRecord, AuthorizationStatus, DmpStatus, ExistenceAnswer
from dmpclient.hl7v3.person import TelecomKind
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.pki import TestPki
from mock_server.runtime import MockRuntime
from mock_server.store.records import DmpStatus as StoredStatus
from mock_server.store.records import Outcome
from tests.mock_server.conftest import CLOSED, NURSE, OPPOSES_BRIS_DE_GLACE, PATB_QUATRE, TEST_OID, identity

BLOCKS_TEST_PS = "279035121518989"
EXPIRED_FOR_TEST_PS = "211046322000147"

Ask = Callable[..., ExistenceAnswer]
Admin = Callable[[str], AdministrativeRecord]


async def _ask_async(config: DmpConfig, ins: str, who: CallerIdentity) -> ExistenceAnswer:
    async with AsyncDmpClient(config) as dmp:
        return await dmp.test_existence(ins, who, ins_oid=TEST_OID)


def _ask_sync(config: DmpConfig, ins: str, who: CallerIdentity) -> ExistenceAnswer:
    with DmpClient(config) as dmp:
        return dmp.test_existence(ins, who, ins_oid=TEST_OID)


async def _admin_async(config: DmpConfig, ins: str) -> AdministrativeRecord:
    async with AsyncDmpClient(config) as dmp:
        return await dmp.administrative_data(ins, identity(), ins_oid=TEST_OID)


def _admin_sync(config: DmpConfig, ins: str) -> AdministrativeRecord:
    with DmpClient(config) as dmp:
        return dmp.administrative_data(ins, identity(), ins_oid=TEST_OID)


@pytest.fixture(params=["sync", "async"])
def ask(request: pytest.FixtureRequest, mock_config: DmpConfig) -> Ask:
    """TD0.2 through the sync or the async client."""

    def run(ins: str, who: CallerIdentity | None = None) -> ExistenceAnswer:
        who = who or identity()
        if request.param == "sync":
            return _ask_sync(mock_config, ins, who)
        return asyncio.run(_ask_async(mock_config, ins, who))

    return run


@pytest.fixture(params=["sync", "async"])
def admin(request: pytest.FixtureRequest, mock_config: DmpConfig) -> Admin:
    """TD1.3a through the sync or the async client."""

    def run(ins: str) -> AdministrativeRecord:
        if request.param == "sync":
            return _admin_sync(mock_config, ins)
        return asyncio.run(_admin_async(mock_config, ins))

    return run


def test_td02_open_dmp_of_a_patient_the_doctor_treats(ask: Ask, mock_runtime: MockRuntime) -> None:
    answer = ask(PATB_QUATRE)
    assert answer.status is DmpStatus.ACTIVE
    assert answer.authorization is AuthorizationStatus.VALIDE
    assert answer.treating_physician is True
    assert answer.patient is not None
    assert (answer.patient.ins, answer.patient.ins_oid) == (PATB_QUATRE, TEST_OID)
    assert (answer.patient.family, answer.patient.given) == ("PATB-QUATRE", "Laurence")
    assert answer.patient.birth_date is not None
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.td, entry.outcome, entry.patient_ins) == ("TD0.2", Outcome.ALLOWED, PATB_QUATRE)


def test_td02_a_nurse_is_not_the_treating_physician(ask: Ask, mock_runtime: MockRuntime, pki: TestPki) -> None:
    answer = ask(PATB_QUATRE, identity(NURSE))
    assert answer.status is DmpStatus.ACTIVE
    assert answer.treating_physician is False
    stored = mock_runtime.store.authorisation_status(
        PATB_QUATRE, NURSE.national_id, pki.structure_id, dt.datetime.now(dt.UTC)
    )
    assert answer.authorization is AuthorizationStatus(stored.value)  # e.g. through her structure's authorisation


def test_td02_closed_dmp(ask: Ask) -> None:
    answer = ask(CLOSED)
    assert answer.status is DmpStatus.CLOSED
    assert answer.exists


def test_td02_patient_without_dmp(ask: Ask, mock_runtime: MockRuntime) -> None:
    without = next(
        p for p in mock_runtime.store.list_patients() if p.dmp_status is StoredStatus.NONE and p.ins_oid == TEST_OID
    )
    answer = ask(without.ins)
    assert answer.status is DmpStatus.NONE
    assert not answer.exists
    assert answer.patient is None


@pytest.mark.parametrize(
    ("ins", "expected"),
    [(BLOCKS_TEST_PS, AuthorizationStatus.INTERDIT), (EXPIRED_FOR_TEST_PS, AuthorizationStatus.EXPIRE)],
)
def test_td02_authorisation_states_from_the_store(ask: Ask, ins: str, expected: AuthorizationStatus) -> None:
    answer = ask(ins)
    assert answer.authorization is expected
    assert answer.treating_physician is False


def test_td13a_oppositions_are_reported(admin: Admin, mock_runtime: MockRuntime) -> None:
    record = admin(OPPOSES_BRIS_DE_GLACE)
    assert record.status is DmpStatus.ACTIVE
    assert record.opposition_bris_de_glace is True
    assert record.opposition_acces_urgence is False
    assert record.observation("OPPOSITION_BRIS_DE_GLACE") is not None
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.td, entry.outcome) == ("TD1.3a", Outcome.ALLOWED)


def test_td13a_returns_the_stored_record(admin: Admin, mock_runtime: MockRuntime) -> None:
    record = admin(PATB_QUATRE)
    stored = mock_runtime.store.get_patient(PATB_QUATRE)
    assert stored is not None
    assert (record.opposition_bris_de_glace, record.opposition_acces_urgence) == (False, False)
    assert (record.family, record.given_names, record.gender) == ("PATB-QUATRE", stored.given_names, stored.gender)
    assert record.birth_date == stored.birth_date
    assert record.addresses == stored.addresses
    assert record.telecoms == stored.telecoms
    assert record.birth_place == stored.birth_place
    assert record.ins_c == stored.ins_c


def test_td13a_minor_with_two_legal_representatives(admin: Admin, mock_runtime: MockRuntime) -> None:
    minor = next(p for p in mock_runtime.store.list_patients() if p.minor and p.dmp_status is StoredStatus.ACTIVE)
    record = admin(minor.ins)
    assert [r.relationship for r in record.legal_representatives] == ["MTH", "FTH"]
    assert record.family == minor.family_name  # the patient's own name, not a representative's
    for representative, stored in zip(record.legal_representatives, minor.legal_representatives, strict=True):
        assert (representative.family, representative.given_names) == (stored.family_name, (stored.given_name,))
        assert representative.addresses == stored.addresses
        assert representative.telecoms == stored.telecoms
        assert {t.kind for t in representative.telecoms} == {TelecomKind.MOBILE, TelecomKind.MAIL}


def test_td13a_without_dmp_is_a_not_found_error(admin: Admin, mock_runtime: MockRuntime) -> None:
    without = next(
        p for p in mock_runtime.store.list_patients() if p.dmp_status is StoredStatus.NONE and p.ins_oid == TEST_OID
    )
    with pytest.raises(DmpNotFoundError, match="no DMP") as caught:
        admin(without.ins)
    assert without.ins not in str(caught.value)
