"""``patientsSpecific`` service of the mock: TD0.4 (patientList, liste des DMP autorisés, reference §3.5).

Whose authorisations are listed depends on the caller's column (526/606 notes):

* a professional: his own (valid, unexpired) authorisations;
* non-PS staff (CPE 526 note 2, PE 606 note 3, "same structure"): the structure's authorisations and those
  the structure's professionals declared from it; ``psOwnerId`` narrows to one professional of the structure;
* the establishment certificate (ES, 526 note 3, "by date, new authorisations only"): the same scope, but
  ``startDate`` is required and only authorisations declared since then are listed.

``dateType`` ``LASTDOC`` compares ``startDate`` with the DMP's last document instead of the authorisation.
Dates: ``lastAccessDate`` is the caller's last admitted access (trace), ``lastAddDate`` the last document
registered, ``lastUpdateDate`` the last registry change (project design: the DMP's definitions are not public).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from dmpclient.custom.patients_specific import (
    AuthorizedPatient,
    PatientIdentifier,
    PatientListDateType,
    PatientListQuery,
    build_patient_list_response,
    parse_patient_list,
)
from dmpclient.hl7v3.patient_query import INS_C_OID
from dmpclient.transactions import patient_list
from dmpclient.transactions.rights import NoteCondition
from dmpclient.xds.codes import AvailabilityStatus
from mock_server.context import Caller, Reply, RequestContext
from mock_server.routing import Route
from mock_server.store.records import Authorisation, AuthorisationStatus, DmpStatus, Outcome, Patient, SubjectKind

__all__ = ["ROUTES"]

_STRUCTURE_SCOPE: Final = frozenset({NoteCondition.SAME_STRUCTURE_PS, NoteCondition.NEW_AUTHORISATIONS_BY_DATE})
_ALL_STATUSES: Final = tuple(AvailabilityStatus)


def _in_scope(
    authorisation: Authorisation, caller: Caller, conditions: frozenset[NoteCondition], owner: str | None
) -> bool:
    if not conditions & _STRUCTURE_SCOPE:
        return authorisation.subject_kind is SubjectKind.PROFESSIONAL and authorisation.subject_id == caller.ps_id
    if owner:
        return authorisation.subject_id == owner and authorisation.structure_id == caller.structure_id
    if authorisation.subject_kind is SubjectKind.STRUCTURE:
        return authorisation.subject_id == caller.structure_id
    return authorisation.structure_id == caller.structure_id


def _scoped(ctx: RequestContext, query: PatientListQuery) -> dict[str, list[Authorisation]]:
    """The valid authorisations the caller may list, by patient."""
    conditions = ctx.decision.conditions if ctx.decision else frozenset()
    by_patient: dict[str, list[Authorisation]] = {}
    for patient in ctx.store.list_patients():
        for authorisation in ctx.store.list_authorisations(patient.ins, statuses=(AuthorisationStatus.VALIDE,)):
            if authorisation.status_at(ctx.now) is not AuthorisationStatus.VALIDE:
                continue
            if _in_scope(authorisation, ctx.caller, conditions, query.ps_owner_id):
                by_patient.setdefault(patient.ins, []).append(authorisation)
    return by_patient


def _last_access(ctx: RequestContext, ins: str) -> dt.datetime | None:
    return next(
        (
            e.at
            for e in ctx.store.access_trace(patient=ins, limit=200)
            if e.ps_id == ctx.caller.ps_id and e.outcome is Outcome.ALLOWED
        ),
        None,
    )


def _entry(ctx: RequestContext, patient: Patient, authorisations: Iterable[Authorisation]) -> AuthorizedPatient:
    rows = ctx.store.find_documents(patient.ins, statuses=_ALL_STATUSES)
    approved = [r.created_at for r in rows if r.status is AvailabilityStatus.APPROVED]
    identifiers = [PatientIdentifier(national_id=patient.ins, national_id_type=patient.ins_oid)]
    if patient.ins_c:
        identifiers.append(PatientIdentifier(national_id=patient.ins_c, national_id_type=INS_C_OID))
    return AuthorizedPatient(
        identifiers=tuple(identifiers),
        last_name=patient.family_name,
        patronymical_name=patient.birth_name,
        first_name=patient.given_name,
        civility={"M": "M", "F": "MME"}.get(patient.gender),
        birth_date=patient.birth_date,
        treating_physician=any(a.treating_physician and a.subject_id == ctx.caller.ps_id for a in authorisations),
        message=False,
        last_access=_last_access(ctx, patient.ins),
        last_update=max((r.created_at for r in rows), default=None),
        last_add=max(approved, default=None),
    )


def _since_start(entry: AuthorizedPatient, authorisations: list[Authorisation], query: PatientListQuery) -> bool:
    if query.start is None:
        return True
    if query.date_type is PatientListDateType.LAST_DOCUMENT:
        return entry.last_add is not None and entry.last_add >= query.start
    return max(a.last_action_at for a in authorisations) >= query.start


def _patient_list(ctx: RequestContext) -> Reply:
    query = parse_patient_list(ctx.body)
    conditions = ctx.decision.conditions if ctx.decision else frozenset()
    if NoteCondition.NEW_AUTHORISATIONS_BY_DATE in conditions and (
        query.start is None or query.date_type is PatientListDateType.LAST_DOCUMENT
    ):
        context = "Recherche limitée aux nouvelles autorisations : startDate et dateType LASTAUTORIZATION requis"
        return Reply(build_patient_list_response((), status="DMPInvalidRequest", context=context), detail="note 3")
    entries = []
    for ins, authorisations in sorted(_scoped(ctx, query).items()):
        patient = ctx.store.get_patient(ins)
        if patient is None or patient.dmp_status is DmpStatus.NONE:
            continue
        entry = _entry(ctx, patient, authorisations)
        if _since_start(entry, authorisations, query):
            entries.append(entry)
    body = build_patient_list_response(entries, context=f"{len(entries)} DMP")
    return Reply(body, detail=f"n={len(entries)}")


ROUTES: Final = (Route(patient_list.PATIENT_LIST, _patient_list),)
