"""Client methods of TD0.2, TD1.3a, TD1.3b and TD0.5 (``patients``, ``patientsPDQ``), sync and async."""

from __future__ import annotations

from dmpclient._prepare import update_author
from dmpclient._shell import AsyncApi, SyncApi
from dmpclient.hl7v3.patient_query import AdministrativeRecord, ExistenceAnswer
from dmpclient.hl7v3.patient_update import AdministrativeUpdate, AdministrativeUpdated
from dmpclient.hl7v3.pdq import PatientSearch, PatientSearchResult
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity
from dmpclient.transactions import patients

__all__ = ["AsyncPatientMethods", "PatientMethods"]


class PatientMethods(SyncApi):
    """TD0.2, TD1.3a, TD1.3b, TD0.5."""

    def test_existence(self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR) -> ExistenceAnswer:
        """TD0.2: does a DMP exist for this INS, is it open, is the caller authorised / médecin traitant?"""
        return self.execute(patients.test_existence(self.context, ins, ins_oid), identity)

    def administrative_data(
        self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR
    ) -> AdministrativeRecord:
        """TD1.3a: the patient's administrative record (identity, addresses, telecoms, legal representatives,
        oppositions); :class:`~dmpclient.errors.DmpNotFoundError` when there is no DMP."""
        return self.execute(patients.administrative_data(self.context, ins, ins_oid), identity)

    def update_administrative_data(
        self, update: AdministrativeUpdate, identity: CallerIdentity
    ) -> AdministrativeUpdated:
        """TD1.3b: change the patient's contacts, legal representatives and oppositions (start from
        ``AdministrativeUpdate.from_record(dmp.administrative_data(…))``). Only for DMPs not attached to Mon espace
        santé; never retried automatically."""
        op = patients.update_administrative_data(self.context, update, update_author(self.config, identity))
        return self.execute(op, identity)

    def search_patients(self, search: PatientSearch, identity: CallerIdentity) -> PatientSearchResult:
        """TD0.5: find patients without their INS (PDQv3), in régulation access only (``PurposeOfUse.CENTRE_15``)."""
        return self.execute(patients.search_patients(self.context, search), identity)


class AsyncPatientMethods(AsyncApi):
    """The awaited twins of :class:`PatientMethods`."""

    async def test_existence(self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR) -> ExistenceAnswer:
        """TD0.2: does a DMP exist for this INS, is it open, is the caller authorised / médecin traitant?"""
        return await self.execute(patients.test_existence(self.context, ins, ins_oid), identity)

    async def administrative_data(
        self, ins: str, identity: CallerIdentity, *, ins_oid: str = InsOid.NIR
    ) -> AdministrativeRecord:
        """TD1.3a: see :meth:`DmpClient.administrative_data`."""
        return await self.execute(patients.administrative_data(self.context, ins, ins_oid), identity)

    async def update_administrative_data(
        self, update: AdministrativeUpdate, identity: CallerIdentity
    ) -> AdministrativeUpdated:
        """TD1.3b: see :meth:`DmpClient.update_administrative_data`."""
        op = patients.update_administrative_data(self.context, update, update_author(self.config, identity))
        return await self.execute(op, identity)

    async def search_patients(self, search: PatientSearch, identity: CallerIdentity) -> PatientSearchResult:
        """TD0.5: see :meth:`DmpClient.search_patients`."""
        return await self.execute(patients.search_patients(self.context, search), identity)
