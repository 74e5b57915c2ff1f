"""A new version of a published document (TD2.1 with RPLC, reference §5.6, §7.1; SEED, SC.CDA/DD.05).

The CDA rules are checked before anything is sent (:func:`check_new_version`): the new document has its own
``id``, the ``setId`` of the previous version, its ``versionNumber`` + 1, and a ``relatedDocument`` of type
RPLC whose ``parentDocument/id`` is the previous version's id. The previous version's header comes from the
caller (he produced it) or is read back from the DMP (TD3.2, for callers who may read documents). The
previous entry's entryUUID is resolved by uniqueId (GetDocuments ObjectRef, TD3.1b, DMPi RG 3130) and the
new version is submitted with the RPLC association (:func:`replacement_flow`); the registry then deprecates
the previous version, or refuses when it is not Approved or belongs to another patient.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from typing import Any

from dmpclient.errors import DmpRightsError, DmpRightsPrecheckError, DmpValidationError
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.feeding import (
    FeedDocument,
    SubmissionDraft,
    SubmissionOptions,
    SubmissionResult,
    assemble,
    lookup_operation,
    read_documents,
    submission_flow,
)
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.repository import RetrieveResult, retrieve_document
from dmpclient.xds.cda import CdaHeader
from dmpclient.xds.cda_metadata import read_cda
from dmpclient.xds.results import QueryResult

__all__ = ["check_new_version", "replacement_flow"]


def check_new_version(new: CdaHeader, previous_unique_id: str, previous: CdaHeader | None) -> None:
    """The CDA versioning rules of a new version (SEED, §7.1).

    Raises:
        DmpValidationError: the rule broken (same id, no RPLC parent or another one, no setId, another setId,
            a version number that is not the previous one + 1).
    """
    if new.id == previous_unique_id:
        raise DmpValidationError(
            "new version: the document keeps the previous version's id; give it a new id", field="id"
        )
    if previous_unique_id not in new.replaces:
        raise DmpValidationError(
            f"new version: relatedDocument[@typeCode=RPLC]/parentDocument/id must be {previous_unique_id} "
            f"(found {', '.join(new.replaces) or 'none'})",
            field="relatedDocument",
        )
    if new.set_id is None:
        raise DmpValidationError(
            "new version: the document has no setId (it must be the previous version's)", field="setId"
        )
    if previous is None:
        if new.version < 2:
            raise DmpValidationError("new version: versionNumber must be at least 2", field="versionNumber")
        return
    if new.set_id != previous.version_set:
        raise DmpValidationError(
            f"new version: setId {new.set_id} differs from the previous version's {previous.version_set}",
            field="setId",
        )
    if new.version != previous.version + 1:
        raise DmpValidationError(
            f"new version: versionNumber {new.version} is not the previous version's + 1 ({previous.version + 1})",
            field="versionNumber",
        )


Flow = Generator[Operation[Any], Any, SubmissionResult]


def _previous_header(
    ctx: CallContext, ins: str, ins_oid: str, unique_id: str
) -> Generator[Operation[Any], Any, CdaHeader]:
    """The previous version's header, read back from the DMP (TD3.2)."""
    try:
        result: RetrieveResult = yield retrieve_document(ctx, ins, ins_oid, unique_id)
    except (DmpRightsPrecheckError, DmpRightsError):
        raise DmpValidationError(
            "previous_cda: this caller may not read documents (TD3.2) to check the versioning rules; give the "
            "previous version's CDA",
            field="previous_cda",
        ) from None
    # retrieve_document's decoder checked that the answer holds this document and no other
    return read_cda(result.document(unique_id).content or b"").header


def replacement_flow(
    ctx: CallContext,
    previous_unique_id: str,
    document: FeedDocument,
    sign: Callable[[SubmissionDraft], bytes],
    *,
    previous: CdaHeader | None = None,
    options: SubmissionOptions | None = None,
    hash_name: str = "sha256",
) -> Flow:
    """Check the versioning rules, resolve the previous entryUUID, submit the new version with RPLC.

    Args:
        sign: signs a draft's manifest (the shell's XAdES signer; this module holds no key).
        previous: the previous version's CDA header; read back from the DMP (TD3.2) when not given.

    Raises:
        DmpValidationError: a versioning rule is broken, the document is not a CDA, or the previous version
            is not in the patient's DMP for this caller.
        DmpRegistryError: the DMP refused the new version (previous not Approved, another patient…).
    """
    prepared = read_documents(ctx, [document], options, hash_name=hash_name)
    header = prepared[0].header
    if header is None:
        raise DmpValidationError("a new version is a CDA document (its versioning is in its header)", field="content")
    patient = prepared[0].entry.patient_id
    if patient is None:  # pragma: no cover - read_documents checked it
        raise DmpValidationError("patientId: required", field="patientId")
    if previous is None:
        previous = yield from _previous_header(ctx, patient.id, patient.assigning_authority, previous_unique_id)
    check_new_version(header, previous_unique_id, previous)
    found: QueryResult = yield lookup_operation(
        ctx, PatientRef(patient.id, patient.assigning_authority), [previous_unique_id]
    )
    if len(found.entry_uuids) != 1:
        state = "not in this patient's DMP (for this caller)" if not found.entry_uuids else "ambiguous"
        raise DmpValidationError(f"previous version {previous_unique_id}: {state}", field="previous_unique_id")
    replacing = dataclasses.replace(prepared[0], replaces=found.entry_uuids[0])
    draft = assemble(ctx, [replacing], options)
    return (yield from submission_flow(ctx, draft, sign(draft)))
