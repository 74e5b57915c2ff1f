"""The registry's stored records as dmpclient's XDS models (what the registry answers, reference §4).

The store keeps metadata in its own records (:mod:`mock_server.store.records`); answers are written with
dmpclient's ebRIM codec from :mod:`dmpclient.xds.models`. Times, codes and authors map one to one; the
registry adds what it computes (hash, size, repositoryUniqueId, entryUUID, lid, version, status).
"""

from __future__ import annotations

from typing import Final

from dmpclient.codes import Code
from dmpclient.ids import DMP_REPOSITORY_OID, PS_ID_OID, STRUCTURE_ID_OID
from dmpclient.xds.codes import DOCUMENT_ENTRY_OBJECT_TYPE
from dmpclient.xds.identifiers import Cx, Xcn, Xon
from dmpclient.xds.models import Association as XdsAssociation
from dmpclient.xds.models import Author as XdsAuthor
from dmpclient.xds.models import DocumentEntry, Slot
from dmpclient.xds.models import SubmissionSet as XdsSubmissionSet
from dmpclient.xds.rim import REFERENCE_ID_LIST
from mock_server.store.records import Association, Author, AuthorKind, DocumentRow, SubmissionSet

__all__ = ["association_model", "author_model", "document_model", "submission_set_model"]

#: Slots the model reads into fields; the others are echoed as received.
_KNOWN_SLOTS: Final = frozenset({"legalAuthenticator", "sourcePatientId", "sourcePatientInfo", REFERENCE_ID_LIST})


def author_model(author: Author, patient_oid: str) -> XdsAuthor:
    """A stored author as an XDS author (PS: idNat_PS + structure; patient: his INS, reference §4.5)."""
    if author.kind is AuthorKind.PATIENT:
        person = Xcn(
            id=author.id,
            family=author.family_name,
            given=author.given_name,
            assigning_authority=patient_oid,
            name_type="D",
            id_type="NH",
        )
    else:
        person = Xcn(
            id=author.id,
            family=author.family_name,
            given=author.given_name,
            assigning_authority=PS_ID_OID,
            name_type="D",
            id_type="IDNPS",
        )
    institutions: tuple[Xon, ...] = ()
    if author.structure_id:
        institutions = (
            Xon(
                name=author.structure_name or "",
                assigning_authority=STRUCTURE_ID_OID,
                id_type="IDNST",
                id=author.structure_id,
            ),
        )
    return XdsAuthor(
        person=person,
        institutions=institutions,
        roles=(Code(author.role, ""),) if author.role else (),  # the store keeps no role code system
        specialties=(author.specialty,) if author.specialty else (),
    )


def document_model(row: DocumentRow, patient_oid: str) -> DocumentEntry:
    """A stored document entry (one metadata version) as the registry returns it."""
    meta = row.metadata
    slots = meta.extra_slots
    legal = slots.get("legalAuthenticator", ())
    source = slots.get("sourcePatientId", ())
    return DocumentEntry.model_construct(
        entry_uuid=row.entry_uuid,
        unique_id=row.unique_id,
        patient_id=Cx.patient(row.patient_ins, patient_oid),
        status=row.status,
        logical_id=row.lid,
        version=str(row.version_name),
        mime_type=meta.mime_type,
        object_type=DOCUMENT_ENTRY_OBJECT_TYPE,
        home_community_id=None,
        title=meta.title,
        comments=meta.comments,
        class_code=meta.class_code,
        type_code=meta.type_code,
        format_code=meta.format_code,
        healthcare_facility_type_code=meta.healthcare_facility_type_code,
        practice_setting_code=meta.practice_setting_code,
        confidentiality_codes=meta.confidentiality,
        event_codes=meta.event_codes,
        authors=(author_model(meta.author, patient_oid),),
        legal_authenticator=Xcn.parse(legal[0]) if legal else None,
        creation_time=meta.creation_time,
        service_start_time=meta.service_start_time,
        service_stop_time=meta.service_stop_time,
        language_code=meta.language_code,
        hash=row.hash,
        size=row.size,
        repository_unique_id=DMP_REPOSITORY_OID,
        source_patient_id=Cx.parse(source[0]) if source else None,
        source_patient_info=slots.get("sourcePatientInfo", ()),
        reference_ids=slots.get(REFERENCE_ID_LIST, ()),
        extra_slots=tuple(Slot(name=name, values=values) for name, values in slots.items() if name not in _KNOWN_SLOTS),
        extra_classifications=(),
        extra_identifiers=(),
    )


def submission_set_model(submission_set: SubmissionSet, patient_oid: str) -> XdsSubmissionSet:
    """A stored submission set as the registry returns it."""
    return XdsSubmissionSet(
        entry_uuid=submission_set.entry_uuid,
        unique_id=submission_set.unique_id,
        source_id=submission_set.source_id,
        patient_id=Cx.patient(submission_set.patient_ins, patient_oid),
        submission_time=submission_set.submission_time,
        status=submission_set.status,
        title=submission_set.title,
        comments=submission_set.comments,
        content_type_code=submission_set.content_type_code,
        authors=(author_model(submission_set.author, patient_oid),),
        logical_id=submission_set.entry_uuid,
        version="1",
    )


def association_model(association: Association) -> XdsAssociation:
    """A stored association (its SubmissionSetStatus, PreviousVersion… slots as fields)."""
    first = {name: values[0] for name, values in association.slots.items() if values}
    return XdsAssociation(
        entry_uuid=association.entry_uuid,
        association_type=association.type,
        source=association.source,
        target=association.target,
        status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved",
        submission_set_status=first.get("SubmissionSetStatus"),
        previous_version=first.get("PreviousVersion"),
        original_status=first.get("OriginalStatus"),
        new_status=first.get("NewStatus"),
    )
