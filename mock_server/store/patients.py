"""Patients of the mock DMP (the DMP record itself: status, oppositions, legal representatives)."""

from __future__ import annotations

from mock_server.store import rows as _rows
from mock_server.store.database import Database
from mock_server.store.records import Patient, UnknownObjectError

__all__ = ["PatientStore"]


class PatientStore(Database):
    """Patients by INS."""

    def get_patient(self, ins: str) -> Patient | None:
        rows = self._query("SELECT * FROM patients WHERE ins = ?", (ins,))
        return _rows.patient(rows[0]) if rows else None

    def list_patients(self) -> list[Patient]:
        return [_rows.patient(row) for row in self._query("SELECT * FROM patients ORDER BY ins")]

    def upsert_patient(self, patient: Patient) -> None:
        params = _rows.patient_params(patient)
        columns = ", ".join(params)
        updates = ", ".join(f"{name} = excluded.{name}" for name in params if name != "ins")
        placeholders = ", ".join(f":{name}" for name in params)
        sql = f"INSERT INTO patients ({columns}) VALUES ({placeholders}) ON CONFLICT (ins) DO UPDATE SET {updates}"  # noqa: S608 - column names are ours
        with self.transaction():
            self._execute(sql, params)

    def _require_patient(self, ins: str) -> None:
        if not self._query("SELECT 1 FROM patients WHERE ins = ?", (ins,)):
            raise UnknownObjectError("unknown patient")
