"""The public XDS model of the DMP: document entries, submission sets, folders, associations (reference §4).

Pydantic v2 frozen models (``docs/models.md``). Decoders build them with ``model_construct`` from values
they already read; users may build them normally (validated) to submit or to compare. Wire values keep
their enum type where the DMP defines one (statuses, association types, confidentiality codes); a value
the DMP does not define is kept as its string (lenient on input).

Three identities of a document, not to be confused (reference §3.16, §4.4):

* ``unique_id`` — the document's own id (the CDA ``ClinicalDocument/id``), what TD3.2 retrieves;
* ``entry_uuid`` — the registry object id (``urn:uuid:…``) of one metadata version;
* ``logical_id`` — the ``lid`` shared by every metadata version of the entry (ITI-57), with ``version``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from dmpclient.codes import Code
from dmpclient.ids import parse_decimal
from dmpclient.xds.codes import (
    DOCUMENT_ENTRY_OBJECT_TYPE,
    AssociationType,
    AvailabilityStatus,
    Confidentiality,
)
from dmpclient.xds.identifiers import Cx, Xcn, Xon

__all__ = [
    "SIGNATURE_CLASS_CODE",
    "Association",
    "Author",
    "Classification",
    "DocumentEntry",
    "ExternalIdentifier",
    "Folder",
    "ObjectRef",
    "RegistryObjects",
    "ResponseStatus",
    "ReturnType",
    "Slot",
    "SubmissionSet",
]

#: classCode of the signature entry of a submission (reference §5.3).
SIGNATURE_CLASS_CODE: Final = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"
_FROZEN: Final = ConfigDict(frozen=True)


class ReturnType(StrEnum):
    """``ResponseOption/@returnType`` of a stored query (reference §4.8)."""

    LEAF_CLASS = "LeafClass"
    OBJECT_REF = "ObjectRef"


class ResponseStatus(StrEnum):
    """Status of a registry / repository response (reference §9.4)."""

    SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
    FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"


class Slot(BaseModel):
    """An ebRIM slot kept as received (one the model has no field for)."""

    model_config = _FROZEN

    name: str
    values: tuple[str, ...] = ()


class Classification(BaseModel):
    """An ebRIM classification the model has no field for (kept as received).

    Attributes:
        scheme: ``@classificationScheme`` (external classification), or ``None``.
        node: ``@classificationNode`` (internal classification: the submission set / folder markers).
        code: ``@nodeRepresentation``.
        coding_scheme: the ``codingScheme`` slot.
        display: ``Name/LocalizedString/@value``.
    """

    model_config = _FROZEN

    scheme: str | None = None
    node: str | None = None
    code: str | None = None
    coding_scheme: str | None = None
    display: str | None = None
    id: str | None = None
    classified_object: str | None = None
    slots: tuple[Slot, ...] = ()


class ExternalIdentifier(BaseModel):
    """An ebRIM external identifier the model has no field for (kept as received)."""

    model_config = _FROZEN

    scheme: str
    value: str
    id: str | None = None
    registry_object: str | None = None
    name: str | None = None


class Author(BaseModel):
    """An author of a document or submission set (reference §4.5).

    Attributes:
        person: ``authorPerson`` (a PS, the patient, or a device).
        institutions: ``authorInstitution`` (the author's structure).
        roles: ``authorRole``.
        specialties: ``authorSpecialty`` (``G15_10/SM26``… in the DMP).
        telecommunications: ``authorTelecommunication`` (XTN strings).
    """

    model_config = _FROZEN

    person: Xcn | None = None
    institutions: tuple[Xon, ...] = ()
    roles: tuple[Code, ...] = ()
    specialties: tuple[Code, ...] = ()
    telecommunications: tuple[str, ...] = ()

    @property
    def id(self) -> str | None:
        """The person's national id (idNat_PS, or the INS of a patient author)."""
        return self.person.id or None if self.person else None

    @property
    def structure_id(self) -> str | None:
        """The first institution's id (Struct_IdNat)."""
        return self.institutions[0].id or None if self.institutions else None

    @classmethod
    def professional(
        cls,
        ps_id: str,
        *,
        family: str,
        given: str,
        structure_id: str,
        structure_name: str,
        specialty: Code | None = None,
    ) -> Author:
        """A PS author in the DMP shape (idNat_PS ``IDNPS``, structure ``IDNST``, reference §4.5)."""
        person = Xcn(
            id=ps_id,
            family=family,
            given=given,
            assigning_authority="1.2.250.1.71.4.2.1",
            name_type="D",
            id_type="IDNPS",
        )
        institution = Xon(
            name=structure_name, assigning_authority="1.2.250.1.71.4.2.2", id_type="IDNST", id=structure_id
        )
        return cls(person=person, institutions=(institution,), specialties=(specialty,) if specialty else ())


class _RegistryEntry(BaseModel):
    """What document entries, submission sets and folders share: identities, status, versioning, texts.

    ``entry_uuid`` may be a symbolic id (``Document01``) in a submission; the registry answers with
    ``urn:uuid:`` ids; ``logical_id`` and ``version`` are the ebRIM ``lid`` and ``VersionInfo``.
    """

    model_config = _FROZEN

    entry_uuid: str
    unique_id: str
    patient_id: Cx | None = None
    status: AvailabilityStatus | str | None = None
    logical_id: str | None = None
    version: str | None = None
    home_community_id: str | None = None
    title: str | None = None
    comments: str | None = None


class DocumentEntry(_RegistryEntry):
    """An XDS DocumentEntry (``rim:ExtrinsicObject``) as the DMP registry stores it (reference §4.3–§4.7, §5.2).

    Unknown slots, classifications and identifiers are kept in the ``extra_*`` fields.
    """

    mime_type: str = "text/xml"
    object_type: str = DOCUMENT_ENTRY_OBJECT_TYPE
    class_code: Code | None = None
    type_code: Code | None = None
    format_code: Code | None = None
    healthcare_facility_type_code: Code | None = None
    practice_setting_code: Code | None = None
    confidentiality_codes: tuple[Code, ...] = ()
    event_codes: tuple[Code, ...] = ()
    authors: tuple[Author, ...] = ()
    legal_authenticator: Xcn | None = None
    creation_time: dt.datetime | None = None
    service_start_time: dt.datetime | None = None
    service_stop_time: dt.datetime | None = None
    language_code: str | None = None
    hash: str | None = None
    size: int | None = None
    repository_unique_id: str | None = None
    source_patient_id: Cx | None = None
    source_patient_info: tuple[str, ...] = ()
    reference_ids: tuple[str, ...] = ()
    extra_slots: tuple[Slot, ...] = ()
    extra_classifications: tuple[Classification, ...] = ()
    extra_identifiers: tuple[ExternalIdentifier, ...] = ()

    def _confidential(self, code: Confidentiality) -> bool:
        return any(c.code == code.value for c in self.confidentiality_codes)

    @property
    def is_masked(self) -> bool:
        """Masked to professionals (``MASQUE_PS``): only its author, the MT, or BDG/centre 15 if allowed read it."""
        return self._confidential(Confidentiality.MASQUE_PS)

    @property
    def is_visible_to_patient(self) -> bool:
        """False when ``INVISIBLE_PATIENT``: the PS must be told the patient cannot see it (reference §7.3)."""
        return not self._confidential(Confidentiality.INVISIBLE_PATIENT)

    @property
    def is_visible_to_legal_representatives(self) -> bool:
        """False when ``INVISIBLE_REPRESENTANTS_LEGAUX`` (documents of minors)."""
        return not self._confidential(Confidentiality.INVISIBLE_REPRESENTANTS_LEGAUX)

    @property
    def is_signature(self) -> bool:
        """The submission's signature entry (XAdES "signature du lot"), not a clinical document."""
        return self.class_code is not None and self.class_code.code == SIGNATURE_CLASS_CODE

    @property
    def version_number(self) -> int | None:
        """The metadata version (``VersionInfo/@versionName``) as an integer."""
        return parse_decimal(self.version)

    @property
    def author(self) -> Author | None:
        """The first author."""
        return self.authors[0] if self.authors else None

    @property
    def availability(self) -> AvailabilityStatus | None:
        """The status as a DMP availability status (``None`` for a status the DMP does not define)."""
        try:
            return AvailabilityStatus(self.status) if self.status else None
        except ValueError:
            return None


class SubmissionSet(_RegistryEntry):
    """An XDS SubmissionSet (``rim:RegistryPackage`` with the submission-set marker, reference §4.3, §5.2)."""

    source_id: str
    submission_time: dt.datetime | None = None
    content_type_code: Code | None = None
    authors: tuple[Author, ...] = ()
    intended_recipients: tuple[str, ...] = ()
    extra_slots: tuple[Slot, ...] = ()
    extra_classifications: tuple[Classification, ...] = ()
    extra_identifiers: tuple[ExternalIdentifier, ...] = ()


class Folder(_RegistryEntry):
    """An XDS Folder (``rim:RegistryPackage`` with the folder marker); no DMP source uses folders (§4.3)."""

    codes: tuple[Code, ...] = ()
    last_update_time: dt.datetime | None = None
    extra_slots: tuple[Slot, ...] = ()
    extra_classifications: tuple[Classification, ...] = ()
    extra_identifiers: tuple[ExternalIdentifier, ...] = ()


class Association(BaseModel):
    """An ebRIM association (HasMember, RPLC, signs, UpdateAvailabilityStatus… reference §4.3).

    ``association_type`` is an :class:`AssociationType` for the types the DMP uses, else the URN as received.
    """

    model_config = _FROZEN

    entry_uuid: str
    association_type: AssociationType | str
    source: str
    target: str
    status: AvailabilityStatus | str | None = None
    submission_set_status: str | None = None
    previous_version: str | None = None
    original_status: str | None = None
    new_status: str | None = None
    home_community_id: str | None = None
    extra_slots: tuple[Slot, ...] = ()

    @property
    def is_replacement(self) -> bool:
        """An RPLC association: ``source`` replaces ``target``."""
        return self.association_type == AssociationType.RPLC


class ObjectRef(BaseModel):
    """A reference to a registry object (``rim:ObjectRef``: ObjectRef queries, unresolved associations)."""

    model_config = _FROZEN

    id: str
    home_community_id: str | None = None


class RegistryObjects(BaseModel):
    """What a ``rim:RegistryObjectList`` holds, by kind (query answers, submissions, updates).

    Attributes:
        warnings: deviations tolerated while reading (unknown elements, unresolved classifications…).
    """

    model_config = _FROZEN

    documents: tuple[DocumentEntry, ...] = ()
    submission_sets: tuple[SubmissionSet, ...] = ()
    folders: tuple[Folder, ...] = ()
    associations: tuple[Association, ...] = ()
    references: tuple[ObjectRef, ...] = ()
    classifications: tuple[Classification, ...] = ()
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return (
            len(self.documents)
            + len(self.submission_sets)
            + len(self.folders)
            + len(self.associations)
            + len(self.references)
        )
