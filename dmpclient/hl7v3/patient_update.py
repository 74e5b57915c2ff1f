"""TD1.3b, modification des données administratives: PRPA_IN201314UV02 (``MODIF_DATA``) → the
``gdp:PRPA_IN201314UV02_Response`` wrapper around PRPA_IN201315UV02 (accepted) or PRPA_IN201316UV02 (refused).

Both directions (reference §3.10, §3.1, §9.5). The request carries ``subject/registrationRequest`` (``REG``/``RQO``,
status active) with the patient's new ``patientPerson`` and observations, and the ``author/assignedEntity``
(PS idNat, name, structure). Restricted: only for DMPs not attached to Mon espace santé (526 note 10).

Project design (the DMP's merge rules are not public): the request carries the patient's whole new contact
state — telecoms, addresses, legal representatives, birth place and the two oppositions; the traits that come
from the INS (names, sex, birth date) are sent as they are and not changed by the DMP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar, Final

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient.errors import DmpProtocolError
from dmpclient.hl7v3.patient_query import (
    REASON_CODE_SYSTEM,
    AdministrativeRecord,
    DmpStatus,
    observation_of,
    read_patient_ids,
)
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
    HL7,
    Device,
    acknowledgement,
    answer_wrapper,
    child,
    read_sender,
    read_wrapper,
    request_wrapper,
    sub,
    text_of,
)
from dmpclient.ids import DMP_SYSTEM_OID, PS_ID_OID, STRUCTURE_ID_OID

__all__ = [
    "GDP",
    "REQUEST",
    "AdministrativeUpdate",
    "AdministrativeUpdated",
    "PatientUpdateRequest",
    "UpdateAuthor",
    "author_specialty",
    "build_update",
    "build_update_accepted",
    "build_update_refused",
    "parse_update",
    "parse_update_response",
    "wrapped_message",
]

REQUEST: Final = "PRPA_IN201314UV02"
ACCEPTED: Final = "PRPA_IN201315UV02"
REFUSED: Final = "PRPA_IN201316UV02"
#: Namespace of the answer's wrapper element (reference §3.1).
GDP: Final = "asip:ci-sis:gdp:2010"
REASON: Final = "MODIF_DATA"
REASON_DISPLAY: Final = "Modification des données de gestion du dossier"
_SPECIALTY_SYSTEM: Final = "1.2.250.1.213.1.1.4.5"


class AdministrativeUpdate(PersonTraits):
    """The patient's new administrative state for TD1.3b (build it from a TD1.3a record: :meth:`from_record`).

    Attributes:
        opposition_bris_de_glace / opposition_acces_urgence: the new oppositions (``None``: not sent).
    """

    _shown: ClassVar[frozenset[str]] = frozenset({"ins_oid"})

    ins: str
    ins_oid: str
    opposition_bris_de_glace: bool | None = None
    opposition_acces_urgence: bool | None = None

    @classmethod
    def from_record(cls, record: AdministrativeRecord) -> AdministrativeUpdate:
        """The update that would leave ``record`` as it is (then ``model_copy(update=…)`` what changes)."""
        traits = {name: getattr(record, name) for name in PersonTraits.model_fields}
        return cls(
            ins=record.ins,
            ins_oid=record.ins_oid,
            opposition_bris_de_glace=record.opposition_bris_de_glace,
            opposition_acces_urgence=record.opposition_acces_urgence,
            **traits,
        )

    @property
    def observations(self) -> tuple[Observation, ...]:
        found = (
            ("OPPOSITION_BRIS_DE_GLACE", self.opposition_bris_de_glace),
            ("OPPOSITION_ACCES_URGENCE", self.opposition_acces_urgence),
        )
        return tuple(observation_of(code, value) for code, value in found if value is not None)


def author_specialty(profession: str | None, savoir_faire: str | None) -> str | None:
    """``G15_{profession}/{savoir-faire}`` (``G15_10/SM26``), the DMP's specialty code of a professional
    (1.2.250.1.213.1.1.4.5; also TD1.6 ``codeSpeciality``)."""
    if not profession:
        return None
    return f"G15_{profession}/{savoir_faire}" if savoir_faire else f"G15_{profession}"


@dataclass(frozen=True, slots=True)
class UpdateAuthor:
    """``author/assignedEntity``: who changes the data (PS idNat, name, specialty) and for which structure."""

    ps_id: str
    family: str | None
    given: str | None
    structure_id: str
    structure_name: str | None = None
    specialty: str | None = None  # ``G15_10/SM26`` in 1.2.250.1.213.1.1.4.5


@dataclass(frozen=True, slots=True)
class PatientUpdateRequest:
    """A parsed PRPA_IN201314UV02 (mock side)."""

    update: AdministrativeUpdate
    author: UpdateAuthor | None
    message_root: str
    message_extension: str | None
    sender: Device

    def __repr__(self) -> str:  # no INS in logs
        return f"PatientUpdateRequest(ins='…{self.update.ins[-4:]}')"


class AdministrativeUpdated(BaseModel):
    """The outcome of TD1.3b: the patient as the DMP echoes him (status and names)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: DmpStatus
    ins: str
    ins_oid: str
    family: str | None = None
    birth_family: str | None = None
    given_names: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"AdministrativeUpdated(status={self.status.value!r}, ins='…{self.ins[-4:]}')"

    __str__ = __repr__


def _reason(control: etree._Element) -> None:
    sub(control, "reasonCode", code=REASON, codeSystem=REASON_CODE_SYSTEM, displayName=REASON_DISPLAY)


def _author(parent: etree._Element, author: UpdateAuthor) -> None:
    entity = sub(sub(parent, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")
    sub(entity, "id", root=PS_ID_OID, extension=author.ps_id)
    if author.specialty:
        sub(entity, "code", code=author.specialty, codeSystem=_SPECIALTY_SYSTEM)
    person = sub(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
    write_name(person, author.family, None, [author.given] if author.given else [], None)
    organisation = sub(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
    sub(organisation, "id", root=STRUCTURE_ID_OID, extension=author.structure_id)
    if author.structure_name:
        sub(organisation, "name", author.structure_name)


def build_update(
    update: AdministrativeUpdate,
    author: UpdateAuthor,
    *,
    sender: Device,
    message_id: str,
    now: dt.datetime,
    processing_code: str = "P",
) -> etree._Element:
    """PRPA_IN201314UV02 ``MODIF_DATA`` (client side)."""
    root = request_wrapper(REQUEST, sender=sender, message_id=message_id, now=now, processing_code=processing_code)
    control = sub(root, "controlActProcess", classCode="CACT", moodCode="EVN")
    _reason(control)
    request = sub(sub(control, "subject", typeCode="SUBJ"), "registrationRequest", classCode="REG", moodCode="RQO")
    sub(request, "statusCode", code="active")
    patient = sub(sub(request, "subject1", typeCode="SBJ"), "patient", classCode="PAT")
    sub(patient, "id", root=update.ins_oid, extension=update.ins)
    sub(patient, "statusCode", code="active")
    write_person(patient, update)
    write_observations(patient, update.observations)
    _author(request, author)
    return root


def _read_author(request: etree._Element) -> UpdateAuthor | None:
    entity = child(request, "author/assignedEntity")
    if entity is None:
        return None
    person = child(entity, "assignedPerson")
    family, _, given, _ = read_names(person) if person is not None else (None, None, (), None)
    return UpdateAuthor(
        ps_id=text_of(entity, "id", "extension") or "",
        family=family,
        given=" ".join(given) or None,
        structure_id=text_of(entity, "representedOrganization/id", "extension") or "",
        structure_name=text_of(entity, "representedOrganization/name"),
        specialty=text_of(entity, "code", "code"),
    )


def parse_update(root: etree._Element) -> PatientUpdateRequest:
    """Read a PRPA_IN201314UV02 ``MODIF_DATA`` received by the mock.

    Raises:
        DmpProtocolError: no ``registrationRequest/subject1/patient`` with an INS.
    """
    ids = read_wrapper(root)
    request = child(root, "controlActProcess/subject/registrationRequest")
    patient = child(request, "subject1/patient") if request is not None else None
    ident = child(patient, "id") if patient is not None else None
    if request is None or patient is None or ident is None or not ident.get("extension"):
        raise DmpProtocolError(f"{REQUEST} without registrationRequest/subject1/patient/id (INS)")
    observations = {o.code: o.value for o in read_observations(patient)}
    update = AdministrativeUpdate(
        ins=ident.get("extension", ""),
        ins_oid=ident.get("root", ""),
        opposition_bris_de_glace=_flag(observations.get("OPPOSITION_BRIS_DE_GLACE")),
        opposition_acces_urgence=_flag(observations.get("OPPOSITION_ACCES_URGENCE")),
        **dict(read_person(child(patient, "patientPerson"))),
    )
    return PatientUpdateRequest(
        update=update,
        author=_read_author(request),
        message_root=ids.root,
        message_extension=ids.extension,
        sender=read_sender(root),
    )


def _flag(value: bool | str | None) -> bool | None:
    return value if isinstance(value, bool) else None


def _answer(request: PatientUpdateRequest, interaction: str, *, response_id: str, now: dt.datetime) -> etree._Element:
    holder = etree.Element(f"{{{GDP}}}{REQUEST}_Response", nsmap={"gdp": GDP})
    message = answer_wrapper(interaction, receiver=request.sender, response_id=response_id, now=now)
    holder.append(message)
    return holder


def build_update_accepted(
    request: PatientUpdateRequest, status: DmpStatus, *, response_id: str, now: dt.datetime
) -> etree._Element:
    """The wrapper around PRPA_IN201315UV02 (AA, the patient echoed with status and names), mock side."""
    holder = _answer(request, ACCEPTED, response_id=response_id, now=now)
    message = holder[0]
    acknowledgement(message, "AA", (request.message_root, request.message_extension))
    control = sub(message, "controlActProcess", classCode="CACT", moodCode="EVN")
    _reason(control)
    event = sub(sub(control, "subject", typeCode="SUBJ"), "registrationEvent", classCode="REG", moodCode="EVN")
    sub(event, "statusCode", code="completed")
    patient = sub(sub(event, "subject1", typeCode="SBJ"), "patient", classCode="PAT")
    update = request.update
    sub(patient, "id", root=update.ins_oid, extension=update.ins)
    sub(patient, "statusCode", code=status.value)
    person = sub(patient, "patientPerson", classCode="PSN", determinerCode="INSTANCE")
    write_name(person, update.family, update.birth_family, update.given_names, update.prefix)
    custodian = sub(sub(event, "custodian", typeCode="CST"), "assignedEntity", classCode="ASSIGNED")
    sub(custodian, "id", root=DMP_SYSTEM_OID)
    return holder


def build_update_refused(
    request: PatientUpdateRequest, code: str, text: str, *, response_id: str, now: dt.datetime, type_code: str = "AE"
) -> etree._Element:
    """The wrapper around PRPA_IN201316UV02 (AE/AR + ``acknowledgementDetail`` code and text), mock side."""
    holder = _answer(request, REFUSED, response_id=response_id, now=now)
    message = holder[0]
    ack = acknowledgement(message, type_code, (request.message_root, request.message_extension))
    detail = sub(ack, "acknowledgementDetail", typeCode="E")
    sub(detail, "code", code=code)
    sub(detail, "text", text)
    _reason(sub(message, "controlActProcess", classCode="CACT", moodCode="EVN"))
    return holder


def wrapped_message(body: etree._Element | None) -> etree._Element:
    """The PRPA_IN201315UV02 / PRPA_IN201316UV02 inside ``gdp:PRPA_IN201314UV02_Response``.

    Raises:
        DmpProtocolError: another body, or a wrapper without an HL7v3 message.
    """
    if body is None or body.tag != f"{{{GDP}}}{REQUEST}_Response":
        raise DmpProtocolError(f"TD1.3b: expected a {{{GDP}}}{REQUEST}_Response answer")
    message = next((node for node in body if isinstance(node.tag, str) and etree.QName(node).namespace == HL7), None)
    if message is None or etree.QName(message).localname not in (ACCEPTED, REFUSED):
        raise DmpProtocolError(f"TD1.3b: the answer wraps no {ACCEPTED} or {REFUSED}")
    return message


def parse_update_response(message: etree._Element) -> AdministrativeUpdated:
    """Read an accepted PRPA_IN201315UV02 (client side; refusals are raised from the acknowledgement first)."""
    patient = child(message, "controlActProcess/subject/registrationEvent/subject1/patient")
    if patient is None:
        raise DmpProtocolError(f"TD1.3b: {ACCEPTED} without registrationEvent/subject1/patient")
    ins, ins_oid, _ = read_patient_ids(patient)
    person = child(patient, "patientPerson")
    family, birth_family, given, _ = read_names(person) if person is not None else (None, None, (), None)
    status = text_of(patient, "statusCode", "code")
    return AdministrativeUpdated(
        status=DmpStatus.CLOSED if status == "terminated" else DmpStatus.ACTIVE,
        ins=ins,
        ins_oid=ins_oid,
        family=family,
        birth_family=birth_family,
        given_names=given,
    )
