"""Client methods of TD0.3, TD1.6 (``habilitations``) and TD0.4 (``patientsSpecific``): sync and async side by side."""

from __future__ import annotations

import datetime as dt

from dmpclient._shell import AsyncApi, SyncApi
from dmpclient.custom.habilitations import (
    AuthorizationAction,
    AuthorizationList,
    AuthorizationListMode,
    AuthorizationUpdate,
)
from dmpclient.custom.patients_specific import PatientList, PatientListDateType
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity
from dmpclient.transactions import habilitations, patient_list

__all__ = ["AsyncAuthorizationMethods", "AuthorizationMethods"]


class AuthorizationMethods(SyncApi):
    """TD0.3, TD1.6."""

    def set_authorization(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        action: AuthorizationAction = AuthorizationAction.ADD,
        treating_physician: bool = False,
    ) -> AuthorizationUpdate:
        """TD0.3: declare ``identity`` authorised on the patient's DMP (``AJOUT``) or remove it (``SUPPRESSION``);
        with ``treating_physician``, become or stop being médecin traitant. Never retried automatically."""
        op = habilitations.set_authorization(
            self.context, ins, ins_oid, action=action, treating_physician=treating_physician
        )
        return self.execute(op, identity)

    def list_authorizations(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        mode: AuthorizationListMode | None = None,
    ) -> AuthorizationList:
        """TD1.6: the professionals and structures authorised on (or blocked from) the patient's DMP."""
        return self.execute(habilitations.list_authorizations(self.context, ins, ins_oid, mode=mode), identity)

    def patient_list(
        self,
        identity: CallerIdentity,
        *,
        since: dt.datetime | dt.date | None = None,
        date_type: PatientListDateType | None = None,
        ps_owner_id: str | None = None,
    ) -> PatientList:
        """TD0.4: the DMPs ``identity`` is authorised on, by last authorisation (or last document) since a date."""
        op = patient_list.patient_list(self.context, since=since, date_type=date_type, ps_owner_id=ps_owner_id)
        return self.execute(op, identity)


class AsyncAuthorizationMethods(AsyncApi):
    """The awaited twins of :class:`AuthorizationMethods`."""

    async def set_authorization(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        action: AuthorizationAction = AuthorizationAction.ADD,
        treating_physician: bool = False,
    ) -> AuthorizationUpdate:
        """TD0.3: see :meth:`DmpClient.set_authorization`."""
        op = habilitations.set_authorization(
            self.context, ins, ins_oid, action=action, treating_physician=treating_physician
        )
        return await self.execute(op, identity)

    async def list_authorizations(
        self,
        ins: str,
        identity: CallerIdentity,
        *,
        ins_oid: str = InsOid.NIR,
        mode: AuthorizationListMode | None = None,
    ) -> AuthorizationList:
        """TD1.6: see :meth:`DmpClient.list_authorizations`."""
        return await self.execute(habilitations.list_authorizations(self.context, ins, ins_oid, mode=mode), identity)

    async def patient_list(
        self,
        identity: CallerIdentity,
        *,
        since: dt.datetime | dt.date | None = None,
        date_type: PatientListDateType | None = None,
        ps_owner_id: str | None = None,
    ) -> PatientList:
        """TD0.4: see :meth:`DmpClient.patient_list`."""
        op = patient_list.patient_list(self.context, since=since, date_type=date_type, ps_owner_id=ps_owner_id)
        return await self.execute(op, identity)
