"""``repository`` service of the mock: TD3.2 retrieve (ITI-43), answered in MTOM (reference §3.16, §1.5).

Each requested document is checked on its own: known uniqueId of the VIHF patient (an entryUUID sent
instead is ``XDSDocumentUniqueIdError``, as the DMP answers), the DMP repository, and every document-level
row of the rights matrices (masked, invisible, archived, obsolete, deleted, with notes 6 and 7). Refused
documents become ``RegistryError`` entries (``LocalPolicyRestrictionError`` with the matrix's French
explanation, **project design**: how the DMP reports them is unknown, §9.4); the others are returned:
Success, PartialSuccess, or Failure when none is. A document asked for twice is answered once; a request
for more than :data:`MAX_DOCUMENTS` documents is a Sender fault (project design).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from dmpclient.errors import RegistryErrorItem
from dmpclient.ids import DMP_REPOSITORY_OID
from dmpclient.soap.mtom import OutgoingPart, xop_href
from dmpclient.transactions import repository
from dmpclient.xds.models import ResponseStatus
from dmpclient.xds.response import ErrorCode
from dmpclient.xds.retrieve import (
    DocumentLocation,
    DocumentPart,
    DocumentRequest,
    build_retrieve_response,
    read_retrieve_request,
)
from mock_server.context import Reply, RequestContext
from mock_server.domain.visibility import Viewer, may_read
from mock_server.errors import MockFault
from mock_server.handlers.registry import consulted_patient, viewer_of
from mock_server.routing import Route
from mock_server.store.records import Outcome

__all__ = ["MAX_DOCUMENTS", "ROUTES"]

#: Documents one TD3.2 request may ask for (project design: the DMP's limit is not public; each document is
#: read, checked and sent in one answer, so the request must be bounded). More is a Sender fault.
MAX_DOCUMENTS: Final = 100


def _error(code: str, context: str, request: DocumentRequest) -> RegistryErrorItem:
    return RegistryErrorItem(error_code=code, code_context=context, location=request.document_unique_id)


def _check(ctx: RequestContext, viewer: Viewer, request: DocumentRequest) -> RegistryErrorItem | str:
    """The error for one requested document, or its mime type when it may be returned."""
    unique_id = request.document_unique_id
    if request.repository_unique_id != DMP_REPOSITORY_OID:
        return _error(ErrorCode.UNKNOWN_REPOSITORY, f"Entrepôt inconnu : {request.repository_unique_id}", request)
    row = None if unique_id.startswith("urn:uuid:") else ctx.store.get_document(unique_id)
    patient = ctx.caller.patient
    if row is None or patient is None or row.patient_ins != patient.ins:
        return _error(ErrorCode.DOCUMENT_UNIQUE_ID, f"uniqueId={unique_id}", request)
    verdict = may_read(viewer, row)
    if not verdict.allowed:
        return _error(ErrorCode.POLICY, verdict.reason_fr, request)
    return row.metadata.mime_type


def _distinct(requests: Sequence[DocumentRequest]) -> list[DocumentRequest]:
    """The requests, each document once (first occurrence kept), within :data:`MAX_DOCUMENTS`."""
    if len(requests) > MAX_DOCUMENTS:
        raise MockFault(
            None,
            f"Requête TD3.2 de {len(requests)} documents : au plus {MAX_DOCUMENTS} par appel, "
            "répartissez-les sur plusieurs requêtes",
        )
    return list(dict.fromkeys(requests))


def _retrieve(ctx: RequestContext) -> Reply:
    requests = _distinct(read_retrieve_request(ctx.body))
    patient = consulted_patient(ctx)
    if isinstance(patient, RegistryErrorItem):  # no DMP, or a closed one: nothing is read (as TD3.1)
        body = build_retrieve_response([], status=ResponseStatus.FAILURE, errors=[patient])
        return Reply(body, detail=f"Failure {patient.error_code}", outcome=Outcome.ERROR)
    viewer = viewer_of(ctx, allows_masked_in_emergency=patient.masked_visible_in_emergency)
    parts: list[DocumentPart] = []
    attachments: list[OutgoingPart] = []
    errors: list[RegistryErrorItem] = []
    for number, request in enumerate(requests, start=1):
        checked = _check(ctx, viewer, request)
        if isinstance(checked, RegistryErrorItem):
            errors.append(checked)
            continue
        content = ctx.store.get_content(request.document_unique_id) or b""
        content_id = f"{ctx.new_id()}-{number}@urn:ihe:iti:xds-b:2007"
        parts.append(DocumentPart(request, checked, DocumentLocation(href=xop_href(content_id))))
        attachments.append(OutgoingPart(content_id, content, "application/octet-stream"))
    status = ResponseStatus.SUCCESS
    if errors:
        status = ResponseStatus.PARTIAL_SUCCESS if parts else ResponseStatus.FAILURE
    body = build_retrieve_response(parts, status=status, errors=errors)
    returned = ", ".join(part.request.document_unique_id for part in parts) or "aucun"
    detail = f"{len(parts)}/{len(requests)} document(s) : {returned}"
    if errors:
        detail += " ; " + ", ".join(sorted({e.error_code for e in errors}))
    refused = any(e.error_code == ErrorCode.POLICY for e in errors)
    outcome = Outcome.ALLOWED if parts else Outcome.REFUSED if refused else Outcome.ERROR
    return Reply(body, attachments=tuple(attachments), detail=detail[:500], outcome=outcome)


ROUTES: Final = (Route(repository.RETRIEVE, _retrieve),)
