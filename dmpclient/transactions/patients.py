"""``patients`` service: TD0.2 (test d'existence + autorisation) and TD1.3a (données administratives)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

from dmpclient.errors import DmpBusinessError, DmpProtocolError
from dmpclient.hl7v3.patient_query import (
    ExistenceAnswer,
    PatientReason,
    build_patient_query,
    parse_patient_response,
)
from dmpclient.hl7v3.wrapper import Device, read_wrapper, text_of
from dmpclient.ids import mask_ins, validate_ins, validate_oid
from dmpclient.soap.envelope import SoapMessage
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.rights import RightsAction

__all__ = ["ACTION_REQUEST", "ACTION_RESPONSE", "administrative_data", "test_existence"]

ACTION_REQUEST: Final = "urn:hl7-org:v3:PRPA_IN201307UV02"
ACTION_RESPONSE: Final = "urn:hl7-org:v3:PRPA_IN201308UV02"
SERVICE: Final = "patients"


def _answer_reader(td: str) -> Callable[[SoapMessage], ExistenceAnswer]:
    """Parser of PRPA_IN201308UV02 that turns a non-AA acknowledgement into a business error."""

    def parse(message: SoapMessage) -> ExistenceAnswer:
        body = message.body
        if body is None or not isinstance(body.tag, str) or not body.tag.endswith("}PRPA_IN201308UV02"):
            raise DmpProtocolError(f"{td}: expected a PRPA_IN201308UV02 answer", td=td, message_id=message.relates_to)
        ack_type = read_wrapper(body).ack_type
        if ack_type not in (None, "AA", "CA"):
            code = text_of(body, "acknowledgement/acknowledgementDetail/code", "code")
            text = text_of(body, "acknowledgement/acknowledgementDetail/text") or ""
            raise DmpBusinessError(
                f"{td}: the DMP answered acknowledgement {ack_type} ({code or 'no code'}): {mask_ins(text)[:300]}",
                code=code,
                context=text,
                td=td,
                message_id=message.relates_to,
            )
        return parse_patient_response(body)

    return parse


_RIGHTS: Final = {
    PatientReason.TEST_EXISTENCE: RightsAction.TD0_2_TEST_EXISTENCE,
    PatientReason.ADMINISTRATIVE_DATA: RightsAction.TD1_3A_CONSULTATION_ADMIN,
}


def _patient_query(
    reason: PatientReason,
    td: str,
    ins: str,
    ins_oid: str,
    *,
    lps: Device,
    now: dt.datetime,
    new_id: Callable[[], str],
    processing_code: str,
) -> Operation[ExistenceAnswer]:
    patient = PatientRef(validate_ins(ins), validate_oid(ins_oid, field="ins_oid"))
    body = build_patient_query(
        patient.ins,
        patient.oid,
        reason=reason,
        sender=lps,
        message_id=new_id(),
        query_id=new_id(),
        now=now,
        processing_code=processing_code,
    )
    return Operation(
        td=td,
        service=SERVICE,
        action=ACTION_REQUEST,
        body=body,
        parse=_answer_reader(td),
        idempotent=True,
        patient=patient,
        rights=_RIGHTS[reason],
    )


def test_existence(
    ins: str,
    ins_oid: str,
    *,
    lps: Device,
    now: dt.datetime,
    new_id: Callable[[], str],
    processing_code: str = "P",  # noqa: PT028
) -> Operation[ExistenceAnswer]:
    """TD0.2: does a DMP exist for this INS, is it open, is the caller authorised / treating physician?"""
    return _patient_query(
        PatientReason.TEST_EXISTENCE,
        "TD0.2",
        ins,
        ins_oid,
        lps=lps,
        now=now,
        new_id=new_id,
        processing_code=processing_code,
    )


test_existence.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


def administrative_data(
    ins: str, ins_oid: str, *, lps: Device, now: dt.datetime, new_id: Callable[[], str], processing_code: str = "P"
) -> Operation[ExistenceAnswer]:
    """TD1.3a: the patient's administrative data and oppositions, as recorded in the DMP."""
    return _patient_query(
        PatientReason.ADMINISTRATIVE_DATA,
        "TD1.3a",
        ins,
        ins_oid,
        lps=lps,
        now=now,
        new_id=new_id,
        processing_code=processing_code,
    )
