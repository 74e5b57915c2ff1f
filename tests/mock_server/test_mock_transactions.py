"""TD0.2 and TD1.3a against the seeded mock, through both clients (sync and async) over mutual TLS."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest

from dmpclient import AsyncDmpClient, DmpClient
from dmpclient.config import DmpConfig
from dmpclient.hl7v3.patient_query import AuthorizationStatus, DmpStatus, ExistenceAnswer
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.pki import TestPki
from mock_server.runtime import MockRuntime
from mock_server.store.records import DmpStatus as StoredStatus
from mock_server.store.records import Outcome
from tests.mock_server.conftest import CLOSED, NURSE, OPPOSES_BRIS_DE_GLACE, PATB_QUATRE, TEST_OID, identity

BLOCKS_TEST_PS = "279035121518989"
EXPIRED_FOR_TEST_PS = "211046322000147"

Ask = Callable[..., ExistenceAnswer]


async def _ask_async(config: DmpConfig, ins: str, who: CallerIdentity, *, admin: bool) -> ExistenceAnswer:
    async with AsyncDmpClient(config) as dmp:
        if admin:
            return await dmp.administrative_data(ins, who, ins_oid=TEST_OID)
        return await dmp.test_existence(ins, who, ins_oid=TEST_OID)


def _ask_sync(config: DmpConfig, ins: str, who: CallerIdentity, *, admin: bool) -> ExistenceAnswer:
    with DmpClient(config) as dmp:
        if admin:
            return dmp.administrative_data(ins, who, ins_oid=TEST_OID)
        return dmp.test_existence(ins, who, ins_oid=TEST_OID)


@pytest.fixture(params=["sync", "async"])
def ask(request: pytest.FixtureRequest, mock_config: DmpConfig) -> Ask:
    """TD0.2 (or TD1.3a with ``admin=True``) through the sync or the async client."""

    def run(ins: str, who: CallerIdentity | None = None, *, admin: bool = False) -> ExistenceAnswer:
        who = who or identity()
        if request.param == "sync":
            return _ask_sync(mock_config, ins, who, admin=admin)
        return asyncio.run(_ask_async(mock_config, ins, who, admin=admin))

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


def test_td13a_oppositions_are_reported(ask: Ask, mock_runtime: MockRuntime) -> None:
    answer = ask(OPPOSES_BRIS_DE_GLACE, admin=True)
    assert answer.status is DmpStatus.ACTIVE
    assert answer.observations["OPPOSITION_BRIS_DE_GLACE"] is True
    assert answer.observations["OPPOSITION_ACCES_URGENCE"] is False
    assert answer.authorization is None  # TD1.3a carries no authorisation line
    entry = mock_runtime.store.access_trace(limit=1)[0]
    assert (entry.td, entry.outcome) == ("TD1.3a", Outcome.ALLOWED)


def test_td13a_without_oppositions(ask: Ask) -> None:
    answer = ask(PATB_QUATRE, admin=True)
    assert answer.observations == {"OPPOSITION_BRIS_DE_GLACE": False, "OPPOSITION_ACCES_URGENCE": False}
    assert answer.patient is not None
    assert answer.patient.family == "PATB-QUATRE"
