"""``registry`` service, TD3.3a–d: a document's attributes after publication (ITI-57, reference §3.17, §6).

One spec for the whole family (one body root, ``lcm:SubmitObjectsRequest``); its rights row comes from the
body (:func:`rights_row`). A status change names its row exactly (NewStatus Deleted → TD3.3c; Archived
→ archive; Approved → unarchive). A metadata update tells masking (``MASQUE_PS`` present) but not
unmasking from showing to the patient (both *remove* a code, which only the stored version reveals): the
three metadata rows have the same columns in both matrices, so the gate's verdict does not depend on the
choice, and the registry applies the exact row's notes (own documents…) against the stored version.

:func:`lifecycle_flow` resolves the document (GetDocuments by uniqueId: LeafClass when the caller may read
metadata, ObjectRef otherwise — an establishment certificate deleting a document of its structure, §3.15
note 5), checks the transition locally, and sends the update. TD3.3 is never re-sent automatically.
"""

from __future__ import annotations

from collections.abc import Generator
from enum import StrEnum
from typing import Any, Final

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient._xml import NS
from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpRightsPrecheckError, DmpValidationError, RegistryErrorItem
from dmpclient.ids import validate_ins, validate_oid
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.feeding import REFERENCE_LOOKUP, mint_unique_id, registry_answer, submission_patient
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.registry import get_documents
from dmpclient.transactions.rights import RightsAction
from dmpclient.transactions.spec import Service, TransactionSpec
from dmpclient.xds.codes import AssociationType, AvailabilityStatus, Confidentiality
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import Author, DocumentEntry, ReturnType, SubmissionSet
from dmpclient.xds.results import QueryResult
from dmpclient.xds.submission import RegistryAnswer
from dmpclient.xds.update import build_update_request, metadata_update, read_update_request, status_change

__all__ = [
    "UPDATE_DOCUMENT_SET",
    "Audience",
    "LifecycleAction",
    "LifecycleResult",
    "lifecycle_flow",
    "rights_row",
    "update_operation",
]

_ACTION: Final = "urn:ihe:iti:2010:UpdateDocumentSet"
_TD: Final = "TD3.3"
_T_ASSOCIATION: Final = f"{{{NS['rim']}}}Association"
_T_SLOT: Final = f"{{{NS['rim']}}}Slot"
_T_VALUE: Final = f"{{{NS['rim']}}}Value"
_T_CLASSIFICATION: Final = f"{{{NS['rim']}}}Classification"
_CONFIDENTIALITY_SYSTEM: Final = "1.2.250.1.213.1.1.4.13"


class LifecycleAction(StrEnum):
    """What to do to a published document (TD3.3a–d)."""

    MASK = "mask"  # TD3.3a: add MASQUE_PS
    UNMASK = "unmask"  # TD3.3a: remove MASQUE_PS (own documents, or the MT)
    SHOW = "show"  # TD3.3b: remove INVISIBLE_PATIENT / INVISIBLE_REPRESENTANTS_LEGAUX
    HIDE = "hide"  # no matrix row: invisibility is chosen at submission (§6.2); sent only without pre-check
    ARCHIVE = "archive"  # TD3.3d: Approved → Archived
    UNARCHIVE = "unarchive"  # TD3.3d: Archived → Approved
    DELETE = "delete"  # TD3.3c: Approved / Archived → Deleted


class Audience(StrEnum):
    """Whom a document is shown to or hidden from (TD3.3b)."""

    PATIENT = "patient"
    LEGAL_REPRESENTATIVES = "legal-representatives"

    @property
    def code(self) -> Confidentiality:
        if self is Audience.PATIENT:
            return Confidentiality.INVISIBLE_PATIENT
        return Confidentiality.INVISIBLE_REPRESENTANTS_LEGAUX


class LifecycleResult(BaseModel):
    """A TD3.3 the DMP accepted (a refusal raises :class:`~dmpclient.errors.DmpRegistryError`)."""

    model_config = ConfigDict(frozen=True)

    action: LifecycleAction
    unique_id: str
    entry_uuid: str
    submission_set_unique_id: str
    status: AvailabilityStatus | None = None
    confidentiality_codes: tuple[Code, ...] = ()
    warnings: tuple[RegistryErrorItem, ...] = ()


_STATUS_ROWS: Final = {
    AvailabilityStatus.DELETED.value: RightsAction.TD3_3C_SUPPRIMER,
    AvailabilityStatus.ARCHIVED.value: RightsAction.TD3_3D_ARCHIVER,
    AvailabilityStatus.APPROVED.value: RightsAction.TD3_3D_DESARCHIVER,
}


def _slot_value(association: etree._Element, name: str) -> str:
    for slot in association.iterchildren(_T_SLOT):
        if slot.get("name") == name:
            value = slot.find(f".//{_T_VALUE}")
            return (value.text or "").strip() if value is not None else ""
    return ""


def rights_row(body: etree._Element) -> RightsAction:
    """The matrix row of an ITI-57 body (see the module notes for metadata updates)."""
    for association in body.iter(_T_ASSOCIATION):
        if association.get("associationType") == AssociationType.UPDATE_AVAILABILITY_STATUS:
            return _STATUS_ROWS.get(_slot_value(association, "NewStatus"), RightsAction.TD3_3C_SUPPRIMER)
    codes = {c.get("nodeRepresentation") for c in body.iter(_T_CLASSIFICATION)}
    if Confidentiality.MASQUE_PS.value in codes:
        return RightsAction.TD3_3A_MASQUER
    if Confidentiality.INVISIBLE_PATIENT.value in codes:
        return RightsAction.TD3_3A_DEMASQUER
    return RightsAction.TD3_3B_RENDRE_VISIBLE_PATIENT


def _decode(response: Response) -> RegistryAnswer:
    return registry_answer(response, _TD)


UPDATE_DOCUMENT_SET: Final = TransactionSpec(
    td=_TD,
    title="Gestion des attributs d'un document",
    service=Service.REGISTRY,
    request_root=f"{{{NS['lcm']}}}SubmitObjectsRequest",
    request_action=_ACTION,
    response_action=f"{_ACTION}-Response",  # with a hyphen, unlike the other IHE actions (reference §3.0)
    decode=_decode,
    rights=(
        RightsAction.TD3_3A_MASQUER,
        RightsAction.TD3_3A_DEMASQUER,
        RightsAction.TD3_3B_RENDRE_VISIBLE_PATIENT,
        RightsAction.TD3_3D_ARCHIVER,
        RightsAction.TD3_3D_DESARCHIVER,
        RightsAction.TD3_3C_SUPPRIMER,
    ),
    idempotent=False,
    body_patient=submission_patient,
    select_rights=rights_row,
    read_request=read_update_request,
)

_TRANSITIONS: Final = {
    LifecycleAction.ARCHIVE: ((AvailabilityStatus.APPROVED,), AvailabilityStatus.ARCHIVED),
    LifecycleAction.UNARCHIVE: ((AvailabilityStatus.ARCHIVED,), AvailabilityStatus.APPROVED),
    LifecycleAction.DELETE: ((AvailabilityStatus.APPROVED, AvailabilityStatus.ARCHIVED), AvailabilityStatus.DELETED),
}


def _submission_set(ctx: CallContext, patient: PatientRef, author: Author, content_type: Code) -> SubmissionSet:
    return SubmissionSet(
        entry_uuid="SubmissionSet01",
        unique_id=mint_unique_id(ctx),
        source_id=ctx.oid_root,
        patient_id=Cx.patient(patient.ins, patient.oid),
        submission_time=ctx.now(),
        content_type_code=content_type,
        authors=(author,),
    )


def _new_confidentiality(action: LifecycleAction, entry: DocumentEntry, audience: Audience) -> tuple[Code, ...]:
    """The confidentiality codes after the change (refused when nothing would change)."""
    codes = list(entry.confidentiality_codes)
    present = {code.code for code in codes}
    target = Confidentiality.MASQUE_PS if action in (LifecycleAction.MASK, LifecycleAction.UNMASK) else audience.code
    adding = action in (LifecycleAction.MASK, LifecycleAction.HIDE)
    if (target.value in present) == adding:
        state = "already" if adding else "not"
        raise DmpValidationError(
            f"{action.value}: document {entry.unique_id} is {state} {target.value}; nothing to change", field="action"
        )
    if adding:
        label = load_value_set(ValueSetId.CONFIDENTIALITY_CODE).require(target.value, _CONFIDENTIALITY_SYSTEM)
        return (*codes, label)
    return tuple(code for code in codes if code.code != target.value)


def update_operation(
    ctx: CallContext,
    patient: PatientRef,
    action: LifecycleAction,
    entry: DocumentEntry,
    *,
    author: Author,
    audience: Audience = Audience.PATIENT,
    content_type: Code | None = None,
) -> tuple[Operation[RegistryAnswer], LifecycleResult]:
    """The ITI-57 operation for ``action`` on ``entry`` (a registry entry; its status is the current one).

    Raises:
        DmpValidationError: the transition is not allowed from the entry's status, or changes nothing.
    """
    content = content_type or load_value_set(ValueSetId.CONTENT_TYPE_CODE).require("97")
    submission_set = _submission_set(ctx, patient, author, content)
    result = {"action": action, "unique_id": entry.unique_id, "submission_set_unique_id": submission_set.unique_id}
    if action in _TRANSITIONS:
        allowed, new = _TRANSITIONS[action]
        current = entry.availability
        if current not in allowed:
            raise DmpValidationError(
                f"{action.value}: document {entry.unique_id} is {current.value if current else entry.status}; "
                f"expected {' or '.join(s.value for s in allowed)}",
                field="status",
            )
        objects = status_change(submission_set, entry.entry_uuid, current, new)
        outcome = LifecycleResult(entry_uuid=entry.entry_uuid, status=new, **result)
    else:
        codes = _new_confidentiality(action, entry, audience)
        objects = metadata_update(submission_set, entry, codes)
        outcome = LifecycleResult(entry_uuid=entry.entry_uuid, confidentiality_codes=codes, **result)
    op = UPDATE_DOCUMENT_SET.operation(build_update_request(objects), patient=patient)
    return op, outcome


#: A flow: yields operations, is sent their results, returns its own result.
Flow = Generator[Operation[Any], Any, LifecycleResult]


def lifecycle_flow(
    ctx: CallContext,
    ins: str,
    ins_oid: str,
    action: LifecycleAction,
    target: DocumentEntry | str,
    *,
    author: Author,
    audience: Audience = Audience.PATIENT,
    read_metadata: bool = True,
    current_status: AvailabilityStatus | None = None,
    precheck: bool = True,
) -> Flow:
    """TD3.3 on a document given by its entry (from a search) or its uniqueId.

    Args:
        read_metadata: the caller may search metadata (LeafClass); otherwise a status change resolves the
            entryUUID with ObjectRef and takes ``current_status`` (default: Approved, Archived to unarchive).
        precheck: refuse locally what no matrix row allows (hiding a published document).

    Raises:
        DmpRightsPrecheckError: ``hide`` with the pre-check on (no row of 526/606 allows it).
        DmpValidationError: the document is not in the DMP for this caller, or the change is not possible.
        DmpRegistryError: the DMP refused the update.
    """
    if action is LifecycleAction.HIDE and precheck:
        raise DmpRightsPrecheckError(
            "no row of the rights matrices (526, 606) makes a published document invisible: choose invisibility "
            "when feeding (Visibility.invisible_to_patient) (pass precheck=False to send anyway)",
            td=_TD,
        )
    patient = PatientRef(validate_ins(ins), validate_oid(ins_oid, field="ins_oid"))
    entry = target if isinstance(target, DocumentEntry) else None
    if entry is None:
        unique_id = str(target)
        metadata_needed = action not in _TRANSITIONS
        if read_metadata or metadata_needed:
            found: QueryResult = yield get_documents(ctx, ins, ins_oid, unique_ids=[unique_id])
            entry = _current(found, unique_id)
        else:
            lookup = get_documents(ctx, ins, ins_oid, unique_ids=[unique_id], return_type=ReturnType.OBJECT_REF)
            refs: QueryResult = yield Operation(REFERENCE_LOOKUP, lookup.body, lookup.patient)
            entry = _reference(refs, unique_id, action, current_status)
    op, outcome = update_operation(ctx, patient, action, entry, author=author, audience=audience)
    answer: RegistryAnswer = yield op
    return outcome.model_copy(update={"warnings": answer.warnings})


def _missing(unique_id: str) -> DmpValidationError:
    return DmpValidationError(
        f"document {unique_id}: not found in this patient's DMP (or not visible to this caller)", field="unique_id"
    )


def _current(found: QueryResult, unique_id: str) -> DocumentEntry:
    """The current metadata version of a document: the live one (not Deprecated), else the latest."""
    versions = [entry for entry in found.documents if entry.unique_id == unique_id]
    if not versions:
        raise _missing(unique_id)
    live = [entry for entry in versions if entry.availability is not AvailabilityStatus.DEPRECATED]
    return max(live or versions, key=lambda entry: entry.version_number or 0)


def _reference(
    refs: QueryResult, unique_id: str, action: LifecycleAction, current_status: AvailabilityStatus | None
) -> DocumentEntry:
    if len(refs.entry_uuids) != 1:
        if not refs.entry_uuids:
            raise _missing(unique_id)
        raise DmpValidationError(
            f"document {unique_id} has {len(refs.entry_uuids)} entries and this caller cannot read which is "
            "current: pass the DocumentEntry",
            field="unique_id",
        )
    default = AvailabilityStatus.ARCHIVED if action is LifecycleAction.UNARCHIVE else AvailabilityStatus.APPROVED
    return DocumentEntry(entry_uuid=refs.entry_uuids[0], unique_id=unique_id, status=current_status or default)
