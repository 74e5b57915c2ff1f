"""A closed DMP, and a patient without one, through the document services (TD3.1, TD3.2, TD3.3), client ↔ mock
over real mutual TLS: ``XDSUnknownPatientId`` (§9.4), nothing read, nothing changed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dmpclient import DmpClient
from dmpclient.errors import DmpRegistryError
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.xds.codes import AvailabilityStatus
from tests.mock_server.conftest import PATB_QUATRE, TEST_OID, FreshMock, identity


def _code(caught: pytest.ExceptionInfo[DmpRegistryError]) -> tuple[str, str]:
    error = caught.value.errors[0]
    return error.error_code, error.code_context


def _close(fresh: FreshMock, ins: str) -> None:
    store = fresh.runtime.store
    patient = store.get_patient(ins)
    assert patient is not None
    closed = dataclasses.replace(patient, dmp_status=DmpStatus.CLOSED, closed_at=dt.datetime.now(dt.UTC))
    store.upsert_patient(closed)


def test_a_closed_dmp_is_neither_read_nor_changed(fresh_mock: FreshMock) -> None:
    doctor = identity()  # PATB-QUATRE's médecin traitant: every row allows him while the DMP is open
    with DmpClient(fresh_mock.config) as dmp:
        found = dmp.find_documents(PATB_QUATRE, doctor, ins_oid=TEST_OID)
        entry = next(e for e in found.documents if e.availability is AvailabilityStatus.APPROVED)
        _close(fresh_mock, PATB_QUATRE)
        with pytest.raises(DmpRegistryError) as archived:
            dmp.archive(PATB_QUATRE, entry, doctor, ins_oid=TEST_OID)
        with pytest.raises(DmpRegistryError) as searched:
            dmp.find_documents(PATB_QUATRE, doctor, ins_oid=TEST_OID)
        with pytest.raises(DmpRegistryError) as retrieved:
            dmp.retrieve_document(PATB_QUATRE, doctor, entry, ins_oid=TEST_OID)
    for caught in (archived, searched, retrieved):
        assert _code(caught) == ("XDSUnknownPatientId", "Le DMP du patient est fermé")
    row = fresh_mock.runtime.store.get_document(entry.unique_id)
    assert row is not None
    assert row.status is AvailabilityStatus.APPROVED


def test_a_patient_without_dmp_has_no_documents_to_search(fresh_mock: FreshMock) -> None:
    """Known to the mock (TD0.2 answers NF for him) but without a DMP: a Failure, not an empty Success."""
    store = fresh_mock.runtime.store
    without = next(p.ins for p in store.list_patients() if p.dmp_status is DmpStatus.NONE)
    with DmpClient(fresh_mock.config) as dmp, pytest.raises(DmpRegistryError) as caught:
        dmp.find_documents(without, identity(), ins_oid=TEST_OID)
    assert _code(caught) == ("XDSUnknownPatientId", "Aucun DMP n'existe pour ce patient")
