"""``patients`` service of the mock: TD0.2 (test d'existence + autorisation) and TD1.3a (données admin)."""

from __future__ import annotations

from typing import Final

from dmpclient.hl7v3.patient_query import (
    AdministrativeRecord,
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
    PatientReason,
    build_administrative_response,
    build_patient_response,
    observation_of,
    parse_patient_query,
)
from dmpclient.hl7v3.person import LegalRepresentative
from dmpclient.transactions import patients
from mock_server.context import Reply, RequestContext
from mock_server.routing import Route
from mock_server.store.records import LegalRepresentative as StoredRepresentative
from mock_server.store.records import Patient

__all__ = ["ROUTES", "administrative_record"]


def _identity(patient: Patient) -> PatientIdentity:
    return PatientIdentity(
        ins=patient.ins,
        ins_oid=patient.ins_oid,
        family=patient.family_name,
        birth_family=patient.birth_name,
        given=patient.given_name,
        gender=patient.gender,
        birth_date=patient.birth_date,
    )


def _representative(stored: StoredRepresentative) -> LegalRepresentative:
    return LegalRepresentative(
        relationship=stored.relation,
        family=stored.family_name,
        given_names=(stored.given_name,),
        addresses=stored.addresses,
        telecoms=stored.telecoms,
    )


def administrative_record(patient: Patient) -> AdministrativeRecord:
    """What TD1.3a answers for a stored patient (also what the web PS pages show)."""
    return AdministrativeRecord(
        status=patient.dmp_status,
        ins=patient.ins,
        ins_oid=patient.ins_oid,
        ins_c=patient.ins_c,
        family=patient.family_name,
        birth_family=patient.birth_name,
        given_names=patient.given_names,
        gender=patient.gender,
        birth_time=patient.birth_date.strftime("%Y%m%d"),
        deceased=patient.deceased,
        birth_place=patient.birth_place,
        addresses=patient.addresses,
        telecoms=patient.telecoms,
        legal_representatives=tuple(_representative(r) for r in patient.legal_representatives),
        observations=(
            observation_of("OPPOSITION_BRIS_DE_GLACE", patient.opposition_bris_de_glace),
            observation_of("OPPOSITION_ACCES_URGENCE", patient.opposition_acces_urgence),
        ),
    )


def _existence(ctx: RequestContext, patient: Patient | None) -> ExistenceAnswer:
    if patient is None or patient.dmp_status is DmpStatus.NONE:
        return ExistenceAnswer(status=DmpStatus.NONE)
    caller = ctx.caller
    authorisation = ctx.store.authorisation_status(patient.ins, caller.ps_id, caller.structure_id, ctx.now)
    return ExistenceAnswer(
        status=patient.dmp_status,
        authorization=authorisation,
        treating_physician=caller.treating_physician,  # the gate checked resource-id == this patient
        patient=_identity(patient),
        observations={"COMPTE_INTERNET_OUVERT": patient.web_account, "RATTACHEMENT_ENS": patient.mes_attached},
    )


def _patient_query(ctx: RequestContext) -> Reply:
    query = parse_patient_query(ctx.body)
    patient = ctx.store.get_patient(query.ins)
    if query.reason is PatientReason.ADMINISTRATIVE_DATA:
        exists = patient is not None and patient.dmp_status is not DmpStatus.NONE
        record = administrative_record(patient) if exists and patient is not None else None
        body = build_administrative_response(query, record, response_id=ctx.new_id(), now=ctx.now)
        return Reply(body, detail=f"dmp={record.status.value if record else 'none'}")
    answer = _existence(ctx, patient)
    body = build_patient_response(query, answer, response_id=ctx.new_id(), now=ctx.now)
    return Reply(body, detail=f"dmp={answer.status.value}")


ROUTES: Final = (
    Route(patients.TEST_EXISTENCE, _patient_query),
    Route(patients.ADMINISTRATIVE_DATA, _patient_query),
)
