"""``patientsSpecific`` service: TD0.4 (liste des DMP autorisés, ``patientList``, reference §3.5).

No patient: the VIHF carries no ``resource-id``. The WSDL's ``soapAction`` is empty for this service, so only the
CXF-style ``wsa:Action`` of the examples names it (reference §3.0).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from dmpclient._xml import qname
from dmpclient.custom.patients_specific import (
    REQUEST,
    PatientList,
    PatientListDateType,
    build_patient_list,
    parse_patient_list,
    parse_patient_list_response,
)
from dmpclient.errors import DmpValidationError
from dmpclient.ids import validate_ps_id
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation
from dmpclient.transactions.rights import RightsAction
from dmpclient.transactions.spec import PatientBlock, Service, TransactionSpec

__all__ = ["PATIENT_LIST", "patient_list"]


def _decode(response: Response) -> PatientList:
    return parse_patient_list_response(response.message.body)


PATIENT_LIST: Final = TransactionSpec(
    read_request=parse_patient_list,
    td="TD0.4",
    title="Liste des DMP autorisés",
    service=Service.PATIENTS_SPECIFIC,
    request_root=qname("pat", REQUEST),
    request_action="urn:si-dmp-patients:PatientSpecificEndPoint:patientList",
    response_action="urn:si-dmp-patients:PatientSpecificEndPoint:patientListResponse",
    decode=_decode,
    rights=(RightsAction.TD0_4_LISTE_DMP_AUTORISES,),
    idempotent=True,
    patient=PatientBlock.NONE,
)


def _since(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        if value is not None and value.tzinfo is None:
            raise DmpValidationError("since: give an aware datetime (UTC) or a date", field="since")
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def patient_list(
    ctx: CallContext,
    *,
    since: dt.datetime | dt.date | None = None,
    date_type: PatientListDateType | None = None,
    ps_owner_id: str | None = None,
) -> Operation[PatientList]:
    """TD0.4: the DMPs the caller is authorised on, whose last authorisation (or last document, ``LASTDOC``) is
    later than ``since``; ``ps_owner_id`` names another professional of the same structure (526/606 notes 2, 3)."""
    del ctx
    owner = validate_ps_id(ps_owner_id, field="ps_owner_id") if ps_owner_id else None
    body = build_patient_list(
        start=_since(since),
        date_type=PatientListDateType(date_type) if date_type is not None else None,
        ps_owner_id=owner,
    )
    return PATIENT_LIST.operation(body)
