"""Typed records of the mock DMP store (what :mod:`mock_server.store` reads and writes).

Plain frozen dataclasses: the handlers map them to and from the wire models of ``dmpclient``. Times are
timezone-aware UTC datetimes; the store refuses naive ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from dmpclient.codes import Code
from dmpclient.hl7v3.patient_query import AuthorizationStatus as AuthorisationStatus
from dmpclient.hl7v3.patient_query import DmpStatus
from dmpclient.hl7v3.person import Address, Telecom
from dmpclient.xds.codes import AssociationType, AvailabilityStatus, Confidentiality

__all__ = [
    "Association",
    "Author",
    "AuthorKind",
    "Authorisation",
    "AuthorisationStatus",
    "DmpStatus",
    "DocumentMetadata",
    "DocumentRow",
    "DuplicateUniqueIdError",
    "LegalRepresentative",
    "NewDocument",
    "Outcome",
    "Patient",
    "StatusConflictError",
    "StoreError",
    "SubjectKind",
    "SubmissionSet",
    "TraceEntry",
    "UnknownObjectError",
]


class StoreError(Exception):
    """The store refused a write that would break the registry's consistency (nothing was written)."""


class UnknownObjectError(StoreError):
    """A referenced patient, document or submission set does not exist."""


class DuplicateUniqueIdError(StoreError):
    """A uniqueId is already used by another object (XDSDuplicateUniqueIdInRegistry)."""


class StatusConflictError(StoreError):
    """The object is not in the status the change expects (XDSMetadataUpdateError, deprecated RPLC target)."""


class SubjectKind(StrEnum):
    """Who holds an authorisation: a professional, or a structure (606 note 1)."""

    PROFESSIONAL = "professional"
    STRUCTURE = "structure"


class AuthorKind(StrEnum):
    """Who authored a document: a PS, the patient (526 ``*`` rows), or a device (an authorPerson may be a medical
    device, SEED / DMP-CONF 12; never a structure: a structure is the author's ``structure_id``, note 4)."""

    PROFESSIONAL = "professional"
    PATIENT = "patient"
    DEVICE = "device"


class Outcome(StrEnum):
    """Outcome of a traced call."""

    ALLOWED = "allowed"
    REFUSED = "refused"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LegalRepresentative:
    """A legal representative of a minor (TD1.3a ``personalRelationship``; relation e.g. ``FTH``, ``MTH``)."""

    relation: str
    family_name: str
    given_name: str
    addresses: tuple[Address, ...] = ()
    telecoms: tuple[Telecom, ...] = ()


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient known to the mock, with his DMP state and the settings that change rights."""

    ins: str
    ins_oid: str
    family_name: str
    given_name: str
    birth_date: date
    gender: str
    birth_name: str | None = None
    dmp_status: DmpStatus = DmpStatus.ACTIVE
    opposition_bris_de_glace: bool = False
    opposition_acces_urgence: bool = False
    #: the patient lets break-glass / centre 15 callers see documents masked to PS (526/606 note 7)
    masked_visible_in_emergency: bool = False
    mes_attached: bool = True
    web_account: bool = False
    secret_connection: bool = False
    minor: bool = False
    legal_representatives: tuple[LegalRepresentative, ...] = ()
    closed_at: datetime | None = None
    other_given_names: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    telecoms: tuple[Telecom, ...] = ()
    birth_place: Address | None = None
    deceased: bool = False
    #: the legacy INS-C some DMPs still carry next to the INS (TD1.3a, TD0.4)
    ins_c: str | None = None

    @property
    def given_names(self) -> tuple[str, ...]:
        """Every given name, the first one first."""
        return (self.given_name, *self.other_given_names)


@dataclass(frozen=True, slots=True)
class Authorisation:
    """A PS's or a structure's authorisation on a DMP (TD0.3, TD1.6); names are kept for TD1.6 answers."""

    patient_ins: str
    subject_kind: SubjectKind
    subject_id: str
    status: AuthorisationStatus
    granted_at: datetime
    last_action_at: datetime
    expires_at: datetime | None = None
    treating_physician: bool = False
    family_name: str | None = None
    given_name: str | None = None
    specialty: str | None = None
    #: the structure the professional acted for when he declared it (TD0.4 "same structure" notes)
    structure_id: str | None = None

    def status_at(self, now: datetime) -> AuthorisationStatus:
        """The status seen at ``now``: a VALIDE authorisation past its expiry reads as EXPIRE."""
        if self.status is AuthorisationStatus.VALIDE and self.expires_at is not None and self.expires_at <= now:
            return AuthorisationStatus.EXPIRE
        return self.status


@dataclass(frozen=True, slots=True)
class Author:
    """The author of a document or submission set (reference §4.5); ``id`` is the idNat_PS, or the INS of a
    patient author; a patient author has no structure."""

    kind: AuthorKind
    id: str
    family_name: str
    given_name: str
    structure_id: str | None
    structure_name: str | None
    specialty: Code | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentMetadata:
    """The XDS metadata of a document entry as the registry keeps it (reference §5.2).

    ``confidentiality`` is the full list; the store keeps the masking / visibility codes as columns
    (they change through TD3.3a/b) and rebuilds the list on read.
    """

    title: str
    class_code: Code
    type_code: Code
    format_code: Code
    healthcare_facility_type_code: Code
    practice_setting_code: Code
    creation_time: datetime
    author: Author
    confidentiality: tuple[Code, ...]
    mime_type: str = "text/xml"
    language_code: str = "fr-FR"
    event_codes: tuple[Code, ...] = ()
    service_start_time: datetime | None = None
    service_stop_time: datetime | None = None
    comments: str | None = None
    #: other slots echoed as received (legalAuthenticator, sourcePatientId, sourcePatientInfo, …)
    extra_slots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, code: Confidentiality) -> bool:
        """Whether a confidentiality code is present."""
        return any(c.code == code.value for c in self.confidentiality)


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A document entry to register: metadata plus the document bytes (hash and size are computed)."""

    entry_uuid: str
    unique_id: str
    patient_ins: str
    metadata: DocumentMetadata
    content: bytes
    status: AvailabilityStatus = AvailabilityStatus.APPROVED


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One stored document entry (one metadata version of a logical document ``lid``)."""

    entry_uuid: str
    lid: str
    version_name: int
    unique_id: str
    patient_ins: str
    status: AvailabilityStatus
    metadata: DocumentMetadata
    hash: str
    size: int
    submission_set_id: str | None
    created_at: datetime

    @property
    def masked_to_ps(self) -> bool:
        return self.metadata.has(Confidentiality.MASQUE_PS)

    @property
    def invisible_to_patient(self) -> bool:
        return self.metadata.has(Confidentiality.INVISIBLE_PATIENT)

    @property
    def invisible_to_legal_reps(self) -> bool:
        return self.metadata.has(Confidentiality.INVISIBLE_REPRESENTANTS_LEGAUX)


@dataclass(frozen=True, slots=True)
class SubmissionSet:
    """A registered submission set (TD2.1 or TD3.3)."""

    entry_uuid: str
    unique_id: str
    patient_ins: str
    source_id: str
    submission_time: datetime
    author: Author
    content_type_code: Code
    title: str | None = None
    comments: str | None = None
    status: AvailabilityStatus = AvailabilityStatus.APPROVED


@dataclass(frozen=True, slots=True)
class Association:
    """A registry association; ``slots`` holds SubmissionSetStatus, PreviousVersion, OriginalStatus…"""

    entry_uuid: str
    type: AssociationType
    source: str
    target: str
    slots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One traced call (who, what, on whom, outcome). The INS is stored, never logged."""

    at: datetime
    td: str
    outcome: Outcome
    ps_id: str | None = None
    structure_id: str | None = None
    auth_mode: str | None = None
    role: str | None = None
    access_mode: str | None = None
    patient_ins: str | None = None
    detail: str | None = None
    message_id: str | None = None
    id: int | None = None
