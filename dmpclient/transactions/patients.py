"""The patient transactions: TD0.2 (test d'existence + autorisation), TD1.3a / TD1.3b (données administratives,
consultation / modification) on ``patients``, TD0.5 (recherche sans INS, PDQv3) on ``patientsPDQ``.

TD0.2 and TD1.3a send PRPA_IN201307UV02 and receive PRPA_IN201308UV02; the controlActProcess ``reasonCode``
tells them apart (reference §3.1, §3.3, §3.9). TD1.3b sends PRPA_IN201314UV02 ``MODIF_DATA`` (§3.10), TD0.5
PRPA_IN201305UV02 (§3.6).
"""

from __future__ import annotations

from typing import Final, TypeVar

from lxml import etree

from dmpclient._xml import qname
from dmpclient.errors import DmpProtocolError, business_error
from dmpclient.hl7v3 import patient_update, pdq
from dmpclient.hl7v3.patient_query import (
    AdministrativeRecord,
    ExistenceAnswer,
    PatientReason,
    build_patient_query,
    parse_administrative_response,
    parse_patient_query,
    parse_patient_response,
)
from dmpclient.hl7v3.patient_update import parse_update
from dmpclient.hl7v3.pdq import parse_search
from dmpclient.hl7v3.wrapper import child, read_wrapper, text_of
from dmpclient.ids import mask_ins, validate_ins, validate_oid
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.rights import RightsAction
from dmpclient.transactions.spec import PatientBlock, Service, TransactionSpec

__all__ = [
    "ADMINISTRATIVE_DATA",
    "SEARCH_PATIENTS",
    "TEST_EXISTENCE",
    "UPDATE_ADMINISTRATIVE_DATA",
    "accepted_hl7",
    "administrative_data",
    "search_patients",
    "test_existence",
    "update_administrative_data",
]

T = TypeVar("T")

_REQUEST_ROOT: Final = qname("hl7", "PRPA_IN201307UV02")
_RESPONSE: Final = "PRPA_IN201308UV02"
_REQUEST_ACTION: Final = "urn:hl7-org:v3:PRPA_IN201307UV02"
_RESPONSE_ACTION: Final = "urn:hl7-org:v3:PRPA_IN201308UV02"


def _queried_patient(body: etree._Element) -> PatientRef | None:
    """The INS and OID of ``parameterList/patientIdentifier/value`` (compared with the VIHF resource-id)."""
    value = child(body, "controlActProcess/queryByParameter/parameterList/patientIdentifier/value")
    if value is None or value.get("extension") is None:
        return None
    return PatientRef(value.get("extension", ""), value.get("root", ""))


def accepted_hl7(body: etree._Element, td: str) -> etree._Element:
    """An HL7v3 answer, once its acknowledgement says it was accepted (AA/CA); otherwise the typed business
    error of its ``acknowledgementDetail/code`` (reference §9.5)."""
    ack_type = read_wrapper(body).ack_type or text_of(body, "acknowledgement/typeCode", "code")
    if ack_type not in (None, "AA", "CA"):
        code = text_of(body, "acknowledgement/acknowledgementDetail/code", "code")
        text = text_of(body, "acknowledgement/acknowledgementDetail/text") or ""
        what = f"{td}: the DMP answered acknowledgement {ack_type} ({code or 'no code'})"
        raise business_error(code, mask_ins(text), what=what, td=td)
    return body


def _accepted_answer(response: Response, td: str) -> etree._Element:
    """The PRPA_IN201308UV02 body, once its acknowledgement says it was accepted (AA/CA)."""
    body = response.message.body
    if body is None or not isinstance(body.tag, str) or etree.QName(body).localname != _RESPONSE:
        raise DmpProtocolError(f"{td}: expected a {_RESPONSE} answer")
    return accepted_hl7(body, td)


def _decode_existence(response: Response) -> ExistenceAnswer:
    return parse_patient_response(_accepted_answer(response, "TD0.2"))


def _decode_administrative(response: Response) -> AdministrativeRecord:
    return parse_administrative_response(_accepted_answer(response, "TD1.3a"))


TEST_EXISTENCE: Final = TransactionSpec(
    td="TD0.2",
    title="Test d'existence d'un DMP et vérification de l'autorisation",
    service=Service.PATIENTS,
    request_root=_REQUEST_ROOT,
    reason_code=PatientReason.TEST_EXISTENCE.value,
    request_action=_REQUEST_ACTION,
    response_action=_RESPONSE_ACTION,
    decode=_decode_existence,
    rights=(RightsAction.TD0_2_TEST_EXISTENCE,),
    idempotent=True,
    body_patient=_queried_patient,
    reports_block=True,
    read_request=parse_patient_query,
)

ADMINISTRATIVE_DATA: Final = TransactionSpec(
    td="TD1.3a",
    title="Consultation des données administratives",
    service=Service.PATIENTS,
    request_root=_REQUEST_ROOT,
    reason_code=PatientReason.ADMINISTRATIVE_DATA.value,
    request_action=_REQUEST_ACTION,
    response_action=_RESPONSE_ACTION,
    decode=_decode_administrative,
    rights=(RightsAction.TD1_3A_CONSULTATION_ADMIN,),
    idempotent=True,
    body_patient=_queried_patient,
    read_request=parse_patient_query,
)


def _patient_query(
    spec: TransactionSpec[T], reason: PatientReason, ctx: CallContext, ins: str, ins_oid: str
) -> Operation[T]:
    patient = PatientRef(validate_ins(ins), validate_oid(ins_oid, field="ins_oid"))
    body = build_patient_query(
        patient.ins,
        patient.oid,
        reason=reason,
        sender=ctx.sender(),
        message_id=ctx.new_id(),
        query_id=ctx.new_id(),
        now=ctx.now(),
        processing_code=ctx.processing_code,
    )
    return spec.operation(body, patient=patient)


def test_existence(ctx: CallContext, ins: str, ins_oid: str) -> Operation[ExistenceAnswer]:
    """TD0.2: does a DMP exist for this INS, is it open, is the caller authorised / treating physician?"""
    return _patient_query(TEST_EXISTENCE, PatientReason.TEST_EXISTENCE, ctx, ins, ins_oid)


test_existence.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


def administrative_data(ctx: CallContext, ins: str, ins_oid: str) -> Operation[AdministrativeRecord]:
    """TD1.3a: the patient's administrative record (identity, contacts, representatives, oppositions)."""
    return _patient_query(ADMINISTRATIVE_DATA, PatientReason.ADMINISTRATIVE_DATA, ctx, ins, ins_oid)


# --- TD0.5 --------------------------------------------------------------------------------------


def _decode_search(response: Response) -> pdq.PatientSearchResult:
    body = response.message.body
    if body is None or not isinstance(body.tag, str) or etree.QName(body).localname != pdq.RESPONSE:
        raise DmpProtocolError(f"TD0.5: expected a {pdq.RESPONSE} answer")
    return pdq.parse_search_response(accepted_hl7(body, "TD0.5"))


SEARCH_PATIENTS: Final = TransactionSpec(
    read_request=parse_search,
    td="TD0.5",
    title="Recherche d'un patient dans le DMP sans INS",
    service=Service.PATIENTS_PDQ,
    request_root=qname("hl7", pdq.REQUEST),
    request_action=f"urn:hl7-org:v3:{pdq.REQUEST}",
    response_action=f"urn:hl7-org:v3:{pdq.RESPONSE}",
    decode=_decode_search,
    rights=(RightsAction.TD0_5_RECHERCHE_SANS_INS,),
    idempotent=True,
    patient=PatientBlock.NONE,
)


def search_patients(ctx: CallContext, search: pdq.PatientSearch) -> Operation[pdq.PatientSearchResult]:
    """TD0.5: patients whose DMP matches these traits (régulation access only, 526/606)."""
    body = pdq.build_search(
        search,
        sender=ctx.sender(),
        message_id=ctx.new_id(),
        query_id=ctx.new_id(),
        now=ctx.now(),
        processing_code=ctx.processing_code,
    )
    return SEARCH_PATIENTS.operation(body)


# --- TD1.3b -------------------------------------------------------------------------------------


def _updated_patient(body: etree._Element) -> PatientRef | None:
    ident = child(body, "controlActProcess/subject/registrationRequest/subject1/patient/id")
    if ident is None or not ident.get("extension"):
        return None
    return PatientRef(ident.get("extension", ""), ident.get("root", ""))


def _decode_update(response: Response) -> patient_update.AdministrativeUpdated:
    message = patient_update.wrapped_message(response.message.body)
    return patient_update.parse_update_response(accepted_hl7(message, "TD1.3b"))


UPDATE_ADMINISTRATIVE_DATA: Final = TransactionSpec(
    read_request=parse_update,
    td="TD1.3b",
    title="Modification des données administratives",
    service=Service.PATIENTS,
    request_root=qname("hl7", patient_update.REQUEST),
    reason_code=patient_update.REASON,
    request_action=f"urn:hl7-org:v3:{patient_update.REQUEST}",
    response_action="urn:hl7-org:v3:PRPA_IN201314ResponseUV02",
    decode=_decode_update,
    rights=(RightsAction.TD1_3B_MODIFICATION_ADMIN,),
    idempotent=False,  # a change: never re-sent automatically
    body_patient=_updated_patient,
)


def update_administrative_data(
    ctx: CallContext, update: patient_update.AdministrativeUpdate, author: patient_update.UpdateAuthor
) -> Operation[patient_update.AdministrativeUpdated]:
    """TD1.3b: the patient's new contacts, representatives and oppositions (DMPs not attached to Mon espace
    santé only, 526 note 10)."""
    patient = PatientRef(validate_ins(update.ins), validate_oid(update.ins_oid, field="ins_oid"))
    update = update.model_copy(update={"ins": patient.ins, "ins_oid": patient.oid})
    body = patient_update.build_update(
        update, author, sender=ctx.sender(), message_id=ctx.new_id(), now=ctx.now(), processing_code=ctx.processing_code
    )
    return UPDATE_ADMINISTRATIVE_DATA.operation(body, patient=patient)
