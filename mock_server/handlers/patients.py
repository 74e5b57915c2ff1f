"""``patients`` service of the mock: TD0.2 (test d'existence + autorisation), TD1.3a / TD1.3b (données admin).

TD1.3b (project design where the reference is silent): refused with ``DMPPatientNotFound`` / ``DMPClosed``
acknowledgements when there is no open DMP; by the rights service when the DMP is attached to Mon espace santé
(526 note 10: the patient manages his data there); with ``DMPSecretConnection`` for a minor who asked for a
secret connection (changing his representatives' details would reveal it). Otherwise the contacts, legal
representatives, birth place and oppositions sent replace the stored ones; names, sex and birth date come from
the INS and stay as they are.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

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
from dmpclient.hl7v3.patient_update import (
    AdministrativeUpdate,
    build_update_accepted,
    build_update_refused,
    parse_update,
)
from dmpclient.hl7v3.person import LegalRepresentative
from dmpclient.transactions import patients
from mock_server.context import Reply, RequestContext
from mock_server.domain.refusals import dmp_refusal
from mock_server.errors import MockFault
from mock_server.gate import RIGHTS_SUBCODE
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


def _stored_representative(representative: LegalRepresentative) -> StoredRepresentative:
    given = representative.given_names[0] if representative.given_names else ""
    return StoredRepresentative(
        representative.relationship,
        representative.family or "",
        given,
        representative.addresses,
        representative.telecoms,
    )


def _updated(patient: Patient, update: AdministrativeUpdate) -> Patient:
    """The patient with the contacts, representatives, birth place and oppositions the update carries."""
    return dataclasses.replace(
        patient,
        telecoms=update.telecoms,
        addresses=update.addresses,
        legal_representatives=tuple(_stored_representative(r) for r in update.legal_representatives),
        birth_place=update.birth_place if update.birth_place is not None else patient.birth_place,
        deceased=update.deceased if update.deceased is not None else patient.deceased,
        opposition_bris_de_glace=(
            update.opposition_bris_de_glace
            if update.opposition_bris_de_glace is not None
            else patient.opposition_bris_de_glace
        ),
        opposition_acces_urgence=(
            update.opposition_acces_urgence
            if update.opposition_acces_urgence is not None
            else patient.opposition_acces_urgence
        ),
    )


def _update(ctx: RequestContext) -> Reply:
    request = parse_update(ctx.body)
    patient = ctx.store.get_patient(request.update.ins)
    answer: dict[str, Any] = {"response_id": ctx.new_id(), "now": ctx.now}
    refusal = dmp_refusal(patient)
    if refusal is not None or patient is None:
        code, text = refusal or ("DMPPatientNotFound", "")
        return Reply(build_update_refused(request, code, text, **answer), detail=code)
    if patient.mes_attached:
        raise MockFault(
            RIGHTS_SUBCODE,
            "Accès refusé : le DMP est rattaché à Mon espace santé, le patient y gère ses données (note 10)",
            refusal="DMPAttachedToMES",
        )
    if patient.minor and patient.secret_connection:
        text = "Le patient mineur a demandé une connexion secrète : ses données administratives sont protégées"
        return Reply(build_update_refused(request, "DMPSecretConnection", text, **answer), detail="secret")
    updated = _updated(patient, request.update)
    ctx.store.upsert_patient(updated)
    accepted = request.update.model_copy(
        update={"family": updated.family_name, "birth_family": updated.birth_name, "given_names": updated.given_names}
    )
    body = build_update_accepted(dataclasses.replace(request, update=accepted), updated.dmp_status, **answer)
    return Reply(body, detail="updated")


ROUTES: Final = (
    Route(patients.TEST_EXISTENCE, _patient_query),
    Route(patients.ADMINISTRATIVE_DATA, _patient_query),
    Route(patients.UPDATE_ADMINISTRATIVE_DATA, _update),
)
