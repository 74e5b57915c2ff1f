"""Authorisations on a DMP (TD0.3, TD0.4, TD1.6): professionals and structures, blocks, expiry, MT flag."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from mock_server.domain.authorisations import effective_status
from mock_server.store import rows as _rows
from mock_server.store.patients import PatientStore
from mock_server.store.records import Authorisation, AuthorisationStatus, SubjectKind

__all__ = ["AuthorisationStore"]


class AuthorisationStore(PatientStore):
    """Authorisations by patient and by subject."""

    def list_authorisations(
        self, ins: str, *, statuses: Collection[AuthorisationStatus] | None = None
    ) -> list[Authorisation]:
        """The patient's authorisations (TD1.6), optionally only those with a stored status in ``statuses``."""
        rows = self._query("SELECT * FROM authorisations WHERE patient_ins = ? ORDER BY granted_at, subject_id", (ins,))
        found = [_rows.authorisation(row) for row in rows]
        return [a for a in found if statuses is None or a.status in statuses]

    def authorisations_of(self, subject_id: str) -> list[Authorisation]:
        """Every authorisation held by a PS or a structure (TD0.4)."""
        rows = self._query("SELECT * FROM authorisations WHERE subject_id = ? ORDER BY patient_ins", (subject_id,))
        return [_rows.authorisation(row) for row in rows]

    def set_authorisation(self, authorisation: Authorisation) -> None:
        """Create or replace the authorisation of (patient, kind, subject)."""
        params = _rows.authorisation_params(authorisation)
        columns = ", ".join(params)
        placeholders = ", ".join(f":{name}" for name in params)
        with self.transaction():
            self._require_patient(authorisation.patient_ins)
            self._execute(f"INSERT OR REPLACE INTO authorisations ({columns}) VALUES ({placeholders})", params)  # noqa: S608

    def remove_authorisation(self, ins: str, subject_id: str, kind: SubjectKind) -> bool:
        """Delete an authorisation; False when there was none."""
        with self.transaction():
            cursor = self._execute(
                "DELETE FROM authorisations WHERE patient_ins = ? AND subject_kind = ? AND subject_id = ?",
                (ins, kind.value, subject_id),
            )
        return cursor.rowcount > 0

    def authorisation_status(
        self, ins: str, ps_id: str, structure_id: str | None, now: datetime
    ) -> AuthorisationStatus:
        """The caller's TD0.2 ``AUTORISATION`` status on this DMP (precedence in :mod:`mock_server.domain`)."""
        return effective_status(self.list_authorisations(ins), ps_id, structure_id, now)

    def treating_physician_of(self, ins: str, now: datetime) -> Authorisation | None:
        """The patient's médecin traitant DMP (a valid, unexpired professional authorisation with the MT flag)."""
        for authorisation in self.list_authorisations(ins, statuses=(AuthorisationStatus.VALIDE,)):
            if authorisation.treating_physician and authorisation.status_at(now) is AuthorisationStatus.VALIDE:
                return authorisation
        return None
