"""One golden case per implemented transaction: how to build its request and a representative answer.

The contract test (``tests/unit/test_contract.py``) requires a case for every spec of
:data:`dmpclient.transactions.catalog.SPECS`; adding a transaction means adding its case here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from lxml import etree

from dmpclient.hl7v3.patient_query import (
    AuthorizationStatus,
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
    build_patient_response,
    parse_patient_query,
)
from dmpclient.ids import InsOid
from dmpclient.transactions import patients, registry, repository
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation
from dmpclient.transactions.spec import TransactionSpec
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.models import ObjectRef, ReturnType
from dmpclient.xds.results import build_query_response
from dmpclient.xds.retrieve import DocumentLocation, DocumentPart, build_retrieve_response, read_retrieve_request
from tests.golden import GOLDEN_NOW
from tests.xds_samples import ENTRY, HAS_MEMBER, NEW_VERSION, REPLACES, SUBMISSION_SET

__all__ = ["CASES", "GoldenCase"]

PATB_QUATRE: Final = "207058575627097"


@dataclass(frozen=True)
class GoldenCase:
    """A transaction's golden request and answer.

    Attributes:
        spec: the transaction.
        request: builds the operation with a frozen context.
        response: the answer body a DMP would send to that operation (mock-side codec, fixed values).
        schemas: the XSDs (under shared/schemas) the request and the answer bodies validate against.
    """

    spec: TransactionSpec[Any]
    request: Callable[[CallContext], Operation[Any]]
    response: Callable[[Operation[Any]], etree._Element]
    schemas: tuple[str, ...] = ()


def _patient_answer(op: Operation[Any], answer: ExistenceAnswer) -> etree._Element:
    return build_patient_response(parse_patient_query(op.body), answer, response_id="golden-response", now=GOLDEN_NOW)


_PATIENT: Final = PatientIdentity(
    PATB_QUATRE,
    InsOid.TEST,
    family="PATB-QUATRE",
    birth_family="PATB-QUATRE",
    given="LAURENCE",
    gender="F",
    birth_date=dt.date(1970, 5, 20),
)

_QUERY_XSD: Final = ("ebrs30/query.xsd",)
_REPOSITORY_XSD: Final = ("ihe/XDS.b_DocumentRepository.xsd",)


def _retrieved(op: Operation[Any]) -> etree._Element:
    """The ITI-43 answer with the document inline (XOP-decoded form: what the XSD validates)."""
    request = read_retrieve_request(op.body)[0]
    return build_retrieve_response([DocumentPart(request, "text/xml", DocumentLocation(inline=b"<cda>1</cda>"))])


#: The main case of each transaction, keyed by TD; variants (other stored queries, return types) by name.
CASES: Final[dict[str, GoldenCase]] = {
    case.spec.td: case
    for case in (
        GoldenCase(
            patients.TEST_EXISTENCE,
            lambda ctx: patients.test_existence(ctx, PATB_QUATRE, InsOid.TEST),
            lambda op: _patient_answer(
                op,
                ExistenceAnswer(
                    DmpStatus.ACTIVE,
                    AuthorizationStatus.VALIDE,
                    treating_physician=True,
                    patient=_PATIENT,
                    observations={"COMPTE_INTERNET_OUVERT": True, "RATTACHEMENT_ENS": True},
                ),
            ),
        ),
        GoldenCase(
            patients.ADMINISTRATIVE_DATA,
            lambda ctx: patients.administrative_data(ctx, PATB_QUATRE, InsOid.TEST),
            lambda op: _patient_answer(
                op,
                ExistenceAnswer(
                    DmpStatus.ACTIVE,
                    patient=_PATIENT,
                    observations={"OPPOSITION_BRIS_DE_GLACE": False, "OPPOSITION_ACCES_URGENCE": True},
                ),
            ),
        ),
        GoldenCase(
            registry.STORED_QUERY,
            lambda ctx: registry.find_documents(
                ctx,
                PATB_QUATRE,
                InsOid.TEST,
                status=(AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED),
                class_codes=["10"],
                created_from=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            ),
            lambda op: build_query_response([ENTRY, NEW_VERSION]),
            _QUERY_XSD,
        ),
        GoldenCase(
            repository.RETRIEVE,
            lambda ctx: repository.retrieve(ctx, PATB_QUATRE, InsOid.TEST, [ENTRY.unique_id]),
            _retrieved,
            _REPOSITORY_XSD,
        ),
    )
}

CASES |= {
    "TD3.1-GetDocuments-ObjectRef": GoldenCase(
        registry.STORED_QUERY,
        lambda ctx: registry.get_documents(
            ctx, PATB_QUATRE, InsOid.TEST, unique_ids=[ENTRY.unique_id], return_type=ReturnType.OBJECT_REF
        ),
        lambda op: build_query_response([ObjectRef(id=ENTRY.entry_uuid)]),
        _QUERY_XSD,
    ),
    "TD3.1-GetRelatedDocuments": GoldenCase(
        registry.STORED_QUERY,
        lambda ctx: registry.get_related_documents(ctx, PATB_QUATRE, InsOid.TEST, unique_id=ENTRY.unique_id),
        lambda op: build_query_response([ENTRY, NEW_VERSION, REPLACES]),
        _QUERY_XSD,
    ),
    "TD3.1-GetSubmissionSetAndContents": GoldenCase(
        registry.STORED_QUERY,
        lambda ctx: registry.get_submission_set_and_contents(
            ctx, PATB_QUATRE, InsOid.TEST, unique_id=SUBMISSION_SET.unique_id
        ),
        lambda op: build_query_response([SUBMISSION_SET, ENTRY, HAS_MEMBER]),
        _QUERY_XSD,
    ),
}
