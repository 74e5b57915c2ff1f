"""Checks of submission metadata against the DMP rules, shared by the client (before sending) and the mock.

* Value sets (reference §4.6): every code of a document entry and of the submission set must be a member
  (code *and* code system) of its DMP value set; the codes reserved to the signature entry (§5.3) are
  refused on clinical documents. The eventCodeList is an open list (CCAM, CIM-10, LOINC, DICOM): its
  code systems are checked, not its codes. An error names the field and the value set.
* Who is at the origin (SEED, DMP-CONF 12, §4.5): ``authorPerson`` is a natural person or a device,
  never a structure; ``authorInstitution`` names the structure; ``legalAuthenticator`` is a natural person.
* Required metadata of §5.2, and the patient: the same INS for every object of the submission.

Each check returns the codes as the value set spells them (display names filled in), so what is sent
carries the official labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.ids import STRUCTURE_ID_OID
from dmpclient.xds.identifiers import Cx, Xcn
from dmpclient.xds.models import Author, DocumentEntry, SubmissionSet

__all__ = [
    "EVENT_CODE_SYSTEMS",
    "check_authors",
    "check_document_entry",
    "check_same_patient",
    "check_submission_set",
    "checked_code",
]

#: Code systems of the eventCodeList (reference §4.6): CCAM, CIM-10, LOINC, DICOM modalities; the codes
#: themselves are an open list.
EVENT_CODE_SYSTEMS: Final = frozenset(
    {"1.2.250.1.213.2.5", "2.16.840.1.113883.6.3", "2.16.840.1.113883.6.1", "1.2.250.1.213.1.1.5.618"}
)
_DEVICE_ID_TYPES: Final = frozenset({"RI"})


def checked_code(code: Code | None, value_set: ValueSetId, field: str, *, signature: bool = False) -> Code:
    """``code`` as its value set spells it.

    Args:
        signature: the code belongs to the signature entry (only then are the signature-only codes allowed).

    Raises:
        DmpValidationError: missing, not a member (by code and code system), or reserved to the other kind
            of entry; the message names the field and the value set.
    """
    members = load_value_set(value_set)
    if code is None:
        raise DmpValidationError(f"{field}: required (a code of {members.name})", field=field)
    found = members.get(code.code, code.system)
    if found is None or found.retired:
        where = f"^^{code.system}" if code.system else ""
        raise DmpValidationError(f"{field}: {code.code}{where} is not in {members.name}", field=field)
    if found.signature_only != signature:
        kind = "the signature entry only" if found.signature_only else "clinical documents only"
        raise DmpValidationError(f"{field}: {code.code} of {members.name} is for {kind}", field=field)
    return Code(found.code, found.system, code.display or found.display)


def _event_code(code: Code, *, signature: bool) -> Code:
    if signature:
        return checked_code(code, ValueSetId.EVENT_CODE, "eventCodeList", signature=True)
    if code.system not in EVENT_CODE_SYSTEMS or not code.code:
        raise DmpValidationError(
            f"eventCodeList: {code.code}^^{code.system} is not a code of the eventCodeList systems (CCAM "
            "1.2.250.1.213.2.5, CIM-10 2.16.840.1.113883.6.3, LOINC 2.16.840.1.113883.6.1, DICOM modality "
            "1.2.250.1.213.1.1.5.618)",
            field="eventCodeList",
        )
    return code


def _is_structure(person: Xcn) -> bool:
    return person.assigning_authority == STRUCTURE_ID_OID or person.id_type in ("IDNST", "SIREN", "FINESS")


def check_authors(authors: Iterable[Author], legal_authenticator: Xcn | None, *, where: str) -> None:
    """Who is at the origin (DMP-CONF 12, §4.5): a person or device author with his structure, a person
    legal authenticator.

    Raises:
        DmpValidationError: no author, an author without person or structure, a structure as authorPerson,
            a device as legalAuthenticator.
    """
    found = list(authors)
    if not found:
        raise DmpValidationError(f"{where}: author: required (authorPerson + authorInstitution)", field="author")
    for author in found:
        person = author.person
        if person is None or not (person.id or person.family):
            raise DmpValidationError(
                f"{where}: authorPerson: required, the professional (or the device) who wrote the document",
                field="authorPerson",
            )
        if _is_structure(person):
            raise DmpValidationError(
                f"{where}: authorPerson must be a natural person or a device, not a structure (DMP-CONF 12): put "
                "the structure in authorInstitution",
                field="authorPerson",
            )
        if not any(institution.id for institution in author.institutions):
            raise DmpValidationError(
                f"{where}: authorInstitution: required, the structure of the author (Struct_IdNat)",
                field="authorInstitution",
            )
    if legal_authenticator is not None and (
        legal_authenticator.id_type in _DEVICE_ID_TYPES
        or legal_authenticator.name_type == "U"
        or _is_structure(legal_authenticator)
    ):
        raise DmpValidationError(
            f"{where}: legalAuthenticator must be a natural person (DMP-CONF 12), not a device or a structure",
            field="legalAuthenticator",
        )


def _require(value: object, field: str, where: str, what: str) -> None:
    if value in (None, "", ()):
        raise DmpValidationError(f"{where}: {field}: required ({what})", field=field)


def check_document_entry(entry: DocumentEntry, *, signature: bool = False) -> DocumentEntry:
    """The entry with its codes checked and spelled as their value sets (reference §4.6, §5.2, §5.3).

    Raises:
        DmpValidationError: a required value is missing, a code is outside its value set, or the authors
            break the DMP-CONF 12 rules; the message names the document (uniqueId), the field and the value set.
    """
    where = f"document {entry.unique_id or entry.entry_uuid}"
    _require(entry.unique_id, "uniqueId", where, "the ClinicalDocument/id, an OID or OID^extension")
    _require(entry.patient_id, "patientId", where, "the patient's INS with its OID")
    _require(entry.creation_time, "creationTime", where, "ClinicalDocument/effectiveTime")
    _require(entry.language_code, "languageCode", where, "fr-FR")
    _require(entry.title, "title", where, "ClinicalDocument/title")
    _require(entry.confidentiality_codes, "confidentialityCode", where, "N at least")
    try:
        codes = {
            "class_code": checked_code(entry.class_code, ValueSetId.CLASS_CODE, "classCode", signature=signature),
            "type_code": checked_code(entry.type_code, ValueSetId.TYPE_CODE, "typeCode", signature=signature),
            "format_code": checked_code(entry.format_code, ValueSetId.FORMAT_CODE, "formatCode", signature=signature),
            "healthcare_facility_type_code": checked_code(
                entry.healthcare_facility_type_code,
                ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE,
                "healthcareFacilityTypeCode",
            ),
            "practice_setting_code": checked_code(
                entry.practice_setting_code, ValueSetId.PRACTICE_SETTING_CODE, "practiceSettingCode"
            ),
            "confidentiality_codes": tuple(
                checked_code(code, ValueSetId.CONFIDENTIALITY_CODE, "confidentialityCode")
                for code in entry.confidentiality_codes
            ),
            "event_codes": tuple(_event_code(code, signature=signature) for code in entry.event_codes),
        }
    except DmpValidationError as exc:
        raise DmpValidationError(f"{where}: {exc.message}", field=exc.field) from None
    check_authors(entry.authors, entry.legal_authenticator, where=where)
    return entry.model_copy(update=codes)


def check_submission_set(submission_set: SubmissionSet) -> SubmissionSet:
    """The submission set with its contentTypeCode checked (JDV_J59) and its required metadata present."""
    where = "submission set"
    _require(submission_set.unique_id, "uniqueId", where, "an OID minted for this submission")
    _require(submission_set.source_id, "sourceId", where, "the OID of the sending software")
    _require(submission_set.patient_id, "patientId", where, "the patient's INS with its OID")
    _require(submission_set.submission_time, "submissionTime", where, "the time of sending")
    check_authors(submission_set.authors, None, where=where)
    try:
        content = checked_code(submission_set.content_type_code, ValueSetId.CONTENT_TYPE_CODE, "contentTypeCode")
    except DmpValidationError as exc:
        raise DmpValidationError(f"{where}: {exc.message}", field=exc.field) from None
    return submission_set.model_copy(update={"content_type_code": content})


def check_same_patient(patient: Cx, entries: Iterable[DocumentEntry]) -> None:
    """Every entry names the submission's patient (CX.1 + CX.4, reference §4.2).

    Raises:
        DmpValidationError: a document of another patient (the registry answers XDSPatientIdDoesNotMatch).
    """
    for entry in entries:
        if entry.patient_id is None or not entry.patient_id.same_identity(patient):
            raise DmpValidationError(
                f"document {entry.unique_id}: its patient differs from the submission's (one submission, one "
                "patient): submit it separately",
                field="patientId",
            )
