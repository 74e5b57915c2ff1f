"""``registry`` service of the mock: TD3.1, every ITI-18 stored query over the SQLite registry (§4.8).

Each request works on the caller's view of one patient — the VIHF ``resource-id`` patient's entries the
caller may see (:mod:`mock_server.domain.visibility`) and his submission sets — so no query, whatever its
parameters, returns another patient's objects or a document the rights matrices hide. Bad requests get
the registry's error codes (unknown query id, missing / repeated / malformed parameter); a result larger
than the configured limit is refused with ``XDSTooManyResults`` (the DMP's limit is unknown, §4.8).

A patient without a DMP, or whose DMP is closed, is ``XDSUnknownPatientId`` (§9.4) for TD3.1 and TD3.2 alike.
**Decision** (the reference does not say whether a closed DMP stays readable through the services): no. §3.3
gives a closed DMP only the existence test's ``terminated`` status, and §10.1 shows an error for a closed DMP on
every web PS page but the dashboard; the mock keeps the services consistent with that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from dmpclient.errors import RegistryErrorItem
from dmpclient.transactions import registry
from dmpclient.xds.codes import DOCUMENT_ENTRY_OBJECT_TYPE, AssociationType, AvailabilityStatus
from dmpclient.xds.ebrim import RegistryObject
from dmpclient.xds.models import ObjectRef, ResponseStatus, ReturnType
from dmpclient.xds.queries import (
    FindDocuments,
    FindDocumentsByReferenceId,
    FindFolders,
    FindSubmissionSets,
    GetAll,
    GetAssociations,
    GetDocuments,
    GetDocumentsAndAssociations,
    GetFolderAndContents,
    GetFolders,
    GetFoldersForDocument,
    GetRelatedDocuments,
    GetSubmissionSetAndContents,
    GetSubmissionSets,
    StoredQuery,
    StoredQueryError,
    read_query_request,
)
from dmpclient.xds.response import ErrorCode
from dmpclient.xds.results import build_query_response
from dmpclient.xds.rim import REFERENCE_ID_LIST
from mock_server.context import Reply, RequestContext
from mock_server.domain.metadata import association_model, author_model, document_model, submission_set_model
from mock_server.domain.refusals import dmp_refusal
from mock_server.domain.search import DocumentFilter
from mock_server.domain.visibility import Viewer, visible
from mock_server.routing import Route
from mock_server.store.records import Association, DocumentRow, Outcome, Patient, SubmissionSet

__all__ = ["DEFAULT_MAX_RESULTS", "ROUTES", "Scope", "consulted_patient", "like", "routes", "viewer_of"]

#: Objects one answer may hold before the mock refuses with XDSTooManyResults (project design).
DEFAULT_MAX_RESULTS: Final = 1000
_ALL_STATUSES: Final = tuple(AvailabilityStatus)


def viewer_of(ctx: RequestContext, *, allows_masked_in_emergency: bool) -> Viewer:
    """The caller as the visibility rules see him."""
    caller = ctx.caller
    return Viewer(
        auth_mode=caller.auth_mode,
        actor=caller.actor,
        access_mode=caller.access_mode,
        ps_id=caller.ps_id,
        structure_id=caller.structure_id,
        patient_allows_masked_in_emergency=allows_masked_in_emergency,
    )


@dataclass
class Scope:
    """What one caller may see of one patient: document entries (every status), submission sets."""

    ctx: RequestContext
    ins: str
    oid: str
    documents: list[DocumentRow]
    submission_sets: list[SubmissionSet]
    _by_uuid: dict[str, DocumentRow] = field(init=False)
    _by_unique_id: dict[str, DocumentRow] = field(init=False)

    def __post_init__(self) -> None:
        self._by_uuid = {row.entry_uuid: row for row in self.documents}
        self._by_unique_id = {}
        for row in sorted(self.documents, key=lambda row: row.version_name):  # the latest version wins
            self._by_unique_id[row.unique_id] = row

    @cached_property
    def object_ids(self) -> frozenset[str]:
        """The entryUUIDs of everything the caller may see of this patient."""
        return frozenset(self._by_uuid) | {s.entry_uuid for s in self.submission_sets}

    def document(self, identifier: str) -> DocumentRow | None:
        """By entryUUID, or the latest metadata version of a uniqueId."""
        return self._by_uuid.get(identifier) or self._by_unique_id.get(identifier)

    def submission_set(self, identifier: str) -> SubmissionSet | None:
        return next((s for s in self.submission_sets if identifier in (s.entry_uuid, s.unique_id)), None)

    def associations(self, object_ids: Iterable[str]) -> list[Association]:
        """Stored associations touching ``object_ids`` whose both ends the caller may see."""
        seen = self.object_ids
        return [a for a in self.ctx.store.associations(set(object_ids)) if a.source in seen and a.target in seen]


# --- one function per stored query ----------------------------------------------------------------

Found = list[DocumentRow | SubmissionSet | Association]


def _statuses(values: Sequence[AvailabilityStatus | str]) -> set[str]:
    return {str(value) for value in values}


def like(pattern: str, text: str) -> bool:
    """An ITI-18 AuthorPerson pattern match: ``%`` any run, ``_`` one character, the rest literal.

    Two pointers with one back-tracking point (no regular expression): linear in practice and at worst
    ``len(pattern) × len(text)``, whatever ``%`` a hostile request piles up.
    """
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] in ("_", text[t]) and pattern[p] != "%":
            p, t = p + 1, t + 1
        elif p < len(pattern) and pattern[p] == "%":
            star, mark, p = p, t, p + 1
        elif star >= 0:
            mark += 1
            p, t = star + 1, mark
        else:
            return False
    return all(c == "%" for c in pattern[p:])


def _author_matches(patterns: Sequence[str], scope: Scope, row: DocumentRow | SubmissionSet) -> bool:
    if not patterns:
        return True
    author = row.metadata.author if isinstance(row, DocumentRow) else row.author
    person = author_model(author, scope.oid).person
    text = str(person) if person else ""
    return any(like(pattern, text) for pattern in patterns)


def _stable(object_types: Sequence[str]) -> bool:
    """The DMP has stable entries only: a type filter without the stable type excludes everything."""
    return not object_types or DOCUMENT_ENTRY_OBJECT_TYPE in object_types


def _content_filter(q: GetAll | GetSubmissionSetAndContents | GetFolderAndContents) -> Callable[[DocumentRow], bool]:
    filters = [DocumentFilter(format_codes=q.format_codes)]
    filters += [DocumentFilter(confidentiality_codes=group) for group in q.confidentiality_codes]
    stable = _stable(q.object_types)
    return lambda row: stable and all(f.matches(row) for f in filters)


def _find_documents(scope: Scope, q: FindDocuments) -> Found:
    base = DocumentFilter(
        class_codes=q.class_codes,
        type_codes=q.type_codes,
        format_codes=q.format_codes,
        practice_setting_codes=q.practice_setting_codes,
        healthcare_facility_type_codes=q.healthcare_facility_type_codes,
        creation_from=q.created_from,
        creation_to=q.created_to,
        service_start_from=q.service_start_from,
        service_start_to=q.service_start_to,
        service_stop_from=q.service_stop_from,
        service_stop_to=q.service_stop_to,
    )
    filters = [base]
    filters += [DocumentFilter(event_codes=group) for group in q.event_codes]  # AND of OR groups
    filters += [DocumentFilter(confidentiality_codes=group) for group in q.confidentiality_codes]
    statuses = _statuses(q.status)
    wanted = set(q.reference_ids) if isinstance(q, FindDocumentsByReferenceId) else None
    if not _stable(q.object_types):
        return []
    return [
        row
        for row in scope.documents
        if row.status.value in statuses
        and all(f.matches(row) for f in filters)
        and _author_matches(q.author_persons, scope, row)
        and (wanted is None or bool(wanted & set(row.metadata.extra_slots.get(REFERENCE_ID_LIST, ()))))
    ]


def _find_submission_sets(scope: Scope, q: FindSubmissionSets) -> Found:
    statuses = _statuses(q.status)
    content = {c.key for c in q.content_type_codes}
    return [
        s
        for s in scope.submission_sets
        if s.status.value in statuses
        and (not q.source_ids or s.source_id in q.source_ids)
        and (q.submitted_from is None or s.submission_time >= q.submitted_from)
        and (q.submitted_to is None or s.submission_time < q.submitted_to)
        and (not content or s.content_type_code.key in content)
        and _author_matches((q.author_person,) if q.author_person else (), scope, s)
    ]


def _get_all(scope: Scope, q: GetAll) -> Found:
    keep = _content_filter(q)
    statuses = _statuses(q.document_status)
    documents = [row for row in scope.documents if row.status.value in statuses and keep(row)]
    set_statuses = _statuses(q.submission_set_status)
    sets = [s for s in scope.submission_sets if s.status.value in set_statuses]
    ids = {row.entry_uuid for row in documents} | {s.entry_uuid for s in sets}
    associations = [a for a in scope.associations(ids) if a.source in ids and a.target in ids]
    return [*documents, *sets, *associations]


def _entries(scope: Scope, q: GetDocuments | GetDocumentsAndAssociations) -> list[DocumentRow]:
    found = (scope.document(identifier) for identifier in (*q.entry_uuids, *q.unique_ids))
    return list({row.entry_uuid: row for row in found if row is not None}.values())


def _get_documents(scope: Scope, q: GetDocuments) -> Found:
    return list(_entries(scope, q))


def _get_documents_and_associations(scope: Scope, q: GetDocumentsAndAssociations) -> Found:
    documents = _entries(scope, q)
    return [*documents, *scope.associations(row.entry_uuid for row in documents)]


def _get_associations(scope: Scope, q: GetAssociations) -> Found:
    return list(scope.associations(identifier for identifier in q.uuids if identifier in scope.object_ids))


def _get_submission_sets(scope: Scope, q: GetSubmissionSets) -> Found:
    documents = [row for row in (scope.document(u) for u in q.uuids) if row is not None]
    set_ids = {row.submission_set_id for row in documents}
    sets = [s for s in scope.submission_sets if s.entry_uuid in set_ids]
    member_of = {row.entry_uuid for row in documents}
    links = [
        a
        for a in scope.associations(s.entry_uuid for s in sets)
        if a.type is AssociationType.HAS_MEMBER and a.target in member_of
    ]
    return [*sets, *links]


def _get_submission_set_and_contents(scope: Scope, q: GetSubmissionSetAndContents) -> Found:
    submission_set = scope.submission_set(q.entry_uuid or q.unique_id or "")
    if submission_set is None:
        return []
    keep = _content_filter(q)
    documents = [row for row in scope.documents if row.submission_set_id == submission_set.entry_uuid and keep(row)]
    ids = {row.entry_uuid for row in documents} | {submission_set.entry_uuid}
    links = [a for a in scope.associations((submission_set.entry_uuid,)) if a.source in ids and a.target in ids]
    return [submission_set, *documents, *links]


def _get_related_documents(scope: Scope, q: GetRelatedDocuments) -> Found:
    start = scope.document(q.entry_uuid or q.unique_id or "")
    if start is None or AssociationType.RPLC not in set(q.association_types) or not _stable(q.object_types):
        return []
    chain = [row for row in scope.ctx.store.replacement_chain(start.entry_uuid) if scope.document(row.entry_uuid)]
    if len(chain) < 2:
        return []
    ids = {row.entry_uuid for row in chain}
    links = [
        a for a in scope.associations(ids) if a.type is AssociationType.RPLC and a.source in ids and a.target in ids
    ]
    return [*chain, *links]


def _no_folders(scope: Scope, q: StoredQuery) -> Found:
    """The DMP has no folders (reference §4.3): every folder query finds nothing."""
    del scope, q
    return []


_RUNNERS: Final[dict[type[StoredQuery], Callable[[Scope, Any], Found]]] = {
    FindDocuments: _find_documents,
    FindDocumentsByReferenceId: _find_documents,
    FindSubmissionSets: _find_submission_sets,
    FindFolders: _no_folders,
    GetAll: _get_all,
    GetDocuments: _get_documents,
    GetFolders: _no_folders,
    GetAssociations: _get_associations,
    GetDocumentsAndAssociations: _get_documents_and_associations,
    GetSubmissionSets: _get_submission_sets,
    GetSubmissionSetAndContents: _get_submission_set_and_contents,
    GetFolderAndContents: _no_folders,
    GetFoldersForDocument: _no_folders,
    GetRelatedDocuments: _get_related_documents,
}


# --- the handler --------------------------------------------------------------------------------


def _failure(code: str, context: str, *, location: str | None = None) -> Reply:
    error = RegistryErrorItem(error_code=code, code_context=context, location=location or "")
    body = build_query_response((), status=ResponseStatus.FAILURE, errors=(error,))
    return Reply(body, detail=f"Failure {code}", outcome=Outcome.ERROR)


def consulted_patient(ctx: RequestContext) -> Patient | RegistryErrorItem:
    """The VIHF patient whose DMP is consulted (TD3.1, TD3.2), or the ``XDSUnknownPatientId`` error when he has
    no DMP or a closed one (see the module notes)."""
    patient = ctx.store.get_patient(ctx.caller.patient.ins) if ctx.caller.patient else None
    refusal = dmp_refusal(patient)
    if refusal is not None or patient is None:
        context = refusal[1] if refusal else "Aucun DMP pour ce patient"
        return RegistryErrorItem(error_code=ErrorCode.UNKNOWN_PATIENT, code_context=context)
    return patient


def _scope(ctx: RequestContext, patient: Patient, references: bool) -> Scope:
    """The caller's view of the patient's DMP."""
    viewer = viewer_of(ctx, allows_masked_in_emergency=patient.masked_visible_in_emergency)
    rows = ctx.store.find_documents(patient.ins, statuses=_ALL_STATUSES)
    documents = visible(viewer, rows, references=references)
    sets = ctx.store.find_submission_sets(patient.ins, statuses=_ALL_STATUSES)
    return Scope(ctx, patient.ins, patient.ins_oid, documents, sets)


def _model(item: DocumentRow | SubmissionSet | Association, oid: str) -> RegistryObject:
    if isinstance(item, DocumentRow):
        return document_model(item, oid)
    if isinstance(item, SubmissionSet):
        return submission_set_model(item, oid)
    return association_model(item)


def _stored_query(ctx: RequestContext, max_results: int) -> Reply:
    try:
        request = read_query_request(ctx.body)
    except StoredQueryError as exc:
        return _failure(exc.error_code, exc.message, location=exc.parameter)
    references = request.return_type is ReturnType.OBJECT_REF
    patient = consulted_patient(ctx)
    if isinstance(patient, RegistryErrorItem):
        return _failure(patient.error_code, patient.code_context)
    scope = _scope(ctx, patient, references)
    found = _RUNNERS[type(request.query)](scope, request.query)
    if len(found) > max_results:
        return _failure(
            ErrorCode.TOO_MANY_RESULTS,
            f"La recherche renvoie {len(found)} objets, au-delà de la limite de {max_results} : affinez-la",
        )
    objects: list[RegistryObject] = (
        [ObjectRef(id=item.entry_uuid) for item in found] if references else [_model(item, scope.oid) for item in found]
    )
    detail = f"{request.query.name} {request.return_type.value} : {len(objects)} objet(s)"
    return Reply(build_query_response(objects), detail=detail)


def routes(max_results: int = DEFAULT_MAX_RESULTS) -> tuple[Route, ...]:
    """The registry's routes, refusing results beyond ``max_results`` objects."""
    return (Route(registry.STORED_QUERY, lambda ctx: _stored_query(ctx, max_results)),)


ROUTES: Final = routes()
