"""XDS wire constants of the DMP: scheme UUIDs, statuses, association types, and value-set mappings.

Statuses (§4.7), scheme UUIDs (§4.3) and association types are fixed URNs. The DMP value sets themselves
(classCode, typeCode… reference §4.6) are :mod:`dmpclient.codes` value sets like every other terminology;
this module only adds the mappings between them (typeCode → classCode, mediaType → formatCode).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError

__all__ = [
    "ASSOCIATION_OBJECT_TYPE",
    "DOCUMENT_ENTRY_OBJECT_TYPE",
    "SUBMISSION_SET_NODE",
    "AssociationType",
    "AvailabilityStatus",
    "Confidentiality",
    "DocumentEntryScheme",
    "SubmissionSetScheme",
    "association_type",
    "class_code_for_type",
    "format_code_for_media_type",
]

#: ``@objectType`` of a stable DocumentEntry (the only kind the DMP uses).
DOCUMENT_ENTRY_OBJECT_TYPE: Final = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
#: ``@objectType`` of every ebRIM Association (reference §6.1 shows it on UpdateAvailabilityStatus).
ASSOCIATION_OBJECT_TYPE: Final = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
#: ``@classificationNode`` marking a RegistryPackage as a SubmissionSet.
SUBMISSION_SET_NODE: Final = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"


class AvailabilityStatus(StrEnum):
    """Registry statuses of the DMP (reference §4.7): two ebRIM ones, two CI-SIS ones."""

    APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
    ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
    DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"


class AssociationType(StrEnum):
    """Association types used by the DMP (reference §4.3); RPLC is the only document relationship."""

    HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
    SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
    RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
    UPDATE_AVAILABILITY_STATUS = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"


_ASSOCIATION_ALIASES: Final = {"urn:ihe:iti:2010:AssociationType:RPLC": AssociationType.RPLC}


def association_type(urn: str) -> AssociationType:
    """Parse an association type, accepting the 2010 RPLC URN written by some LPS (reference §4.3)."""
    if urn in _ASSOCIATION_ALIASES:
        return _ASSOCIATION_ALIASES[urn]
    try:
        return AssociationType(urn)
    except ValueError:
        raise DmpValidationError(
            f"associationType {urn!r} is not used by the DMP (HasMember, signs, RPLC, UpdateAvailabilityStatus)",
            field="associationType",
        ) from None


class Confidentiality(StrEnum):
    """Confidentiality codes of JDV_J58 (reference §4.6); all but ``N`` are in 1.2.250.1.213.1.1.4.13."""

    NORMAL = "N"
    MASQUE_PS = "MASQUE_PS"
    INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
    INVISIBLE_REPRESENTANTS_LEGAUX = "INVISIBLE_REPRESENTANTS_LEGAUX"


class DocumentEntryScheme(StrEnum):
    """Classification / identification schemes of a DocumentEntry (reference §4.3)."""

    AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
    CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
    CONFIDENTIALITY_CODE = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
    EVENT_CODE = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
    FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
    HEALTHCARE_FACILITY_TYPE_CODE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
    PRACTICE_SETTING_CODE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
    TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
    PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
    UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"


class SubmissionSetScheme(StrEnum):
    """Classification / identification schemes of a SubmissionSet (reference §4.3)."""

    AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
    CONTENT_TYPE_CODE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
    PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
    SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
    UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"


def class_code_for_type(type_code: str) -> Code:
    """The classCode a typeCode belongs to (ASS_X04 as far as the reference tells, inferred mapping)."""
    concept = load_value_set(ValueSetId.TYPE_CODE).get(type_code)
    mapped = concept.properties.get("class_code") if concept is not None else None
    if mapped is None:
        raise DmpValidationError(f"typeCode {type_code} has no classCode mapping", field="typeCode")
    return load_value_set(ValueSetId.CLASS_CODE).require(mapped)


def format_code_for_media_type(media_type: str) -> Code:
    """The formatCode of a CDA level 1 document from its nonXMLBody mediaType (ASS_A12)."""
    for concept in load_value_set(ValueSetId.FORMAT_CODE).concepts:
        if concept.properties.get("media_type") == media_type:
            return concept.as_code()
    raise DmpValidationError(
        f"mediaType {media_type!r} has no DMP formatCode (application/pdf, text/plain, text/rtf, image/jpeg, "
        "image/tiff)",
        field="mediaType",
    )
