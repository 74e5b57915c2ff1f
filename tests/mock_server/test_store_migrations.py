"""Store migrations on data written by an older mock: v1 → v2 keeps every patient and converts representatives."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from dmpclient.hl7v3.person import Address, Telecom, TelecomKind
from mock_server.store import Store
from mock_server.store.migrations import MIGRATIONS, SCHEMA_VERSION
from mock_server.store.records import LegalRepresentative, Patient

INS = "211046322000147"


def _v1_database(path: Path) -> None:
    """A database as schema v1 wrote it: representatives as ``[relation, family, given]`` triples."""
    with sqlite3.connect(path) as connection:
        for statement in MIGRATIONS[0]:
            connection.execute(statement)
        connection.execute(
            "INSERT INTO patients (ins, ins_oid, family_name, given_name, birth_date, gender, dmp_status, minor, "
            "legal_representatives) VALUES (?, '1.2.250.1.213.1.4.10', 'GARNIER', 'Lucie', '2011-04-12', 'F', "
            "'active', 1, ?)",
            (INS, '[["MTH", "GARNIER", "Claire"], ["FTH", "GARNIER", "Bruno"]]'),
        )
        connection.execute(
            "INSERT INTO authorisations (patient_ins, subject_kind, subject_id, status, granted_at, last_action_at) "
            "VALUES (?, 'professional', '899900063480', 'VALIDE', '2025-01-01T00:00:00.000000+00:00', "
            "'2025-01-01T00:00:00.000000+00:00')",
            (INS,),
        )
        connection.execute("PRAGMA user_version = 1")


def test_v1_data_reads_back_after_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _v1_database(path)
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        patient = store.get_patient(INS)
        assert patient is not None
        assert patient.legal_representatives == (
            LegalRepresentative("MTH", "GARNIER", "Claire"),
            LegalRepresentative("FTH", "GARNIER", "Bruno"),
        )
        assert (patient.addresses, patient.telecoms, patient.birth_place, patient.deceased, patient.ins_c) == (
            (),
            (),
            None,
            False,
            None,
        )
        assert store.list_authorisations(INS)[0].structure_id is None


def test_the_new_details_round_trip(tmp_path: Path) -> None:
    home = Address(street_lines=("12 rue des Lilas",), postal_code="35000", city="RENNES", country="FRANCE", use="H")
    mobile = Telecom(kind=TelecomKind.MOBILE, value="+33612345678", use="MC")
    patient = Patient(
        INS,
        "1.2.250.1.213.1.4.10",
        "GARNIER",
        "Lucie",
        dt.date(2011, 4, 12),
        "F",
        minor=True,
        other_given_names=("Anne",),
        addresses=(home,),
        telecoms=(mobile,),
        birth_place=Address(city="BREST", postal_code="29200"),
        deceased=False,
        ins_c="0" * 22,
        legal_representatives=(LegalRepresentative("MTH", "GARNIER", "Claire", (home,), (mobile,)),),
    )
    with Store.open(tmp_path / "new.sqlite3") as store:
        store.upsert_patient(patient)
        assert store.get_patient(INS) == patient
        assert patient.given_names == ("Lucie", "Anne")
