"""TD0.5, recherche d'un patient sans INS (IHE PDQv3): PRPA_IN201305UV02 → PRPA_IN201306UV02, both directions.

Régulation only (526/606). Reference §3.6, §3.1: the query's ``controlActProcess/code`` is
``PRPA_TE201305UV02`` (no reasonCode); parameters in the order of the PDQv3 parameter list (gender, birth time,
name, address); the answer acknowledges with a ``typeCode`` **child** element, lists one
``registrationEvent/subject1/patient`` per candidate (INS and INS-C, status, names, gender, birth time,
``addr`` city/postal code, a ``POURCENTAGE`` match score, the ``OPPOSITION_ACCES_URGENCE`` observation) and
echoes the query with result counts. The answer's ``code`` is written ``xsi:type="CS"`` as the reference says,
hence without ``codeSystem`` (a CS carries none).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dmpclient.errors import DmpBusinessError, DmpProtocolError
from dmpclient.hl7v3.patient_query import INS_C_OID, DmpStatus, read_patient_ids
from dmpclient.hl7v3.person import (
    Address,
    Observation,
    PersonTraits,
    read_address,
    read_observations,
    read_person,
    read_pn,
    write_address,
    write_observations,
    write_person,
)
from dmpclient.hl7v3.wrapper import (
    HL7,
    INTERACTION_OID,
    Device,
    answer_wrapper,
    child,
    read_sender,
    read_wrapper,
    request_wrapper,
    sub,
    text_of,
)
from dmpclient.ids import DMP_SYSTEM_OID, parse_decimal

__all__ = [
    "REQUEST",
    "RESPONSE",
    "PatientCandidate",
    "PatientSearch",
    "PatientSearchQuery",
    "PatientSearchResult",
    "build_search",
    "build_search_response",
    "parse_search",
    "parse_search_response",
]

REQUEST: Final = "PRPA_IN201305UV02"
RESPONSE: Final = "PRPA_IN201306UV02"
_GENDER_SYSTEM: Final = "2.16.840.1.113883.5.1"
_SCORE_CODE: Final = "POURCENTAGE"


class PatientSearch(BaseModel):
    """What TD0.5 searches on: a family name (at least 2 characters) and optional traits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str = Field(min_length=2)
    given: str | None = None
    gender: str | None = Field(default=None, pattern="^[MFU]$")
    birth_date: dt.date | None = None
    city: str | None = None
    postal_code: str | None = Field(default=None, pattern="^[0-9AB]{5}$")
    max_results: int | None = Field(default=None, ge=1, le=100)

    @field_validator("family", "given", "city")
    @classmethod
    def _stripped(cls, value: str | None) -> str | None:
        return value.strip() if value is not None else None

    def __repr__(self) -> str:  # a patient's name never reaches a log
        return f"PatientSearch(family='{self.family[:1]}…', max_results={self.max_results})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class PatientSearchQuery:
    """A parsed PRPA_IN201305UV02 (mock side): the search and the ids the answer echoes."""

    search: PatientSearch
    message_root: str
    message_extension: str | None
    query_root: str
    query_extension: str | None
    sender: Device
    query: etree._Element


class PatientCandidate(PersonTraits):
    """One patient found by TD0.5 (its traits, DMP status, match score and opposition to régulation access)."""

    _shown: ClassVar[frozenset[str]] = frozenset({"status", "ins_oid"})

    status: DmpStatus
    ins: str
    ins_oid: str
    ins_c: str | None = None
    match_score: int | None = None
    opposition_acces_urgence: bool | None = None


class PatientSearchResult(BaseModel):
    """The outcome of TD0.5: candidates, best first, and the counts of the ``queryAck``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: tuple[PatientCandidate, ...] = ()
    total: int | None = None
    remaining: int | None = None


# --- query --------------------------------------------------------------------------------------


def build_search(
    search: PatientSearch,
    *,
    sender: Device,
    message_id: str,
    query_id: str,
    now: dt.datetime,
    processing_code: str = "P",
) -> etree._Element:
    """PRPA_IN201305UV02 for TD0.5 (client side)."""
    root = request_wrapper(REQUEST, sender=sender, message_id=message_id, now=now, processing_code=processing_code)
    control = sub(root, "controlActProcess", classCode="CACT", moodCode="EVN")
    sub(control, "code", code="PRPA_TE201305UV02", codeSystem=INTERACTION_OID)
    query = sub(control, "queryByParameter")
    sub(query, "queryId", root=sender.oid, extension=query_id)
    sub(query, "statusCode", code="new")
    sub(query, "responseModalityCode", code="R")
    if search.max_results is not None:
        sub(query, "initialQuantity", value=str(search.max_results))
    parameters = sub(query, "parameterList")
    if search.gender:
        node = sub(parameters, "livingSubjectAdministrativeGender")
        sub(node, "value", code=search.gender, codeSystem=_GENDER_SYSTEM)
        sub(node, "semanticsText", "LivingSubject.administrativeGender")
    if search.birth_date:
        node = sub(parameters, "livingSubjectBirthTime")
        sub(node, "value", value=search.birth_date.strftime("%Y%m%d"))
        sub(node, "semanticsText", "LivingSubject.birthTime")
    node = sub(parameters, "livingSubjectName")
    name = sub(node, "value")
    if search.given:
        sub(name, "given", search.given)
    sub(name, "family", search.family)
    sub(node, "semanticsText", "LivingSubject.name")
    if search.city or search.postal_code:
        node = sub(parameters, "patientAddress")
        write_address(node, Address(city=search.city, postal_code=search.postal_code), tag="value")
        sub(node, "semanticsText", "Patient.addr")
    return root


def parse_search(root: etree._Element) -> PatientSearchQuery:
    """Read a PRPA_IN201305UV02 received by the mock.

    Raises:
        DmpProtocolError: not a PDQ query, no family name (TD0.5 needs at least 2 characters of it).
    """
    ids = read_wrapper(root)
    query = child(root, "controlActProcess/queryByParameter")
    if query is None:
        raise DmpProtocolError(f"{REQUEST} without controlActProcess/queryByParameter")
    parameters = child(query, "parameterList")
    name = child(parameters, "livingSubjectName/value") if parameters is not None else None
    family, birth_family, given, _ = read_pn([name] if name is not None else [])
    birth = text_of(parameters, "livingSubjectBirthTime/value", "value") if parameters is not None else None
    address = child(parameters, "patientAddress/value") if parameters is not None else None
    quantity = text_of(query, "initialQuantity", "value")
    try:
        search = PatientSearch(
            family=family or birth_family or "",
            given=" ".join(given) or None,
            gender=text_of(parameters, "livingSubjectAdministrativeGender/value", "code")
            if parameters is not None
            else None,
            birth_date=dt.datetime.strptime(birth[:8], "%Y%m%d").date() if birth else None,
            city=read_address(address).city if address is not None else None,
            postal_code=read_address(address).postal_code if address is not None else None,
            max_results=parse_decimal(quantity),
        )
    except ValueError as exc:
        raise DmpProtocolError(f"{REQUEST}: invalid search parameters ({type(exc).__name__})") from None
    query_id = child(query, "queryId")
    return PatientSearchQuery(
        search=search,
        message_root=ids.root,
        message_extension=ids.extension,
        query_root=query_id.get("root", "") if query_id is not None else "",
        query_extension=query_id.get("extension") if query_id is not None else None,
        sender=read_sender(root),
        query=query,
    )


# --- answer -------------------------------------------------------------------------------------


def _candidate(control: etree._Element, candidate: PatientCandidate) -> None:
    event = sub(sub(control, "subject", typeCode="SUBJ"), "registrationEvent", classCode="REG", moodCode="EVN")
    sub(event, "statusCode", code="active")
    patient = sub(sub(event, "subject1", typeCode="SBJ"), "patient", classCode="PAT")
    sub(patient, "id", root=candidate.ins_oid, extension=candidate.ins)
    if candidate.ins_c:
        sub(patient, "id", root=INS_C_OID, extension=candidate.ins_c)
    sub(patient, "statusCode", code=candidate.status.value)
    write_person(patient, candidate)
    if candidate.match_score is not None:
        match = sub(
            sub(patient, "subjectOf1", typeCode="SBJ"), "queryMatchObservation", classCode="COND", moodCode="EVN"
        )
        sub(match, "code", code=_SCORE_CODE)
        sub(match, "value", xsi_type="INT", value=str(candidate.match_score))
    if candidate.opposition_acces_urgence is not None:
        opposition = Observation(
            code="OPPOSITION_ACCES_URGENCE",
            code_system="1.2.250.1.213.4.1.2.3",
            value=candidate.opposition_acces_urgence,
        )
        write_observations(patient, (opposition,), via="subjectOf2")
    custodian = sub(sub(event, "custodian", typeCode="CST"), "assignedEntity", classCode="ASSIGNED")
    sub(custodian, "id", root=DMP_SYSTEM_OID)


def build_search_response(
    query: PatientSearchQuery,
    candidates: Sequence[PatientCandidate],
    *,
    total: int,
    response_id: str,
    now: dt.datetime,
) -> etree._Element:
    """PRPA_IN201306UV02 answering ``query`` with ``candidates`` (the first page of ``total``), mock side."""
    root = answer_wrapper(RESPONSE, receiver=query.sender, response_id=response_id, now=now)
    ack = sub(root, "acknowledgement")
    sub(ack, "typeCode", code="AA")
    target = {"root": query.message_root} | ({"extension": query.message_extension} if query.message_extension else {})
    sub(sub(ack, "targetMessage"), "id", **target)
    control = sub(root, "controlActProcess", classCode="CACT", moodCode="EVN")
    sub(control, "code", code="PRPA_TE201306UV02", xsi_type="CS")
    for candidate in candidates:
        _candidate(control, candidate)
    queried = sub(control, "queryAck")
    echo = {"root": query.query_root} | ({"extension": query.query_extension} if query.query_extension else {})
    sub(queried, "queryId", **echo)
    sub(queried, "queryResponseCode", code="OK" if candidates else "NF")
    sub(queried, "resultTotalQuantity", value=str(total))
    sub(queried, "resultCurrentQuantity", value=str(len(candidates)))
    sub(queried, "resultRemainingQuantity", value=str(total - len(candidates)))
    control.append(copy.deepcopy(query.query))
    return root


def _read_candidate(patient: etree._Element) -> PatientCandidate:
    ins, ins_oid, ins_c = read_patient_ids(patient)
    status = text_of(patient, "statusCode", "code")
    opposition = next(
        (o.value for o in read_observations(patient, via="subjectOf2") if o.code == "OPPOSITION_ACCES_URGENCE"), None
    )
    return PatientCandidate(
        status=DmpStatus.CLOSED if status == "terminated" else DmpStatus.ACTIVE,
        ins=ins,
        ins_oid=ins_oid,
        ins_c=ins_c,
        match_score=parse_decimal(text_of(patient, "subjectOf1/queryMatchObservation/value", "value"), signed=True),
        opposition_acces_urgence=opposition if isinstance(opposition, bool) else None,
        **dict(read_person(child(patient, "patientPerson"))),
    )


def parse_search_response(root: etree._Element) -> PatientSearchResult:
    """Read a PRPA_IN201306UV02 (client side; acknowledgement errors are raised by the caller).

    Raises:
        DmpBusinessError: a query error (``queryResponseCode`` QE/AE).
    """
    read_wrapper(root)
    control = child(root, "controlActProcess")
    if control is None:
        raise DmpProtocolError(f"{RESPONSE} without controlActProcess")
    code = text_of(control, "queryAck/queryResponseCode", "code")
    if code not in (None, "OK", "NF"):
        raise DmpBusinessError(f"TD0.5: the DMP answered queryResponseCode {code} (query error)", code=code, td="TD0.5")
    patients = control.findall(f"{{{HL7}}}subject/{{{HL7}}}registrationEvent/{{{HL7}}}subject1/{{{HL7}}}patient")
    return PatientSearchResult(
        candidates=tuple(_read_candidate(p) for p in patients),
        total=parse_decimal(text_of(control, "queryAck/resultTotalQuantity", "value"), signed=True),
        remaining=parse_decimal(text_of(control, "queryAck/resultRemainingQuantity", "value"), signed=True),
    )
