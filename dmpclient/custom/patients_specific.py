"""``urn:si-dmp-patients`` ``patientList`` (TD0.4, liste des DMP autorisés), both directions (reference §3.5).

::

    pat:patientList             [pat:startDate YYYYMMDDhhmmss] [pat:dateType LASTAUTORIZATION|LASTDOC] [pat:psOwnerId]
    → pat:patientListResponse/pat:output
        pat:patientlistData × n     patientIdentifier × n (nationalId, nationalIdType), lastName, patronymicalName,
                                    firstName, civility, dateOfBirth (YYYYMMDD), MT, message,
                                    lastAccessDate, lastUpdateDate, lastAddDate (YYYYMMDDhhmmss)
        pat:status, pat:context

The request's ``startDate`` is sent with 14 digits as in the official example; the mock also accepts the 8 digits
DMPCONNECT documents. ``dateType`` is spelled ``LASTAUTORIZATION`` on the wire (sic).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from lxml import etree
from pydantic import BaseModel, ConfigDict, computed_field

from dmpclient.custom.common import (
    PATIENTS,
    STATUS_OK,
    append_status,
    child_text,
    children,
    element,
    format_date,
    format_timestamp,
    parse_timestamp,
    read_output,
    sub,
)
from dmpclient.errors import DmpProtocolError

__all__ = [
    "REQUEST",
    "AuthorizedPatient",
    "PatientIdentifier",
    "PatientList",
    "PatientListDateType",
    "PatientListQuery",
    "build_patient_list",
    "build_patient_list_response",
    "parse_patient_list",
    "parse_patient_list_response",
]

REQUEST: Final = "patientList"
#: The legacy INS-C's ``nationalIdType`` (reference §3.5); the other identifiers are the INS (NIR, test OIDs).
_INS_C: Final = "1.2.250.1.213.1.4.2"


class PatientListDateType(StrEnum):
    """What ``startDate`` is compared with (wire spelling)."""

    LAST_AUTHORIZATION = "LASTAUTORIZATION"
    LAST_DOCUMENT = "LASTDOC"


@dataclass(frozen=True, slots=True)
class PatientListQuery:
    """A parsed ``patientList`` (mock side)."""

    start: dt.datetime | None
    date_type: PatientListDateType | None
    ps_owner_id: str | None


class PatientIdentifier(BaseModel):
    """A ``patientIdentifier``: the id and its assigning authority OID."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    national_id: str
    national_id_type: str | None = None

    def __repr__(self) -> str:  # an INS never reaches a log in clear
        return f"PatientIdentifier(national_id='…{self.national_id[-4:]}', national_id_type={self.national_id_type!r})"

    __str__ = __repr__


class AuthorizedPatient(BaseModel):
    """One DMP the caller is authorised on (``patientlistData``).

    Attributes:
        treating_physician: ``MT``: the caller is the patient's médecin traitant DMP.
        message: ``message`` (meaning undocumented; false in the examples).
        last_access / last_update / last_add: the caller's last access, the DMP's last update, the last document.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    identifiers: tuple[PatientIdentifier, ...] = ()
    last_name: str | None = None
    patronymical_name: str | None = None
    first_name: str | None = None
    civility: str | None = None
    birth_date: dt.date | None = None
    treating_physician: bool = False
    message: bool = False
    last_access: dt.datetime | None = None
    last_update: dt.datetime | None = None
    last_add: dt.datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ins(self) -> str | None:
        """The INS (the first identifier that is not an INS-C)."""
        return next((i.national_id for i in self.identifiers if i.national_id_type != _INS_C), None)

    def __repr__(self) -> str:  # no INS or name in logs
        return f"AuthorizedPatient(ins='…{(self.ins or '')[-4:]}', treating_physician={self.treating_physician})"

    __str__ = __repr__


class PatientList(BaseModel):
    """The outcome of TD0.4: the DMPs the caller is authorised on, and the DMP's ``context``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patients: tuple[AuthorizedPatient, ...] = ()
    context: str = ""


def build_patient_list(
    *,
    start: dt.datetime | None = None,
    date_type: PatientListDateType | None = None,
    ps_owner_id: str | None = None,
) -> etree._Element:
    """``patientList``: DMPs whose authorisation (or last document) is later than ``start``."""
    root = element(PATIENTS, REQUEST)
    if start is not None:
        sub(root, "startDate", format_timestamp(start))
    if date_type is not None:
        sub(root, "dateType", PatientListDateType(date_type).value)
    if ps_owner_id:
        sub(root, "psOwnerId", ps_owner_id)
    return root


def parse_patient_list(root: etree._Element) -> PatientListQuery:
    """Read a ``patientList`` (mock side).

    Raises:
        DmpProtocolError: a ``startDate`` that is neither ``YYYYMMDD`` nor ``YYYYMMDDhhmmss``, an unknown dateType.
    """
    start_text = child_text(root, "startDate")
    start = parse_timestamp(start_text)
    if start_text is not None and start is None:
        raise DmpProtocolError("patientList: startDate must be YYYYMMDD or YYYYMMDDhhmmss")
    date_type = child_text(root, "dateType")
    if date_type is not None and date_type not in {d.value for d in PatientListDateType}:
        raise DmpProtocolError(f"patientList: dateType {date_type!r}, expected LASTAUTORIZATION or LASTDOC")
    return PatientListQuery(start, PatientListDateType(date_type) if date_type else None, child_text(root, "psOwnerId"))


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _write_patient(parent: etree._Element, patient: AuthorizedPatient) -> None:
    node = sub(parent, "patientlistData")
    for identifier in patient.identifiers:
        ident = sub(node, "patientIdentifier")
        sub(ident, "nationalId", identifier.national_id)
        if identifier.national_id_type:
            sub(ident, "nationalIdType", identifier.national_id_type)
    names = (
        ("lastName", patient.last_name),
        ("patronymicalName", patient.patronymical_name),
        ("firstName", patient.first_name),
        ("civility", patient.civility),
        ("dateOfBirth", format_date(patient.birth_date) if patient.birth_date else None),
    )
    for local, value in names:
        if value is not None:
            sub(node, local, value)
    sub(node, "MT", str(patient.treating_physician).lower())
    sub(node, "message", str(patient.message).lower())
    dates = (
        ("lastAccessDate", patient.last_access),
        ("lastUpdateDate", patient.last_update),
        ("lastAddDate", patient.last_add),
    )
    for local, moment in dates:
        if moment is not None:
            sub(node, local, format_timestamp(moment))


def build_patient_list_response(
    patients: Iterable[AuthorizedPatient], *, status: str = STATUS_OK, context: str | None = None
) -> etree._Element:
    root = element(PATIENTS, "patientListResponse")
    output = sub(root, "output")
    for patient in patients:
        _write_patient(output, patient)
    append_status(output, status, context)
    return root


def _read_patient(node: etree._Element) -> AuthorizedPatient:
    identifiers = tuple(
        PatientIdentifier(national_id=national_id, national_id_type=child_text(ident, "nationalIdType"))
        for ident in children(node, "patientIdentifier")
        if (national_id := child_text(ident, "nationalId"))
    )
    birth = parse_timestamp(child_text(node, "dateOfBirth"))
    return AuthorizedPatient(
        identifiers=identifiers,
        last_name=child_text(node, "lastName"),
        patronymical_name=child_text(node, "patronymicalName"),
        first_name=child_text(node, "firstName"),
        civility=child_text(node, "civility"),
        birth_date=birth.date() if birth is not None else None,
        treating_physician=_bool(child_text(node, "MT")),
        message=_bool(child_text(node, "message")),
        last_access=parse_timestamp(child_text(node, "lastAccessDate")),
        last_update=parse_timestamp(child_text(node, "lastUpdateDate")),
        last_add=parse_timestamp(child_text(node, "lastAddDate")),
    )


def parse_patient_list_response(body: etree._Element | None) -> PatientList:
    """Read a ``patientListResponse`` (client side)."""
    output, context = read_output(body, namespace=PATIENTS, response="patientListResponse", td="TD0.4")
    entries = children(output, "patientlistData", PATIENTS)
    return PatientList(patients=tuple(_read_patient(entry) for entry in entries), context=context)
