"""``patients`` service: TD0.2 (test d'existence + autorisation) and TD1.3a (données administratives).

Both send PRPA_IN201307UV02 and receive PRPA_IN201308UV02; the controlActProcess ``reasonCode`` tells
them apart (reference §3.1, §3.3, §3.9).
"""

from __future__ import annotations

from typing import Final, TypeVar

from lxml import etree

from dmpclient._xml import qname
from dmpclient.errors import DmpBusinessError, DmpProtocolError
from dmpclient.hl7v3.patient_query import (
    ExistenceAnswer,
    PatientReason,
    build_patient_query,
    parse_patient_query,
    parse_patient_response,
)
from dmpclient.hl7v3.wrapper import child, read_wrapper, text_of
from dmpclient.ids import mask_ins, validate_ins, validate_oid
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.rights import RightsAction
from dmpclient.transactions.spec import Service, TransactionSpec

__all__ = ["ADMINISTRATIVE_DATA", "TEST_EXISTENCE", "administrative_data", "test_existence"]

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


def _accepted_answer(response: Response, td: str) -> etree._Element:
    """The PRPA_IN201308UV02 body, once its acknowledgement says it was accepted (AA/CA)."""
    body = response.message.body
    if body is None or not isinstance(body.tag, str) or etree.QName(body).localname != _RESPONSE:
        raise DmpProtocolError(f"{td}: expected a {_RESPONSE} answer")
    ack_type = read_wrapper(body).ack_type
    if ack_type not in (None, "AA", "CA"):
        code = text_of(body, "acknowledgement/acknowledgementDetail/code", "code")
        text = text_of(body, "acknowledgement/acknowledgementDetail/text") or ""
        raise DmpBusinessError(
            f"{td}: the DMP answered acknowledgement {ack_type} ({code or 'no code'}): {mask_ins(text)[:300]}",
            code=code,
            context=text,
        )
    return body


def _decode_existence(response: Response) -> ExistenceAnswer:
    return parse_patient_response(_accepted_answer(response, "TD0.2"))


def _decode_administrative(response: Response) -> ExistenceAnswer:
    return parse_patient_response(_accepted_answer(response, "TD1.3a"))


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


def administrative_data(ctx: CallContext, ins: str, ins_oid: str) -> Operation[ExistenceAnswer]:
    """TD1.3a: the patient's administrative record (identity, contacts, representatives, oppositions)."""
    return _patient_query(ADMINISTRATIVE_DATA, PatientReason.ADMINISTRATIVE_DATA, ctx, ins, ins_oid)
