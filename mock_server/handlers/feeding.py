"""``repository`` service of the mock: TD2.1 Provide and Register (ITI-41, MTOM in and out, reference §5).

The checks of §5.7 (:mod:`mock_server.domain.submission`), then the registry's state: a patient with an
open DMP, uniqueIds not yet registered, RPLC targets Approved. A submission whose SubmissionSet uniqueId is
already registered with the same documents (same uniqueIds, same bytes) is an **identical re-submission**
— a client that lost the answer sent it again — and is answered Success without writing anything; any
other reuse of a uniqueId is ``XDSDuplicateUniqueIdInRegistry``. Everything is written in the request's
one SQLite transaction (:meth:`~mock_server.store.registry.RegistryStore.add_submission`): all of it or
nothing, also when the process is killed mid-way. New documents are visible to TD3.1/TD3.2 at once. Fed under a
matrix cell with note 4 (indirect TD2.1, TD2.2 by a CPE), the authors' structure is the feeding one.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Final

from dmpclient.errors import DmpProtocolError, RegistryErrorItem
from dmpclient.transactions import feeding
from dmpclient.transactions.rights import NoteCondition
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.models import ResponseStatus
from dmpclient.xds.submission import SubmissionErrorCode, build_registry_response, read_provide_and_register
from mock_server.context import Reply, RequestContext
from mock_server.domain.intake import (
    association_record,
    impute_to_structure,
    metadata_record,
    submission_set_record,
)
from mock_server.domain.refusals import dmp_refusal
from mock_server.domain.submission import CheckedSubmission, Refusal, check_replacements, check_submission
from mock_server.routing import Route
from mock_server.store.records import Author, NewDocument, Outcome, StoreError

__all__ = ["ROUTES", "failure", "open_dmp", "routes"]

Error = SubmissionErrorCode
_ALL_STATUSES: Final = tuple(AvailabilityStatus)


def failure(errors: list[RegistryErrorItem], *, refused: bool = False) -> Reply:
    """A Failure ``RegistryResponse`` listing ``errors`` (traced as refused or as an error)."""
    detail = "Failure " + ", ".join(sorted({e.error_code for e in errors}))
    outcome = Outcome.REFUSED if refused else Outcome.ERROR
    return Reply(build_registry_response(ResponseStatus.FAILURE, errors), detail=detail[:500], outcome=outcome)


def open_dmp(ctx: RequestContext, ins: str) -> str:
    """The INS of a patient whose DMP is open, or an ``XDSUnknownPatientId`` refusal saying why not (no DMP,
    closed DMP: :func:`~mock_server.domain.refusals.dmp_refusal`, the TD0.3/TD1.6 helper); TD2.1 and TD3.3."""
    patient = ctx.store.get_patient(ins)
    refusal = dmp_refusal(patient)
    if refusal is not None or patient is None:
        raise Refusal.one(Error.UNKNOWN_PATIENT, refusal[1] if refusal else "Aucun DMP pour ce patient")
    return patient.ins


def _patient(ctx: RequestContext, submission: CheckedSubmission) -> str:
    return open_dmp(ctx, submission.patient.id)


def _identical(ctx: RequestContext, submission: CheckedSubmission, ins: str) -> bool:
    """Whether this submission set is already registered with exactly these documents (a lost answer)."""
    existing = ctx.store.get_submission_set(submission.submission_set.unique_id)
    if existing is None:
        return False
    stored = {
        row.unique_id: row.hash
        for row in ctx.store.find_documents(ins, statuses=_ALL_STATUSES)
        if row.submission_set_id == existing.entry_uuid
    }
    sent = {
        entry.unique_id: hashlib.sha1(submission.contents[entry.entry_uuid], usedforsecurity=False).hexdigest()
        for entry in submission.clinical
    }
    signature_kept = submission.signature.unique_id in stored
    stored.pop(submission.signature.unique_id, None)
    if existing.patient_ins == ins and stored == sent and signature_kept:
        return True
    raise Refusal.one(
        Error.DUPLICATE_IN_REGISTRY,
        "uniqueId de lot déjà enregistré avec d'autres documents",
        submission.submission_set.unique_id,
    )


def _not_registered(ctx: RequestContext, submission: CheckedSubmission) -> None:
    taken = [entry.unique_id for entry in submission.entries if ctx.store.get_document(entry.unique_id) is not None]
    if taken:
        raise Refusal(
            [
                RegistryErrorItem(
                    error_code=Error.DUPLICATE_IN_REGISTRY,
                    code_context="uniqueId déjà enregistré par une autre soumission",
                    location=unique_id,
                )
                for unique_id in taken
            ]
        )


def _author(ctx: RequestContext) -> Callable[[Author], Author]:
    """How the registry records the authors of this submission: as sent, or imputed to the feeding structure
    when the matrix cell says so (note 4: indirect TD2.1, TD2.2 by a CPE; §5.7.9)."""
    conditions = ctx.decision.conditions if ctx.decision else frozenset()
    if NoteCondition.AUTHORSHIP_TO_STRUCTURE in conditions:
        return lambda author: impute_to_structure(author, ctx.caller.structure_id)
    return lambda author: author


def _register(ctx: RequestContext, submission: CheckedSubmission, ins: str) -> None:
    ids = {submission.submission_set.entry_uuid: f"urn:uuid:{ctx.new_id()}"}
    ids |= {entry.entry_uuid: f"urn:uuid:{ctx.new_id()}" for entry in submission.entries}
    author = _author(ctx)
    documents = []
    for entry in submission.entries:
        metadata = metadata_record(entry)
        metadata = dataclasses.replace(metadata, author=author(metadata.author))
        documents.append(
            NewDocument(ids[entry.entry_uuid], entry.unique_id, ins, metadata, submission.contents[entry.entry_uuid])
        )
    links = [
        association_record(
            link,
            entry_uuid=f"urn:uuid:{ctx.new_id()}",
            source=ids.get(link.source, link.source),
            target=ids.get(link.target, link.target),
        )
        for link in submission.associations
    ]
    record = submission_set_record(
        submission.submission_set, entry_uuid=ids[submission.submission_set.entry_uuid], patient_ins=ins
    )
    record = dataclasses.replace(record, author=author(record.author))
    try:
        ctx.store.add_submission(record, documents, links, now=ctx.now)
    except StoreError as exc:  # the checks above make this a race or a bug; nothing was written
        raise Refusal.one(Error.METADATA, f"Soumission refusée par le registre : {exc}") from None


def _provide_and_register(ctx: RequestContext, *, verify_signature: bool) -> Reply:
    try:
        request = read_provide_and_register(ctx.body)
        submission = check_submission(
            request, ctx.attachments, now=ctx.now, trust=ctx.trust, verify_signature=verify_signature
        )
        ins = _patient(ctx, submission)
        if _identical(ctx, submission, ins):
            return Reply(build_registry_response(), detail="re-soumission identique : rien d'écrit")
        _not_registered(ctx, submission)
        check_replacements(submission.associations, submission.patient, ctx.store.get_document)
        _register(ctx, submission, ins)
    except Refusal as refusal:
        return failure(refusal.errors)
    except DmpProtocolError as exc:
        return failure([RegistryErrorItem(error_code=Error.METADATA, code_context=exc.message)])
    count = len(submission.clinical)
    return Reply(
        build_registry_response(),
        detail=f"{count} document(s) : {', '.join(e.unique_id for e in submission.clinical)}"[:500],
    )


def routes(*, verify_signature: bool = True) -> tuple[Route, ...]:
    """TD2.1, verifying the XAdES signature and its digests unless ``verify_signature`` is off (§5.4)."""
    return (
        Route(feeding.PROVIDE_AND_REGISTER, lambda ctx: _provide_and_register(ctx, verify_signature=verify_signature)),
    )


ROUTES: Final = routes()
