"""``registry`` service, TD3.1: every ITI-18 stored query, in LeafClass (metadata) or ObjectRef (reference).

One spec for all fourteen queries: the route is the ``AdhocQueryRequest`` root; the rights row follows
the body's ``returnType`` — ``LeafClass`` is "Rechercher les métadonnées" (TD3.1a), ``ObjectRef``
"Rechercher la référence d'un document" (TD3.1b, open to indirect/CPE/PE callers, reference §3.15, §8).
The VIHF ``resource-id`` names the patient: the query's own patient id when it has one (FindDocuments…),
else the INS the caller gives (GetDocuments by uniqueId…).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final, TypedDict, Unpack

from lxml import etree

from dmpclient._xml import NS, qname
from dmpclient.codes import Code
from dmpclient.errors import DmpProtocolError, DmpValidationError
from dmpclient.ids import validate_ins, validate_oid
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.rights import RightsAction
from dmpclient.transactions.spec import Service, TransactionSpec
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import ReturnType
from dmpclient.xds.queries import (
    FindDocuments,
    GetDocuments,
    GetRelatedDocuments,
    GetSubmissionSetAndContents,
    StoredQuery,
    build_query_request,
    read_query_request,
)
from dmpclient.xds.query_syntax import QueryValueError, parse_single
from dmpclient.xds.results import QueryResult, read_query_response

__all__ = [
    "STORED_QUERY",
    "DocumentFilters",
    "find_documents",
    "get_documents",
    "get_related_documents",
    "get_submission_set_and_contents",
    "stored_query",
]

_ACTION: Final = "urn:ihe:iti:2007:RegistryStoredQuery"
_PATIENT_SLOTS: Final = frozenset(
    {"$XDSDocumentEntryPatientId", "$XDSSubmissionSetPatientId", "$XDSFolderPatientId", "$patientId"}
)
_T_OPTION: Final = qname("query", "ResponseOption")
_T_SLOT: Final = qname("rim", "Slot")
_T_VALUE: Final = qname("rim", "Value")


def _rights_row(body: etree._Element) -> RightsAction:
    """LeafClass → metadata search (TD3.1a); ObjectRef → reference search (TD3.1b)."""
    option = body.find(_T_OPTION)
    if option is not None and option.get("returnType") == ReturnType.OBJECT_REF.value:
        return RightsAction.TD3_1_RECHERCHE_REFERENCE
    return RightsAction.TD3_1_RECHERCHE_METADONNEES


def _queried_patient(body: etree._Element) -> PatientRef | None:
    """The patient id parameter of the query, if any (the gate compares it with the VIHF resource-id)."""
    for slot in body.iter(_T_SLOT):
        if slot.get("name") in _PATIENT_SLOTS:
            try:
                cx = Cx.parse(parse_single(value.text or "" for value in slot.iter(_T_VALUE)))
            except QueryValueError:
                return None  # the handler answers the malformed parameter
            return PatientRef(cx.id, cx.assigning_authority)
    return None


def _decode(response: Response) -> QueryResult:
    body = response.message.body
    if body is None:
        raise DmpProtocolError("TD3.1: the answer has no body")
    return read_query_response(body)


STORED_QUERY: Final = TransactionSpec(
    td="TD3.1",
    title="Recherche de documents",
    service=Service.REGISTRY,
    request_root=f"{{{NS['query']}}}AdhocQueryRequest",
    request_action=_ACTION,
    response_action=f"{_ACTION}Response",
    decode=_decode,
    rights=(RightsAction.TD3_1_RECHERCHE_METADONNEES, RightsAction.TD3_1_RECHERCHE_REFERENCE),
    idempotent=True,
    body_patient=_queried_patient,
    select_rights=_rights_row,
    read_request=read_query_request,
)


def _patient(query: StoredQuery, patient: PatientRef | None) -> PatientRef:
    if patient is not None:
        patient = PatientRef(validate_ins(patient.ins), validate_oid(patient.oid, field="ins_oid"))
    named = query.patient
    if named is None:
        if patient is None:
            raise DmpValidationError(
                f"{query.name} names no patient: give the patient's INS (the VIHF resource-id)", field="ins"
            )
        return patient
    ref = PatientRef(
        validate_ins(named.id, field="patient_id"), validate_oid(named.assigning_authority, field="patient_id")
    )
    if patient is not None and (patient.ins, patient.oid) != (ref.ins, ref.oid):
        raise DmpValidationError(f"{query.name}: the query's patient differs from the INS given", field="ins")
    return ref


def stored_query(
    ctx: CallContext,
    query: StoredQuery,
    *,
    return_type: ReturnType = ReturnType.LEAF_CLASS,
    patient: PatientRef | None = None,
) -> Operation[QueryResult]:
    """TD3.1: any stored query; ``patient`` is required when the query names none (GetDocuments…).

    Raises:
        DmpValidationError: no patient for the VIHF, an invalid INS, or a value the query syntax cannot carry.
    """
    del ctx  # a query needs no id or time of its own
    return STORED_QUERY.operation(build_query_request(query, ReturnType(return_type)), patient=_patient(query, patient))


def _patient_ref(ins: str, ins_oid: str) -> PatientRef:
    return PatientRef(validate_ins(ins), validate_oid(ins_oid, field="ins_oid"))


class DocumentFilters(TypedDict, total=False):
    """FindDocuments filters (reference §4.8); codes as :class:`Code`, ``"code^^system"`` or a DMP code.

    ``event_codes`` / ``confidentiality_codes`` take a list (OR) or a list of lists (AND of ORs);
    ``author_persons`` are XCN patterns with ``%`` / ``_`` wildcards; times are timezone-aware,
    ``from`` inclusive and ``to`` exclusive.
    """

    status: Sequence[AvailabilityStatus | str]
    class_codes: Sequence[Code | str]
    type_codes: Sequence[Code | str]
    practice_setting_codes: Sequence[Code | str]
    healthcare_facility_type_codes: Sequence[Code | str]
    format_codes: Sequence[Code | str]
    event_codes: Sequence[Code | str] | Sequence[Sequence[Code | str]]
    confidentiality_codes: Sequence[Code | str] | Sequence[Sequence[Code | str]]
    author_persons: Sequence[str]
    created_from: dt.datetime
    created_to: dt.datetime
    service_start_from: dt.datetime
    service_start_to: dt.datetime
    service_stop_from: dt.datetime
    service_stop_to: dt.datetime


def find_documents(
    ctx: CallContext,
    ins: str,
    ins_oid: str,
    *,
    return_type: ReturnType = ReturnType.LEAF_CLASS,
    **filters: Unpack[DocumentFilters],
) -> Operation[QueryResult]:
    """TD3.1a FindDocuments: the patient's entries (Approved by default) matching ``filters``."""
    patient = _patient_ref(ins, ins_oid)
    query = FindDocuments(patient_id=Cx.patient(patient.ins, patient.oid), **filters)
    return stored_query(ctx, query, return_type=return_type, patient=patient)


def get_documents(
    ctx: CallContext,
    ins: str,
    ins_oid: str,
    *,
    unique_ids: Sequence[str] = (),
    entry_uuids: Sequence[str] = (),
    return_type: ReturnType = ReturnType.LEAF_CLASS,
) -> Operation[QueryResult]:
    """TD3.1 GetDocuments by uniqueIds or entryUUIDs (ObjectRef: uniqueId → entryUUID, TD3.1b)."""
    query = GetDocuments(unique_ids=tuple(unique_ids), entry_uuids=tuple(entry_uuids))
    return stored_query(ctx, query, return_type=return_type, patient=_patient_ref(ins, ins_oid))


def get_related_documents(
    ctx: CallContext,
    ins: str,
    ins_oid: str,
    *,
    unique_id: str | None = None,
    entry_uuid: str | None = None,
    association_types: Sequence[AssociationType | str] = (AssociationType.RPLC,),
    return_type: ReturnType = ReturnType.LEAF_CLASS,
) -> Operation[QueryResult]:
    """TD3.1 GetRelatedDocuments: the replacement chain (RPLC, the only relation in the DMP) of one document."""
    query = GetRelatedDocuments(unique_id=unique_id, entry_uuid=entry_uuid, association_types=tuple(association_types))
    return stored_query(ctx, query, return_type=return_type, patient=_patient_ref(ins, ins_oid))


def get_submission_set_and_contents(
    ctx: CallContext,
    ins: str,
    ins_oid: str,
    *,
    unique_id: str | None = None,
    entry_uuid: str | None = None,
    return_type: ReturnType = ReturnType.LEAF_CLASS,
) -> Operation[QueryResult]:
    """TD3.1 GetSubmissionSetAndContents: a submission set, its entries and associations."""
    query = GetSubmissionSetAndContents(unique_id=unique_id, entry_uuid=entry_uuid)
    return stored_query(ctx, query, return_type=return_type, patient=_patient_ref(ins, ins_oid))
