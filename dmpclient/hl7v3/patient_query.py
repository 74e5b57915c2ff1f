"""TD0.2 (test d'existence) and TD1.3a (données administratives): PRPA_IN201307UV02 → PRPA_IN201308UV02.

Both directions (reference §3.1, §3.3, §3.9): the client builds the query and parses the answer,
the mock parses the query and builds the answer. TD0.2 answers an :class:`ExistenceAnswer`, TD1.3a the whole
:class:`AdministrativeRecord` (identity, addresses, telecoms, legal representatives, observations).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Final

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, computed_field

from dmpclient.errors import DmpBusinessError, DmpNotFoundError, DmpProtocolError
from dmpclient.hl7v3.person import (
    Observation,
    PersonTraits,
    read_names,
    read_observations,
    read_person,
    write_name,
    write_observations,
    write_person,
)
from dmpclient.hl7v3.wrapper import (
    Device,
    acknowledgement,
    answer_wrapper,
    child,
    parse_date,
    read_sender,
    read_wrapper,
    request_wrapper,
    sub,
    text_of,
)
from dmpclient.ids import DMP_SYSTEM_OID

__all__ = [
    "INS_C_OID",
    "OBSERVATION_CODE_SYSTEMS",
    "REASON_CODE_SYSTEM",
    "REASON_DISPLAY",
    "AdministrativeRecord",
    "AuthorizationStatus",
    "DmpStatus",
    "ExistenceAnswer",
    "PatientIdentity",
    "PatientQuery",
    "PatientReason",
    "build_administrative_response",
    "build_patient_query",
    "build_patient_response",
    "observation_of",
    "parse_administrative_response",
    "parse_patient_query",
    "parse_patient_response",
    "read_patient_ids",
]

REQUEST: Final = "PRPA_IN201307UV02"
RESPONSE: Final = "PRPA_IN201308UV02"
REASON_CODE_SYSTEM: Final = "1.2.250.1.213.1.1.4.11"
#: The legacy INS-C (computed from the Vitale card), still returned next to the INS (reference §3.3).
INS_C_OID: Final = "1.2.250.1.213.1.4.2"
_LEGACY_INS_OIDS: Final = frozenset({"1.2.250.1.213.1.4.1", INS_C_OID})  # INS-A, INS-C
_AUTH_KEY, _AUTH_VALUES, _MT_KEY = "1.2.250.1.213.4.1.2.6.1", "1.2.250.1.213.4.1.2.6.2", "1.2.250.1.213.4.1.2.6.3"
#: Code system of each administrative observation (reference §3.1).
OBSERVATION_CODE_SYSTEMS: Final = {
    "COMPTE_INTERNET_OUVERT": "1.2.250.1.213.4.1.2.9",
    "RATTACHEMENT_ENS": "1.2.250.1.213.4.1.2.3",
    "OPPOSITION_BRIS_DE_GLACE": "1.2.250.1.213.4.1.2.3",
    "OPPOSITION_ACCES_URGENCE": "1.2.250.1.213.4.1.2.3",
}
_OPPOSITION_BRIS_DE_GLACE: Final = "OPPOSITION_BRIS_DE_GLACE"
_OPPOSITION_ACCES_URGENCE: Final = "OPPOSITION_ACCES_URGENCE"


class PatientReason(StrEnum):
    """controlActProcess reasonCode of PRPA_IN201307UV02."""

    TEST_EXISTENCE = "TEST_EXST"  # TD0.2
    ADMINISTRATIVE_DATA = "CNSLT_DATA"  # TD1.3a


#: reasonCode displayName, as in the official examples (reference §3.1); answers echo it too.
REASON_DISPLAY: Final = {
    PatientReason.TEST_EXISTENCE: "Test d'existence de dossier",
    PatientReason.ADMINISTRATIVE_DATA: "Consultation des données de gestion de dossier",
}


class DmpStatus(StrEnum):
    """State of the patient's DMP: ``patient/statusCode`` or no DMP at all (queryResponseCode NF)."""

    ACTIVE = "active"
    CLOSED = "terminated"
    NONE = "none"


_PATIENT_STATUSES: Final = {"active": DmpStatus.ACTIVE, "terminated": DmpStatus.CLOSED}


class AuthorizationStatus(StrEnum):
    """The caller's authorisation on the DMP (``AUTORISATION`` attention line; values beyond VALIDE inferred).

    Member names are the wire values: VALIDE (authorised), INTERDIT (blocked by the patient), EXPIRE
    (authorisation expired), NON_EXISTE (never authorised).
    """

    VALIDE = "VALIDE"
    INTERDIT = "INTERDIT"
    EXPIRE = "EXPIRE"
    NON_EXISTE = "NON_EXISTE"


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """A parsed PRPA_IN201307UV02 (what the mock needs to answer it)."""

    reason: PatientReason
    ins: str
    ins_oid: str
    message_root: str
    message_extension: str | None
    query_root: str
    query_extension: str | None
    sender: Device

    def __repr__(self) -> str:  # no INS or name in logs and tracebacks
        return f"PatientQuery(ins='…{self.ins[-4:]}', ins_oid={self.ins_oid!r})"


class PatientIdentity(BaseModel):
    """Core traits of the patient as TD0.2 returns them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ins: str
    ins_oid: str
    family: str | None = None
    birth_family: str | None = None
    given: str | None = None
    prefix: str | None = None
    gender: str | None = None
    birth_date: dt.date | None = None

    def __repr__(self) -> str:  # no INS or name in logs and tracebacks
        return f"PatientIdentity(ins='…{self.ins[-4:]}', ins_oid={self.ins_oid!r})"

    __str__ = __repr__


class ExistenceAnswer(BaseModel):
    """The content of a TD0.2 PRPA_IN201308UV02: DMP status, the caller's authorisation, core traits.

    Attributes:
        authorization_code: the raw ``AUTORISATION`` code when it is none of the known values
            (``authorization`` is then None).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: DmpStatus
    authorization: AuthorizationStatus | None = None
    treating_physician: bool | None = None
    patient: PatientIdentity | None = None
    observations: Mapping[str, bool] = Field(default_factory=dict)
    authorization_code: str | None = None

    @property
    def exists(self) -> bool:
        """True when a DMP exists (open or closed) for this INS."""
        return self.status is not DmpStatus.NONE


class AdministrativeRecord(PersonTraits):
    """The administrative record of a DMP, as TD1.3a returns it (reference §3.9).

    Attributes:
        status: ``active`` (open) or ``terminated`` (closed DMP).
        ins_c: the legacy INS-C, when the DMP still carries one.
        observations: every ``administrativeObservation`` (oppositions and any other, unknown codes kept).
    """

    _shown: ClassVar[frozenset[str]] = frozenset({"status", "ins_oid"})

    status: DmpStatus
    ins: str
    ins_oid: str
    ins_c: str | None = None
    observations: tuple[Observation, ...] = ()

    def observation(self, code: str) -> Observation | None:
        """The observation with this code, if the DMP returned it."""
        return next((o for o in self.observations if o.code == code), None)

    def _flag(self, code: str) -> bool | None:
        found = self.observation(code)
        return found.value if found is not None and isinstance(found.value, bool) else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def opposition_bris_de_glace(self) -> bool | None:
        """The patient opposes break-glass access (``OPPOSITION_BRIS_DE_GLACE``), when reported."""
        return self._flag(_OPPOSITION_BRIS_DE_GLACE)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def opposition_acces_urgence(self) -> bool | None:
        """The patient opposes access by a régulation centre (``OPPOSITION_ACCES_URGENCE``), when reported."""
        return self._flag(_OPPOSITION_ACCES_URGENCE)


def observation_of(code: str, value: bool) -> Observation:
    """A boolean administrative observation with its code system of reference §3.1."""
    return Observation(code=code, code_system=OBSERVATION_CODE_SYSTEMS.get(code), value=value)


def build_patient_query(
    ins: str,
    ins_oid: str,
    *,
    reason: PatientReason,
    sender: Device,
    message_id: str,
    query_id: str,
    now: dt.datetime,
    processing_code: str = "P",
) -> etree._Element:
    """PRPA_IN201307UV02 for TD0.2 / TD1.3a; ids are ``(root OID of the LPS, uuid extension)``."""
    root = request_wrapper(REQUEST, sender=sender, message_id=message_id, now=now, processing_code=processing_code)
    sub(root, "attentionLine", xsi_nil="true")  # present but nil in the official requests (§3.1)
    control = sub(root, "controlActProcess", classCode="CACT", moodCode="EVN")
    sub(control, "reasonCode", code=reason.value, codeSystem=REASON_CODE_SYSTEM, displayName=REASON_DISPLAY[reason])
    query = sub(control, "queryByParameter")
    sub(query, "queryId", root=sender.oid, extension=query_id)
    sub(query, "statusCode", code="new")
    identifier = sub(sub(query, "parameterList"), "patientIdentifier")
    sub(identifier, "value", root=ins_oid, extension=ins)
    sub(identifier, "semanticsText", "Patient.id")
    return root


def parse_patient_query(root: etree._Element) -> PatientQuery:
    """Read a PRPA_IN201307UV02 received by the mock."""
    ids = read_wrapper(root)
    reason = text_of(root, "controlActProcess/reasonCode", "code")
    value = child(root, "controlActProcess/queryByParameter/parameterList/patientIdentifier/value")
    query_id = child(root, "controlActProcess/queryByParameter/queryId")
    if reason not in {r.value for r in PatientReason}:
        raise DmpProtocolError(f"unknown reasonCode {reason!r} for {REQUEST}")
    if value is None or not value.get("extension") or not value.get("root"):
        raise DmpProtocolError(f"{REQUEST} without parameterList/patientIdentifier/value (INS + OID)")
    return PatientQuery(
        reason=PatientReason(reason),
        ins=value.get("extension", ""),
        ins_oid=value.get("root", ""),
        message_root=ids.root,
        message_extension=ids.extension,
        query_root=query_id.get("root", "") if query_id is not None else "",
        query_extension=query_id.get("extension") if query_id is not None else None,
        sender=read_sender(root),
    )


# --- answers (mock side) ------------------------------------------------------------------------


def _attention_lines(root: etree._Element, answer: ExistenceAnswer) -> None:
    if answer.authorization is not None:
        line = sub(root, "attentionLine")
        sub(line, "keyWordText", code="AUTORISATION", codeSystem=_AUTH_KEY)
        sub(line, "value", xsi_type="CV", code=answer.authorization.value, codeSystem=_AUTH_VALUES)
    if answer.treating_physician is not None:
        line = sub(root, "attentionLine")
        sub(line, "keyWordText", code="STATUT_MT", codeSystem=_MT_KEY)
        sub(line, "value", xsi_type="BL", value=str(answer.treating_physician).lower())


def _answer_frame(
    query: PatientQuery, *, response_id: str, now: dt.datetime, lines: ExistenceAnswer | None
) -> tuple[etree._Element, etree._Element]:
    """The answer's wrapper, attention lines, acknowledgement and echoed reasonCode: (root, controlActProcess)."""
    root = answer_wrapper(RESPONSE, receiver=query.sender, response_id=response_id, now=now)
    if lines is not None:
        _attention_lines(root, lines)
    acknowledgement(root, "AA", (query.message_root, query.message_extension))
    control = sub(root, "controlActProcess", classCode="CACT", moodCode="EVN")
    reason = query.reason
    sub(control, "reasonCode", code=reason.value, codeSystem=REASON_CODE_SYSTEM, displayName=REASON_DISPLAY[reason])
    return root, control


def _patient_node(
    control: etree._Element, ins: str, ins_oid: str, status: DmpStatus, ins_c: str | None = None
) -> etree._Element:
    """``subject/registrationEvent/subject1/patient`` with its ids (INS-C first, as the reference) and status;
    the custodian follows it."""
    event = sub(sub(control, "subject", typeCode="SUBJ"), "registrationEvent", classCode="REG", moodCode="EVN")
    sub(event, "statusCode", code="completed")
    node = sub(sub(event, "subject1", typeCode="SBJ"), "patient", classCode="PAT")
    if ins_c:
        sub(node, "id", root=INS_C_OID, extension=ins_c)
    sub(node, "id", root=ins_oid, extension=ins)
    sub(node, "statusCode", code=status.value)
    custodian = sub(sub(event, "custodian", typeCode="CST"), "assignedEntity", classCode="ASSIGNED")
    sub(custodian, "id", root=DMP_SYSTEM_OID)
    return node


def _query_ack(control: etree._Element, query: PatientQuery, *, found: bool) -> None:
    ack = sub(control, "queryAck")
    echo = {"root": query.query_root} | ({"extension": query.query_extension} if query.query_extension else {})
    sub(ack, "queryId", **echo)
    sub(ack, "queryResponseCode", code="OK" if found else "NF")


def build_patient_response(
    query: PatientQuery, answer: ExistenceAnswer, *, response_id: str, now: dt.datetime
) -> etree._Element:
    """PRPA_IN201308UV02 answering a TD0.2 ``query`` (mock side)."""
    root, control = _answer_frame(query, response_id=response_id, now=now, lines=answer)
    found = answer.status is not DmpStatus.NONE and answer.patient is not None
    if found and answer.patient is not None:
        patient = answer.patient
        node = _patient_node(control, patient.ins, patient.ins_oid, answer.status)
        person = sub(node, "patientPerson", classCode="PSN", determinerCode="INSTANCE")
        given = [patient.given] if patient.given else []
        write_name(person, patient.family, patient.birth_family, given, patient.prefix)
        if patient.gender:
            sub(person, "administrativeGenderCode", code=patient.gender, codeSystem="2.16.840.1.113883.5.1")
        if patient.birth_date:
            sub(person, "birthTime", value=patient.birth_date.strftime("%Y%m%d"))
        write_observations(node, (observation_of(code, flag) for code, flag in answer.observations.items()))
    _query_ack(control, query, found=found)
    return root


def build_administrative_response(
    query: PatientQuery, record: AdministrativeRecord | None, *, response_id: str, now: dt.datetime
) -> etree._Element:
    """PRPA_IN201308UV02 answering a TD1.3a ``query`` with the whole record, or NF without one (mock side)."""
    root, control = _answer_frame(query, response_id=response_id, now=now, lines=None)
    if record is not None:
        node = _patient_node(control, record.ins, record.ins_oid, record.status, record.ins_c)
        write_person(node, record)
        write_observations(node, record.observations)
    _query_ack(control, query, found=record is not None)
    return root


# --- answers (client side) ----------------------------------------------------------------------


def read_patient_ids(node: etree._Element) -> tuple[str, str, str | None]:
    """The INS, its OID and the legacy INS-C among a ``patient``'s ``id`` elements, in whatever order the DMP
    lists them (the INS-C often comes first, reference §3.3); TD0.2, TD1.3a, TD1.3b and TD0.5 answers."""
    ids = [i for i in node.iterfind("{*}id") if i.get("root", "").startswith("1.2.250.1.213.1.4.")]
    main = next((i for i in ids if i.get("root") not in _LEGACY_INS_OIDS), ids[0] if ids else None)
    ins_c = next((i.get("extension") for i in ids if i.get("root") == INS_C_OID), None)
    if main is None:
        return "", "", ins_c
    return main.get("extension", ""), main.get("root", ""), ins_c


def _status(node: etree._Element) -> DmpStatus:
    status_code = text_of(node, "statusCode", "code")
    if status_code not in _PATIENT_STATUSES:
        raise DmpProtocolError(f"patient/statusCode {status_code!r}: expected active (open DMP) or terminated (closed)")
    return _PATIENT_STATUSES[status_code]


def _found_patient(root: etree._Element) -> etree._Element | None:
    """The answered patient, ``None`` for NF; query errors raise (they are not "no DMP", §9.5)."""
    read_wrapper(root)
    response_code = text_of(root, "controlActProcess/queryAck/queryResponseCode", "code")
    if response_code == "NF":
        return None
    if response_code not in (None, "OK"):
        raise DmpBusinessError(f"the DMP answered queryResponseCode {response_code} (query error)", code=response_code)
    patient = child(root, "controlActProcess/subject/registrationEvent/subject1/patient")
    if patient is None:
        raise DmpProtocolError("queryResponseCode OK without registrationEvent/subject1/patient")
    return patient


def _read_patient(node: etree._Element) -> tuple[PatientIdentity, DmpStatus, dict[str, bool]]:
    ins, ins_oid, _ = read_patient_ids(node)
    person = child(node, "patientPerson")
    family, birth_family, given, prefix = read_names(person) if person is not None else (None, None, (), None)
    birth = text_of(node, "patientPerson/birthTime", "value")
    observations = {o.code: o.value is True for o in read_observations(node)}
    identity = PatientIdentity(
        ins=ins,
        ins_oid=ins_oid,
        family=family,
        birth_family=birth_family,
        given=" ".join(given) or None,
        prefix=prefix,
        gender=text_of(node, "patientPerson/administrativeGenderCode", "code"),
        birth_date=parse_date(birth) if birth else None,
    )
    return identity, _status(node), observations


def parse_patient_response(root: etree._Element) -> ExistenceAnswer:
    """Read a TD0.2 PRPA_IN201308UV02 (client side). Acknowledgement errors are raised by the caller.

    Raises:
        DmpBusinessError: ``queryResponseCode`` QE/AE (query error, §9.5).
        DmpProtocolError: an OK answer without patient, or an unknown patient status.
    """
    authorization, authorization_code, treating = None, None, None
    for line in root.iterfind("{*}attentionLine"):
        key, value = text_of(line, "keyWordText", "code"), child(line, "value")
        if key == "AUTORISATION" and value is not None:
            authorization_code = value.get("code", "")
            known = {a.value for a in AuthorizationStatus}
            authorization = AuthorizationStatus(authorization_code) if authorization_code in known else None
        elif key == "STATUT_MT" and value is not None:
            treating = value.get("value") == "true"
    unknown_code = authorization_code if authorization is None else None
    patient_node = _found_patient(root)
    lines: dict[str, Any] = {
        "authorization": authorization,
        "treating_physician": treating,
        "authorization_code": unknown_code,
    }
    if patient_node is None:
        return ExistenceAnswer(status=DmpStatus.NONE, **lines)
    identity, status, observations = _read_patient(patient_node)
    return ExistenceAnswer(status=status, patient=identity, observations=observations, **lines)


def parse_administrative_response(root: etree._Element) -> AdministrativeRecord:
    """Read a TD1.3a PRPA_IN201308UV02 into the whole record (client side).

    Raises:
        DmpNotFoundError: no DMP for this INS (``queryResponseCode`` NF).
        DmpBusinessError: a query error (QE/AE).
        DmpProtocolError: an OK answer without patient, or an unknown patient status.
    """
    node = _found_patient(root)
    if node is None:
        raise DmpNotFoundError(
            "no DMP exists for this patient (queryResponseCode NF): check the INS and its OID; test_existence "
            "(TD0.2) tells whether a DMP exists",
            code="NF",
        )
    ins, ins_oid, ins_c = read_patient_ids(node)
    traits = read_person(child(node, "patientPerson"))
    observations = read_observations(node)
    return AdministrativeRecord(
        status=_status(node), ins=ins, ins_oid=ins_oid, ins_c=ins_c, observations=observations, **dict(traits)
    )
