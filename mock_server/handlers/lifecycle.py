"""``registry`` service of the mock: TD3.3a–d, ITI-57 Update Document Set (reference §6).

A status change (TD3.3c/d) needs the target's current status as ``OriginalStatus`` and a transition the
DMP offers (Approved ↔ Archived, Approved/Archived → Deleted; ``XDSMetadataUpdateError`` otherwise). A
metadata update (TD3.3a/b) names the current version by ``lid`` and ``PreviousVersion``
(``XDSMetadataVersionError`` when it is not the latest) with the same uniqueId and patient
(``XDSMetadataIdentifierError``); only the confidentiality codes change: adding or removing MASQUE_PS,
removing INVISIBLE_PATIENT / INVISIBLE_REPRESENTANTS_LEGAUX. Making a published document invisible is no
action of the matrices (§6.2): refused.

Rights (§6.3): the gate checked the body's row; here the exact row of each change is decided for the
caller with the same function, and its document-level notes are enforced against the stored document:
own documents (note 8), documents of the caller's structure (note 9), documents authored by the patient
only for the MT (``*``). A refusal is a ``LocalPolicyRestrictionError`` with the matrix's French reason
(**project design**, how the DMP reports it is unknown, §9.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from dmpclient.codes import Code
from dmpclient.errors import DmpProtocolError, DmpValidationError, RegistryErrorItem
from dmpclient.transactions import lifecycle
from dmpclient.transactions.rights import MatrixActor, NoteCondition, RightsAction, decide
from dmpclient.xds.checks import check_submission_set
from dmpclient.xds.codes import AssociationType, AvailabilityStatus, Confidentiality
from dmpclient.xds.models import Association, DocumentEntry, SubmissionSet
from dmpclient.xds.submission import SubmissionErrorCode, build_registry_response
from dmpclient.xds.update import StatusChange, UpdateRequest, read_update_request
from mock_server.context import Caller, Reply, RequestContext
from mock_server.domain.authorship import is_own
from mock_server.domain.intake import association_record, submission_set_record
from mock_server.domain.submission import Refusal
from mock_server.handlers.feeding import failure, open_dmp
from mock_server.routing import Route
from mock_server.store.records import AuthorKind, DocumentRow, StoreError

__all__ = ["ROUTES"]

Error = SubmissionErrorCode
_TRANSITIONS: Final = {
    (AvailabilityStatus.APPROVED, AvailabilityStatus.ARCHIVED): RightsAction.TD3_3D_ARCHIVER,
    (AvailabilityStatus.ARCHIVED, AvailabilityStatus.APPROVED): RightsAction.TD3_3D_DESARCHIVER,
    (AvailabilityStatus.APPROVED, AvailabilityStatus.DELETED): RightsAction.TD3_3C_SUPPRIMER,
    (AvailabilityStatus.ARCHIVED, AvailabilityStatus.DELETED): RightsAction.TD3_3C_SUPPRIMER,
}
_FLAGS: Final = (
    Confidentiality.MASQUE_PS,
    Confidentiality.INVISIBLE_PATIENT,
    Confidentiality.INVISIBLE_REPRESENTANTS_LEGAUX,
)


def _policy(reason: str, document: DocumentRow) -> Refusal:
    return Refusal.one(SubmissionErrorCode.POLICY, reason, document.unique_id)


def _allowed(caller: Caller, action: RightsAction, document: DocumentRow) -> None:
    """The exact row for this caller, with its document-level notes (§6.3)."""
    decision = decide(action, auth_mode=caller.auth_mode, actor=caller.actor, access_mode=caller.access_mode)
    if not decision.allowed:
        raise _policy(f"Accès refusé : {decision.reason_fr}", document)
    author = document.metadata.author
    conditions = decision.conditions
    if (
        NoteCondition.PATIENT_DOCUMENTS_MT_ONLY in conditions
        and author.kind is AuthorKind.PATIENT
        and (caller.actor is not MatrixActor.MEDECIN_TRAITANT)
    ):
        raise _policy(
            f"Accès refusé : {decision.reason_fr} (document du patient : médecin traitant seulement)", document
        )
    if NoteCondition.OWN_DOCUMENTS in conditions and not is_own(author, caller.ps_id):
        raise _policy(f"Accès refusé : {decision.reason_fr} (document d'un autre auteur)", document)
    if NoteCondition.STRUCTURE_DOCUMENTS in conditions and author.structure_id != caller.structure_id:
        raise _policy(f"Accès refusé : {decision.reason_fr} (document d'une autre structure)", document)


def _target(ctx: RequestContext, identifier: str) -> DocumentRow:
    document = ctx.store.get_document(identifier) if identifier.startswith("urn:uuid:") else None
    patient = ctx.caller.patient
    if document is None or patient is None:
        raise Refusal.one(Error.UNRESOLVED_REFERENCE, f"Document inconnu : {identifier}")
    if document.patient_ins != patient.ins:
        raise Refusal.one(Error.PATIENT_MISMATCH, "Le document appartient à un autre patient", document.unique_id)
    return document


def _status(value: str) -> AvailabilityStatus | None:
    try:
        return AvailabilityStatus(value)
    except ValueError:
        return None


def _change_status(ctx: RequestContext, change: StatusChange) -> tuple[str, Association]:
    document = _target(ctx, change.target)
    original, new = _status(change.original), _status(change.new)
    if original is not document.status:
        raise Refusal.one(Error.UPDATE, f"OriginalStatus ≠ statut actuel ({document.status.value})", document.unique_id)
    action = _TRANSITIONS.get((document.status, new)) if new else None
    if action is None:
        raise Refusal.one(Error.UPDATE, f"Changement de statut non prévu par le DMP : {change.new}", document.unique_id)
    _allowed(ctx.caller, action, document)
    link = Association(
        entry_uuid="UpdateStatus",
        association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
        source="SubmissionSet",
        target=document.entry_uuid,
        original_status=change.original,
        new_status=change.new,
    )
    return f"{action.value} {document.unique_id}", link


def _flags(codes: Sequence[Code]) -> tuple[bool, bool, bool]:
    present = {code.code for code in codes}
    masked, patient, legal = (flag.value in present for flag in _FLAGS)
    return masked, patient, legal


def _update_metadata(ctx: RequestContext, entry: DocumentEntry, previous: str | None, set_uuid: str) -> str:
    versions = ctx.store.document_versions(entry.logical_id or "") if entry.logical_id else []
    if not versions:
        raise Refusal.one(Error.UNRESOLVED_REFERENCE, f"lid inconnu : {entry.logical_id}", entry.unique_id)
    current = versions[-1]
    if current.patient_ins != (ctx.caller.patient.ins if ctx.caller.patient else None):
        raise Refusal.one(Error.PATIENT_MISMATCH, "Le document appartient à un autre patient", current.unique_id)
    if entry.unique_id != current.unique_id:
        raise Refusal.one(Error.IDENTIFIER, "uniqueId différent de celui du lid", entry.unique_id)
    if previous != str(current.version_name) or current.status in (
        AvailabilityStatus.DEPRECATED,
        AvailabilityStatus.DELETED,
    ):
        raise Refusal.one(
            Error.VERSION, f"PreviousVersion ≠ version courante ({current.version_name})", entry.unique_id
        )
    old = (current.masked_to_ps, current.invisible_to_patient, current.invisible_to_legal_reps)
    new = _flags(entry.confidentiality_codes)
    if old == new:
        raise Refusal.one(Error.UPDATE, "Aucun changement de confidentialité", entry.unique_id)
    if (not old[1] and new[1]) or (not old[2] and new[2]):
        raise Refusal.one(
            Error.UPDATE, "Rendre invisible un document publié n'est pas une action du DMP", entry.unique_id
        )
    if old[0] != new[0]:
        _allowed(ctx.caller, RightsAction.TD3_3A_MASQUER if new[0] else RightsAction.TD3_3A_DEMASQUER, current)
    if old[1:] != new[1:]:
        _allowed(ctx.caller, RightsAction.TD3_3B_RENDRE_VISIBLE_PATIENT, current)
    row = ctx.store.set_document_flags(
        current.entry_uuid,
        new_entry_uuid=f"urn:uuid:{ctx.new_id()}",
        now=ctx.now,
        masked_to_ps=new[0],
        invisible_to_patient=new[1],
        invisible_to_legal_reps=new[2],
        submission_set_id=set_uuid,
    )
    return row.entry_uuid


def _submission_set(request: UpdateRequest) -> SubmissionSet:
    if request.submission_set is None:
        raise Refusal.one(Error.METADATA, "Une mise à jour ITI-57 contient un lot (SubmissionSet)")
    try:
        return check_submission_set(request.submission_set)
    except DmpValidationError as exc:
        raise Refusal.one(Error.METADATA, exc.message) from None


def _apply(ctx: RequestContext, request: UpdateRequest) -> str:
    submission_set = _submission_set(request)
    patient = ctx.caller.patient
    if patient is None or submission_set.patient_id is None:  # pragma: no cover - the gate matched the patient
        raise Refusal.one(Error.PATIENT_MISMATCH, "Patient absent")
    open_dmp(ctx, patient.ins)  # nothing changes in a closed or absent DMP (as TD2.1)
    set_uuid = f"urn:uuid:{ctx.new_id()}"
    record = submission_set_record(submission_set, entry_uuid=set_uuid, patient_ins=patient.ins)
    if request.is_status_change and len(request.status_changes) == 1:
        detail, link = _change_status(ctx, request.status_changes[0])
    elif len(request.entries) == 1 and not request.status_changes:
        entry = request.entries[0]
        previous = request.previous_versions.get(entry.entry_uuid)
        new_uuid = _update_metadata(ctx, entry, previous, set_uuid)
        link = Association(
            entry_uuid="HasMember",
            association_type=AssociationType.HAS_MEMBER,
            source="SubmissionSet",
            target=new_uuid,
            submission_set_status="Original",
            previous_version=previous,
        )
        detail = f"métadonnées {entry.unique_id}"
    else:
        raise Refusal.one(Error.METADATA, "Une mise à jour porte sur un seul changement de statut ou une seule entrée")
    stored = association_record(link, entry_uuid=f"urn:uuid:{ctx.new_id()}", source=set_uuid, target=link.target)
    try:  # UpdateAvailabilityStatus changes the target's status in the same transaction
        ctx.store.add_submission(record, [], [stored], now=ctx.now)
    except StoreError as exc:
        raise Refusal.one(Error.UPDATE, f"Mise à jour refusée par le registre : {exc}") from None
    return detail


def _update(ctx: RequestContext) -> Reply:
    try:
        with ctx.store.transaction():  # a savepoint: a refusal after a write undoes it
            detail = _apply(ctx, read_update_request(ctx.body))
    except Refusal as refusal:
        refused = any(e.error_code == Error.POLICY for e in refusal.errors)
        return failure(refusal.errors, refused=refused)
    except DmpProtocolError as exc:
        return failure([RegistryErrorItem(error_code=Error.METADATA, code_context=exc.message)])
    return Reply(build_registry_response(), detail=detail[:500])


ROUTES: Final = (Route(lifecycle.UPDATE_DOCUMENT_SET, _update),)
