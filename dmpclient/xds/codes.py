"""XDS wire constants of the DMP: scheme UUIDs, statuses, association types, and the DMP value sets.

Value sets (reference §4.6) are package data (``dmpclient/data/xds_*.json``; healthcareFacilityTypeCode is the
whole TRE_R02 terminology shipped for the VIHF), loaded once: their exact
membership at the current terminology version is an open question (reference §14 item 14), so they are
data to update, not code. Statuses (§4.7), scheme UUIDs (§4.3) and association types are fixed URNs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Final

from dmpclient.errors import DmpValidationError

__all__ = [
    "DOCUMENT_ENTRY_OBJECT_TYPE",
    "SUBMISSION_SET_NODE",
    "AssociationType",
    "AvailabilityStatus",
    "Code",
    "Confidentiality",
    "DocumentEntryScheme",
    "SubmissionSetScheme",
    "ValueSet",
    "ValueSetName",
    "association_type",
    "class_code_for_type",
    "format_code_for_media_type",
    "value_set",
]

#: ``@objectType`` of a stable DocumentEntry (the only kind the DMP uses).
DOCUMENT_ENTRY_OBJECT_TYPE: Final = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
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


class ValueSetName(StrEnum):
    """The DMP value sets shipped as ``dmpclient/data/xds_<name>.json``."""

    CLASS_CODE = "class_code"
    TYPE_CODE = "type_code"
    FORMAT_CODE = "format_code"
    HEALTHCARE_FACILITY_TYPE_CODE = "healthcare_facility_type_code"
    PRACTICE_SETTING_CODE = "practice_setting_code"
    CONFIDENTIALITY_CODE = "confidentiality_code"
    CONTENT_TYPE_CODE = "content_type_code"
    EVENT_CODE = "event_code"


@dataclass(frozen=True, slots=True)
class Code:
    """A coded value as XDS carries it: code, codingScheme, display name.

    ``signature`` marks the codes reserved to the signature entry of a submission (reference §5.3);
    ``class_code`` (type codes) and ``media_type`` (format codes) carry the mappings the mock needs.
    These value-set annotations do not take part in equality: a coded value is its code, scheme and display.
    """

    code: str
    scheme: str
    display: str
    signature: bool = field(default=False, compare=False)
    class_code: str | None = field(default=None, compare=False)
    media_type: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ValueSet:
    """One value set: its official name and its codes in a stable order."""

    name: str
    title: str
    codes: tuple[Code, ...]
    _index: dict[tuple[str, str], Code] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {(c.code, c.scheme): c for c in self.codes})

    def get(self, code: str, scheme: str | None = None) -> Code:
        """The code (with its scheme when given); raise a validation error naming the value set."""
        found = (
            self._index.get((code, scheme))
            if scheme is not None
            else next((c for c in self.codes if c.code == code), None)
        )
        if found is None:
            where = f"^^{scheme}" if scheme else ""
            raise DmpValidationError(f"{self.title}: {code}{where} is not in {self.name}", field=self.title)
        return found

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Code):
            return (item.code, item.scheme) in self._index
        return any(c.code == item for c in self.codes)

    @property
    def clinical(self) -> tuple[Code, ...]:
        """The codes usable on clinical documents (without the signature-entry ones)."""
        return tuple(c for c in self.codes if not c.signature)


#: Value sets that are a whole ANS terminology shipped for the VIHF too (JDV_J61 = TRE_R02, reference §4.6).
_TERMINOLOGY_FILES: Final = {ValueSetName.HEALTHCARE_FACILITY_TYPE_CODE: "tre_r02_secteur_activite.json"}


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("dmpclient.data").joinpath(name).read_text(encoding="utf-8"))
    return data


@cache
def value_set(name: ValueSetName | str) -> ValueSet:
    """The value set from package data (loaded once per process)."""
    try:
        which = ValueSetName(name)
    except ValueError:
        raise DmpValidationError(f"unknown XDS value set {name!r}", field="value_set") from None
    if which in _TERMINOLOGY_FILES:
        terminology = _read(_TERMINOLOGY_FILES[which])
        concepts = (c for c in terminology["concepts"] if not c.get("retired", False))
        codes = tuple(Code(c["code"], terminology["oid"], c["display"]) for c in concepts)
        return ValueSet(name=terminology["name"], title=which.value, codes=codes)
    data = _read(f"xds_{which.value}.json")
    codes = tuple(
        Code(
            code=entry["code"],
            scheme=entry["scheme"],
            display=entry["display"],
            signature=bool(entry.get("signature", False)),
            class_code=entry.get("class_code"),
            media_type=entry.get("media_type"),
        )
        for entry in data["codes"]
    )
    return ValueSet(name=data["name"], title=data["title"], codes=codes)


def class_code_for_type(type_code: str) -> Code:
    """The classCode a typeCode belongs to (ASS_X04 as far as the reference tells, inferred mapping)."""
    mapped = value_set(ValueSetName.TYPE_CODE).get(type_code).class_code
    if mapped is None:
        raise DmpValidationError(f"typeCode {type_code} has no classCode mapping", field="typeCode")
    return value_set(ValueSetName.CLASS_CODE).get(mapped)


def format_code_for_media_type(media_type: str) -> Code:
    """The formatCode of a CDA level 1 document from its nonXMLBody mediaType (ASS_A12)."""
    for code in value_set(ValueSetName.FORMAT_CODE).codes:
        if code.media_type == media_type:
            return code
    raise DmpValidationError(
        f"mediaType {media_type!r} has no DMP formatCode (application/pdf, text/plain, text/rtf, image/jpeg, "
        "image/tiff)",
        field="mediaType",
    )
