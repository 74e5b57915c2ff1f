"""TD0.2 (test d'existence) and TD1.3a (données administratives): PRPA_IN201307UV02 → PRPA_IN201308UV02.

Both directions (reference §3.1, §3.3, §3.9): the client builds the query and parses the answer,
the mock parses the query and builds the answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from lxml import etree

from dmpclient.errors import DmpBusinessError, DmpProtocolError
from dmpclient.hl7v3.wrapper import (
    DMP_DEVICE,
    Device,
    acknowledgement,
    child,
    parse_date,
    read_wrapper,
    sub,
    text_of,
    wrapper,
)
from dmpclient.ids import DMP_SYSTEM_OID

__all__ = [
    "OBSERVATION_CODE_SYSTEMS",
    "REASON_CODE_SYSTEM",
    "AuthorizationStatus",
    "DmpStatus",
    "ExistenceAnswer",
    "PatientIdentity",
    "PatientQuery",
    "PatientReason",
    "build_patient_query",
    "build_patient_response",
    "parse_patient_query",
    "parse_patient_response",
]

REQUEST: Final = "PRPA_IN201307UV02"
RESPONSE: Final = "PRPA_IN201308UV02"
REASON_CODE_SYSTEM: Final = "1.2.250.1.213.1.1.4.11"
_LEGACY_INS_OIDS: Final = frozenset({"1.2.250.1.213.1.4.1", "1.2.250.1.213.1.4.2"})  # INS-A, INS-C
_AUTH_KEY, _AUTH_VALUES, _MT_KEY = "1.2.250.1.213.4.1.2.6.1", "1.2.250.1.213.4.1.2.6.2", "1.2.250.1.213.4.1.2.6.3"
#: Code system of each administrative observation (reference §3.1).
OBSERVATION_CODE_SYSTEMS: Final = {
    "COMPTE_INTERNET_OUVERT": "1.2.250.1.213.4.1.2.9",
    "RATTACHEMENT_ENS": "1.2.250.1.213.4.1.2.3",
    "OPPOSITION_BRIS_DE_GLACE": "1.2.250.1.213.4.1.2.3",
    "OPPOSITION_ACCES_URGENCE": "1.2.250.1.213.4.1.2.3",
}


class PatientReason(StrEnum):
    """controlActProcess reasonCode of PRPA_IN201307UV02."""

    TEST_EXISTENCE = "TEST_EXST"  # TD0.2
    ADMINISTRATIVE_DATA = "CNSLT_DATA"  # TD1.3a


_DISPLAY: Final = {
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


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """Core traits of the patient as the DMP returns them."""

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


@dataclass(frozen=True, slots=True)
class ExistenceAnswer:
    """The content of a PRPA_IN201308UV02 (TD0.2 / TD1.3a result)."""

    status: DmpStatus
    authorization: AuthorizationStatus | None = None
    treating_physician: bool | None = None
    patient: PatientIdentity | None = None
    observations: dict[str, bool] = field(default_factory=dict)
    #: the raw ``AUTORISATION`` code when it is none of the known values (``authorization`` is then None)
    authorization_code: str | None = None

    @property
    def exists(self) -> bool:
        """True when a DMP exists (open or closed) for this INS."""
        return self.status is not DmpStatus.NONE


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
    root = wrapper(
        REQUEST,
        message_root=sender.oid,
        message_extension=message_id,
        now=now,
        sender=sender,
        receiver=DMP_DEVICE,
        accept_ack="AL",
        processing_code=processing_code,
    )
    sub(root, "attentionLine", xsi_nil="true")  # present but nil in the official requests (§3.1)
    control = sub(root, "controlActProcess", classCode="CACT", moodCode="EVN")
    sub(control, "reasonCode", code=reason.value, codeSystem=REASON_CODE_SYSTEM, displayName=_DISPLAY[reason])
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
        sender=Device(
            text_of(root, "sender/device/id", "root") or "", text_of(root, "sender/device/softwareName") or ""
        ),
    )


def _attention_lines(root: etree._Element, answer: ExistenceAnswer) -> None:
    if answer.authorization is not None:
        line = sub(root, "attentionLine")
        sub(line, "keyWordText", code="AUTORISATION", codeSystem=_AUTH_KEY)
        sub(line, "value", xsi_type="CV", code=answer.authorization.value, codeSystem=_AUTH_VALUES)
    if answer.treating_physician is not None:
        line = sub(root, "attentionLine")
        sub(line, "keyWordText", code="STATUT_MT", codeSystem=_MT_KEY)
        sub(line, "value", xsi_type="BL", value=str(answer.treating_physician).lower())


def _patient(parent: etree._Element, patient: PatientIdentity, status: DmpStatus, obs: dict[str, bool]) -> None:
    node = sub(parent, "patient", classCode="PAT")
    sub(node, "id", root=patient.ins_oid, extension=patient.ins)
    sub(node, "statusCode", code=status.value)
    person = sub(node, "patientPerson", classCode="PSN", determinerCode="INSTANCE")
    name = sub(person, "name")
    if patient.prefix:
        sub(name, "prefix", patient.prefix)
    if patient.given:
        sub(name, "given", patient.given)
    if patient.family:
        sub(name, "family", patient.family, qualifier="SP")
    if patient.birth_family:
        sub(name, "family", patient.birth_family, qualifier="BR")
    if patient.gender:
        sub(person, "administrativeGenderCode", code=patient.gender, codeSystem="2.16.840.1.113883.5.1")
    if patient.birth_date:
        sub(person, "birthTime", value=patient.birth_date.strftime("%Y%m%d"))
    for code, flag in obs.items():
        observation = sub(sub(node, "subjectOf", typeCode="SBJ"), "administrativeObservation", classCode="OBS")
        observation.set("moodCode", "EVN")
        sub(observation, "code", code=code, codeSystem=OBSERVATION_CODE_SYSTEMS.get(code, "1.2.250.1.213.4.1.2.3"))
        sub(observation, "value", xsi_type="BL", value=str(flag).lower())


def build_patient_response(
    query: PatientQuery, answer: ExistenceAnswer, *, response_id: str, now: dt.datetime
) -> etree._Element:
    """PRPA_IN201308UV02 answering ``query`` (mock side)."""
    root = wrapper(
        RESPONSE,
        message_root=response_id,
        message_extension=None,
        now=now,
        sender=DMP_DEVICE,
        receiver=query.sender,
        accept_ack="NE",
    )
    _attention_lines(root, answer)
    acknowledgement(root, "AA", (query.message_root, query.message_extension))
    control = sub(root, "controlActProcess", classCode="CACT", moodCode="EVN")
    sub(control, "reasonCode", code=query.reason.value, codeSystem=REASON_CODE_SYSTEM)
    if answer.status is not DmpStatus.NONE and answer.patient is not None:
        event = sub(sub(control, "subject", typeCode="SUBJ"), "registrationEvent", classCode="REG", moodCode="EVN")
        sub(event, "statusCode", code="completed")
        _patient(sub(event, "subject1", typeCode="SBJ"), answer.patient, answer.status, answer.observations)
        custodian = sub(sub(event, "custodian", typeCode="CST"), "assignedEntity", classCode="ASSIGNED")
        sub(custodian, "id", root=DMP_SYSTEM_OID)
    ack = sub(control, "queryAck")
    sub(
        ack, "queryId", root=query.query_root, **({"extension": query.query_extension} if query.query_extension else {})
    )
    sub(ack, "queryResponseCode", code="NF" if answer.status is DmpStatus.NONE else "OK")
    return root


def _read_patient(node: etree._Element) -> tuple[PatientIdentity, DmpStatus, dict[str, bool]]:
    ids = [i for i in node.iterfind("{*}id") if i.get("root", "").startswith("1.2.250.1.213.1.4.")]
    main = next((i for i in ids if i.get("root") not in _LEGACY_INS_OIDS), ids[0] if ids else None)
    birth = text_of(node, "patientPerson/birthTime", "value")
    families = {f.get("qualifier", "SP"): (f.text or "").strip() for f in node.iterfind(".//{*}name/{*}family")}
    status_code = text_of(node, "statusCode", "code")
    observations = {
        code: text_of(obs, "value", "value") == "true"
        for obs in node.iterfind("{*}subjectOf/{*}administrativeObservation")
        if (code := text_of(obs, "code", "code"))
    }
    identity = PatientIdentity(
        ins=main.get("extension", "") if main is not None else "",
        ins_oid=main.get("root", "") if main is not None else "",
        family=families.get("SP"),
        birth_family=families.get("BR"),
        given=text_of(node, "patientPerson/name/given"),
        prefix=text_of(node, "patientPerson/name/prefix"),
        gender=text_of(node, "patientPerson/administrativeGenderCode", "code"),
        birth_date=parse_date(birth) if birth else None,
    )
    if status_code not in _PATIENT_STATUSES:
        raise DmpProtocolError(f"patient/statusCode {status_code!r}: expected active (open DMP) or terminated (closed)")
    return identity, _PATIENT_STATUSES[status_code], observations


def parse_patient_response(root: etree._Element) -> ExistenceAnswer:
    """Read a PRPA_IN201308UV02 (client side). Acknowledgement errors are raised by the caller.

    Raises:
        DmpBusinessError: ``queryResponseCode`` QE/AE (query error, §9.5).
        DmpProtocolError: an OK answer without patient, or an unknown patient status.
    """
    read_wrapper(root)
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
    response_code = text_of(root, "controlActProcess/queryAck/queryResponseCode", "code")
    patient_node = child(root, "controlActProcess/subject/registrationEvent/subject1/patient")
    if response_code == "NF":
        return ExistenceAnswer(DmpStatus.NONE, authorization, treating, authorization_code=unknown_code)
    if response_code not in (None, "OK"):
        raise DmpBusinessError(f"the DMP answered queryResponseCode {response_code} (query error)", code=response_code)
    if patient_node is None:
        raise DmpProtocolError("queryResponseCode OK without registrationEvent/subject1/patient")
    identity, status, observations = _read_patient(patient_node)
    return ExistenceAnswer(status, authorization, treating, identity, observations, authorization_code=unknown_code)
