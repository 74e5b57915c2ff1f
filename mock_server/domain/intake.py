"""What the registry keeps of a submission: dmpclient's XDS models → the store's records (TD2.1, TD3.3).

The reverse of :mod:`mock_server.domain.metadata`. The registry assigns the entryUUIDs; it keeps the
author as a person (``D``), a patient (``NH``) or a device (``U``/``RI``), with the structure of his first
``authorInstitution`` — or the feeding structure, when the rights matrices impute the authorship to it (note 4,
:func:`impute_to_structure`); the slots the record has no field for (legalAuthenticator, sourcePatientId,
sourcePatientInfo, referenceIdList…) are kept as received.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from dmpclient.ids import InsOid
from dmpclient.xds.codes import association_type
from dmpclient.xds.models import Association as XdsAssociation
from dmpclient.xds.models import Author as XdsAuthor
from dmpclient.xds.models import DocumentEntry
from dmpclient.xds.models import SubmissionSet as XdsSubmissionSet
from mock_server.store.records import Association, Author, AuthorKind, DocumentMetadata, SubmissionSet

__all__ = ["association_record", "author_record", "impute_to_structure", "metadata_record", "submission_set_record"]

T = TypeVar("T")
_PATIENT_AUTHORITIES = frozenset(oid.value for oid in InsOid)


def author_record(author: XdsAuthor | None) -> Author:
    """A stored author: kind from the XCN (``RI`` device, ``NH`` or an INS OID patient, else a person)."""
    person = author.person if author else None
    institution = author.institutions[0] if author and author.institutions else None
    kind = AuthorKind.PROFESSIONAL
    if person is not None and person.id_type == "RI":
        kind = AuthorKind.DEVICE
    elif person is not None and (person.id_type == "NH" or person.assigning_authority in _PATIENT_AUTHORITIES):
        kind = AuthorKind.PATIENT
    return Author(
        kind=kind,
        id=person.id if person else "",
        family_name=person.family if person else "",
        given_name=person.given if person else "",
        structure_id=(institution.id or None) if institution else None,
        structure_name=(institution.name or None) if institution else None,
        specialty=author.specialties[0] if author and author.specialties else None,
        role=author.roles[0].code if author and author.roles else None,
    )


def impute_to_structure(author: Author, structure_id: str) -> Author:
    """526/606 note 4 (TD2.1 in indirect mode, TD2.2 by a CPE): "authorship imputed to the structure".

    The author stays the person (or device) of ``authorPerson`` — never a structure (DMP-CONF 12, enforced by
    the checks) — and his structure becomes the feeding one, the caller's ``Identifiant_Structure`` (which the
    gate tied to its certificate): the structure answers for the document, and note 9 ("documents of the
    structure") finds it. A patient author keeps no structure.
    """
    if author.kind is AuthorKind.PATIENT or author.structure_id == structure_id:
        return author
    return dataclasses.replace(author, structure_id=structure_id, structure_name=None)


def _checked(value: T | None) -> T:
    """A value the handler's checks made sure of (a missing one is a bug of the mock, not of the caller)."""
    if value is None:
        raise ValueError("an unchecked entry reached the registry")
    return value


def metadata_record(entry: DocumentEntry) -> DocumentMetadata:
    """The stored metadata of a new document entry (codes already checked against the value sets)."""
    slots: dict[str, tuple[str, ...]] = {slot.name: slot.values for slot in entry.extra_slots}
    if entry.legal_authenticator is not None:
        slots["legalAuthenticator"] = (str(entry.legal_authenticator),)
    if entry.source_patient_id is not None:
        slots["sourcePatientId"] = (str(entry.source_patient_id),)
    if entry.source_patient_info:
        slots["sourcePatientInfo"] = entry.source_patient_info
    if entry.reference_ids:
        slots["urn:ihe:iti:xds:2013:referenceIdList"] = entry.reference_ids
    return DocumentMetadata(
        title=entry.title or "",
        class_code=_checked(entry.class_code),
        type_code=_checked(entry.type_code),
        format_code=_checked(entry.format_code),
        healthcare_facility_type_code=_checked(entry.healthcare_facility_type_code),
        practice_setting_code=_checked(entry.practice_setting_code),
        creation_time=_checked(entry.creation_time),
        author=author_record(entry.author),
        confidentiality=entry.confidentiality_codes,
        mime_type=entry.mime_type,
        language_code=entry.language_code or "fr-FR",
        event_codes=entry.event_codes,
        service_start_time=entry.service_start_time,
        service_stop_time=entry.service_stop_time,
        comments=entry.comments,
        extra_slots=slots,
    )


def submission_set_record(submission_set: XdsSubmissionSet, *, entry_uuid: str, patient_ins: str) -> SubmissionSet:
    """The stored submission set, under the entryUUID the registry assigned."""
    return SubmissionSet(
        entry_uuid=entry_uuid,
        unique_id=submission_set.unique_id,
        patient_ins=patient_ins,
        source_id=submission_set.source_id,
        submission_time=_checked(submission_set.submission_time),
        author=author_record(submission_set.authors[0] if submission_set.authors else None),
        content_type_code=_checked(submission_set.content_type_code),
        title=submission_set.title,
        comments=submission_set.comments,
    )


def association_record(association: XdsAssociation, *, entry_uuid: str, source: str, target: str) -> Association:
    """A stored association with the registry's ids for its ends, its slots kept."""
    slots = {slot.name: slot.values for slot in association.extra_slots}
    named = {
        "SubmissionSetStatus": association.submission_set_status,
        "PreviousVersion": association.previous_version,
        "OriginalStatus": association.original_status,
        "NewStatus": association.new_status,
    }
    slots |= {name: (value,) for name, value in named.items() if value is not None}
    return Association(entry_uuid, association_type(str(association.association_type)), source, target, slots)
