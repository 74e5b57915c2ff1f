"""``patients`` service of the mock: TD0.2 (test d'existence + autorisation) and TD1.3a (données admin)."""

from __future__ import annotations

from typing import Final

from lxml import etree

from dmpclient._xml import qname
from dmpclient.hl7v3.patient_query import (
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
    PatientReason,
    build_patient_response,
    parse_patient_query,
)
from dmpclient.hl7v3.wrapper import child
from dmpclient.transactions.patients import ACTION_RESPONSE
from dmpclient.transactions.rights import RightsAction
from mock_server.context import Reply, RequestContext
from mock_server.routing import MockFault, Route
from mock_server.store.records import DmpStatus as StoredStatus
from mock_server.store.records import Patient

__all__ = ["ROUTES"]

_WIRE_STATUS: Final = {StoredStatus.ACTIVE: DmpStatus.ACTIVE, StoredStatus.CLOSED: DmpStatus.CLOSED}


def _body_patient(body: etree._Element) -> tuple[str, str | None] | None:
    """The queried INS and its OID (``patientIdentifier/value/@extension`` and ``@root``)."""
    value = child(body, "controlActProcess/queryByParameter/parameterList/patientIdentifier/value")
    ins = value.get("extension") if value is not None else None
    return (ins, value.get("root")) if value is not None and ins is not None else None


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
    if patient is None or patient.dmp_status not in _WIRE_STATUS:
        return ExistenceAnswer(DmpStatus.NONE)
    if reason is PatientReason.ADMINISTRATIVE_DATA:
        observations = {
            "OPPOSITION_BRIS_DE_GLACE": patient.opposition_bris_de_glace,
            "OPPOSITION_ACCES_URGENCE": patient.opposition_acces_urgence,
        }
        return ExistenceAnswer(_WIRE_STATUS[patient.dmp_status], patient=_identity(patient), observations=observations)
    caller = ctx.caller
    authorisation = ctx.store.authorisation_status(patient.ins, caller.ps_id, caller.structure_id, ctx.now)
    return ExistenceAnswer(
        _WIRE_STATUS[patient.dmp_status],
        authorization=authorisation,
        treating_physician=caller.treating_physician,  # the gate checked resource-id == this patient
        patient=_identity(patient),
        observations={"COMPTE_INTERNET_OUVERT": patient.web_account, "RATTACHEMENT_ENS": patient.mes_attached},
    )


def _patient_query(ctx: RequestContext) -> Reply:
    if ctx.message.body is None:
        raise MockFault(None, "Le corps de la requête SOAP est vide")
    query = parse_patient_query(ctx.message.body)
    answer = _answer(ctx, ctx.store.get_patient(query.ins), query.reason)
    body = build_patient_response(query, answer, response_id=ctx.new_id(), now=ctx.now)
    return Reply(body, detail=f"dmp={answer.status.value}")


_ROOT: Final = qname("hl7", "PRPA_IN201307UV02")

ROUTES: Final = (
    Route(
        "patients",
        _ROOT,
        "TD0.2",
        _patient_query,
        ACTION_RESPONSE,
        rights=RightsAction.TD0_2_TEST_EXISTENCE,
        reason_code=PatientReason.TEST_EXISTENCE.value,
        patient_ins=_body_patient,
    ),
    Route(
        "patients",
        _ROOT,
        "TD1.3a",
        _patient_query,
        ACTION_RESPONSE,
        rights=RightsAction.TD1_3A_CONSULTATION_ADMIN,
        reason_code=PatientReason.ADMINISTRATIVE_DATA.value,
        patient_ins=_body_patient,
    ),
)
