"""``patients`` service of the mock: TD0.2 (test d'existence + autorisation) and TD1.3a (données admin)."""

from __future__ import annotations

from typing import Final

from dmpclient.hl7v3.patient_query import (
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
    PatientReason,
    build_patient_response,
    parse_patient_query,
)
from dmpclient.transactions import patients
from mock_server.context import Reply, RequestContext
from mock_server.routing import Route
from mock_server.store.records import Patient

__all__ = ["ROUTES"]


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


def _answer(ctx: RequestContext, patient: Patient | None, reason: PatientReason) -> ExistenceAnswer:
    if patient is None or patient.dmp_status is DmpStatus.NONE:
        return ExistenceAnswer(DmpStatus.NONE)
    if reason is PatientReason.ADMINISTRATIVE_DATA:
        observations = {
            "OPPOSITION_BRIS_DE_GLACE": patient.opposition_bris_de_glace,
            "OPPOSITION_ACCES_URGENCE": patient.opposition_acces_urgence,
        }
        return ExistenceAnswer(patient.dmp_status, patient=_identity(patient), observations=observations)
    caller = ctx.caller
    authorisation = ctx.store.authorisation_status(patient.ins, caller.ps_id, caller.structure_id, ctx.now)
    return ExistenceAnswer(
        patient.dmp_status,
        authorization=authorisation,
        treating_physician=caller.treating_physician,  # the gate checked resource-id == this patient
        patient=_identity(patient),
        observations={"COMPTE_INTERNET_OUVERT": patient.web_account, "RATTACHEMENT_ENS": patient.mes_attached},
    )


def _patient_query(ctx: RequestContext) -> Reply:
    query = parse_patient_query(ctx.body)
    answer = _answer(ctx, ctx.store.get_patient(query.ins), query.reason)
    body = build_patient_response(query, answer, response_id=ctx.new_id(), now=ctx.now)
    return Reply(body, detail=f"dmp={answer.status.value}")


ROUTES: Final = (
    Route(patients.TEST_EXISTENCE, _patient_query),
    Route(patients.ADMINISTRATIVE_DATA, _patient_query),
)
