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

from dmpclient.custom.habilitations import (
    AuthorizationAction,
    AuthorizationListMode,
    AuthorizedParty,
    build_list_authorizations_response,
    build_set_authorization_response,
)
from dmpclient.custom.patients_specific import (
    AuthorizedPatient,
    PatientIdentifier,
    PatientListDateType,
    build_patient_list_response,
)
from dmpclient.errors import RegistryErrorItem
from dmpclient.hl7v3.patient_query import (
    AdministrativeRecord,
    AuthorizationStatus,
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
    build_administrative_response,
    build_patient_response,
    observation_of,
    parse_patient_query,
)
from dmpclient.hl7v3.patient_update import AdministrativeUpdate, UpdateAuthor, build_update_accepted, parse_update
from dmpclient.hl7v3.pdq import PatientCandidate, PatientSearch, build_search_response, parse_search
from dmpclient.hl7v3.person import Address, LegalRepresentative, Telecom, TelecomKind
from dmpclient.ids import InsOid
from dmpclient.transactions import feeding, habilitations, lifecycle, patient_list, patients, registry, repository
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.spec import TransactionSpec
from dmpclient.xds.cda_metadata import Visibility
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.models import ObjectRef, ReturnType
from dmpclient.xds.response import WARNING
from dmpclient.xds.results import build_query_response
from dmpclient.xds.retrieve import DocumentLocation, DocumentPart, build_retrieve_response, read_retrieve_request
from dmpclient.xds.submission import build_registry_response
from tests.feed_samples import OPTIONS, cda
from tests.golden import GOLDEN_NOW
from tests.xds_samples import AUTHOR, ENTRY, HAS_MEMBER, NEW_VERSION, REPLACES, SUBMISSION_SET

__all__ = ["CASES", "GoldenCase"]

PATB_QUATRE: Final = "207058575627097"


@dataclass(frozen=True)
class GoldenCase:
    """A transaction's golden request and answer.

    Attributes:
        spec: the transaction.
        request: builds the operation with a frozen context.
        response: the answer body a DMP would send to that operation (mock-side codec, fixed values).
    """

    spec: TransactionSpec[Any]
    request: Callable[[CallContext], Operation[Any]]
    response: Callable[[Operation[Any]], etree._Element]


def _patient_answer(op: Operation[Any], answer: ExistenceAnswer) -> etree._Element:
    return build_patient_response(parse_patient_query(op.body), answer, response_id="golden-response", now=GOLDEN_NOW)


_PATIENT: Final = PatientIdentity(
    ins=PATB_QUATRE,
    ins_oid=InsOid.TEST,
    family="PATB-QUATRE",
    birth_family="PATB-QUATRE",
    given="LAURENCE",
    gender="F",
    birth_date=dt.date(1970, 5, 20),
)

_HOME: Final = Address(
    street_lines=("12 rue des Lilas",),
    additional_locator="Bâtiment B",
    postal_code="35000",
    city="RENNES",
    country="FRANCE",
    use="H",
)
#: A minor's record: two legal representatives with their own address and telecoms (reference §3.9).
_RECORD: Final = AdministrativeRecord(
    status=DmpStatus.ACTIVE,
    ins="211046322000147",
    ins_oid=InsOid.TEST,
    ins_c="0123456789012345678901",
    family="GARNIER",
    given_names=("Lucie", "Anne"),
    gender="F",
    birth_time="20110412",
    deceased=False,
    birth_place=Address(postal_code="29200", city="BREST", country="FRANCE"),
    addresses=(_HOME,),
    telecoms=(Telecom(kind=TelecomKind.MAIL, value="famille.garnier@exemple.fr", use="H"),),
    legal_representatives=(
        LegalRepresentative(
            relationship="MTH",
            family="GARNIER",
            birth_family="ROBIN",
            given_names=("Claire",),
            addresses=(_HOME,),
            telecoms=(Telecom(kind=TelecomKind.MOBILE, value="+33612345678", use="MC"),),
        ),
        LegalRepresentative(
            relationship="FTH",
            family="GARNIER",
            given_names=("Bruno",),
            addresses=(_HOME,),
            telecoms=(
                Telecom(kind=TelecomKind.MOBILE, value="+33798765432", use="MC"),
                Telecom(kind=TelecomKind.PHONE, value="+33299001122", use="WP"),
            ),
        ),
    ),
    observations=(observation_of("OPPOSITION_BRIS_DE_GLACE", False), observation_of("OPPOSITION_ACCES_URGENCE", True)),
)

_DOCTOR: Final = AuthorizedParty(
    national_id="899900063480",
    national_id_type="1.2.250.1.71.4.2.1",
    first_name="MAX",
    last_name="LIBRE",
    specialty_codes=("G15_10/SM26",),
    specialty_labels=("Médecin - Qualifié en médecine générale (SM)",),
    start=dt.datetime(2024, 3, 1, 8, 15, tzinfo=dt.UTC),
    last_action=dt.datetime(2025, 6, 12, 17, 40, 5, tzinfo=dt.UTC),
    mode="ACTIVE",
    specific_rights=("MEDECIN_TRAITANT",),
)
_BLOCKED_STRUCTURE: Final = AuthorizedParty(
    national_id="10B0167011",
    national_id_type="1.2.250.1.71.4.2.2",
    start=dt.datetime(2023, 11, 20, 10, 0, tzinfo=dt.UTC),
    last_action=dt.datetime(2024, 1, 5, 9, 30, tzinfo=dt.UTC),
    mode="INTERDITE",
)
_LISTED: Final = AuthorizedPatient(
    identifiers=(
        PatientIdentifier(national_id=PATB_QUATRE, national_id_type=InsOid.TEST.value),
        PatientIdentifier(national_id="0123456789012345678901", national_id_type="1.2.250.1.213.1.4.2"),
    ),
    last_name="PATB-QUATRE",
    patronymical_name="PATB-QUATRE",
    first_name="LAURENCE",
    civility="MME",
    birth_date=dt.date(1970, 5, 20),
    treating_physician=True,
    last_access=dt.datetime(2026, 1, 10, 14, 2, 33, tzinfo=dt.UTC),
    last_update=dt.datetime(2025, 12, 24, 9, 0, tzinfo=dt.UTC),
    last_add=dt.datetime(2025, 12, 24, 9, 0, tzinfo=dt.UTC),
)

_CANDIDATE: Final = PatientCandidate(
    status=DmpStatus.ACTIVE,
    ins="188102B17295264",
    ins_oid=InsOid.TEST,
    ins_c="9876543210987654321098",
    family="FIGATELLIX",
    given_names=("CORSE",),
    gender="M",
    birth_time="19881002",
    addresses=(Address(postal_code="20200", city="BASTIA"),),
    match_score=100,
    opposition_acces_urgence=False,
)
_UPDATE: Final = AdministrativeUpdate.from_record(_RECORD).model_copy(
    update={
        "ins": "287080883795737",
        "telecoms": (
            Telecom(kind=TelecomKind.MOBILE, value="+33622334455", use="MC"),
            Telecom(kind=TelecomKind.MAIL, value="nouvelle.adresse@exemple.fr", use="H"),
        ),
        "legal_representatives": (),
        "opposition_bris_de_glace": True,
    }
)
_AUTHOR: Final = UpdateAuthor(
    ps_id="899900063480",
    family="LIBRE",
    given="MAX",
    structure_id="10B0127189",
    structure_name="CENTRE DE SANTE RPPS12718",
    specialty="G15_10/SM26",
)


def _retrieved(op: Operation[Any]) -> etree._Element:
    """The ITI-43 answer with the document inline (XOP-decoded form: what the XSD validates)."""
    request = read_retrieve_request(op.body)[0]
    return build_retrieve_response([DocumentPart(request, "text/xml", DocumentLocation(inline=b"<cda>1</cda>"))])


#: The main case of each transaction, keyed by TD; variants (other stored queries, return types) by name.
#: The XAdES document is an MTOM part, not in the body: golden bodies carry no key-dependent bytes.
_UNSIGNED: Final = b"<signature-placeholder/>"


def _feed(ctx: CallContext, *documents: feeding.FeedDocument) -> Operation[Any]:
    return feeding.draft_submission(ctx, documents, OPTIONS).operation(_UNSIGNED)


def _lifecycle(ctx: CallContext, action: lifecycle.LifecycleAction, entry: Any, **options: Any) -> Operation[Any]:
    patient = PatientRef(PATB_QUATRE, InsOid.TEST)
    return lifecycle.update_operation(ctx, patient, action, entry, author=AUTHOR, **options)[0]


CASES: Final[dict[str, GoldenCase]] = {
    case.spec.td: case
    for case in (
        GoldenCase(
            patients.TEST_EXISTENCE,
            lambda ctx: patients.test_existence(ctx, PATB_QUATRE, InsOid.TEST),
            lambda op: _patient_answer(
                op,
                ExistenceAnswer(
                    status=DmpStatus.ACTIVE,
                    authorization=AuthorizationStatus.VALIDE,
                    treating_physician=True,
                    patient=_PATIENT,
                    observations={"COMPTE_INTERNET_OUVERT": True, "RATTACHEMENT_ENS": True},
                ),
            ),
        ),
        GoldenCase(
            patients.ADMINISTRATIVE_DATA,
            lambda ctx: patients.administrative_data(ctx, _RECORD.ins, InsOid.TEST),
            lambda op: build_administrative_response(
                parse_patient_query(op.body), _RECORD, response_id="golden-response", now=GOLDEN_NOW
            ),
        ),
        GoldenCase(
            habilitations.SET_AUTHORIZATION,
            lambda ctx: habilitations.set_authorization(
                ctx, PATB_QUATRE, InsOid.TEST, action=AuthorizationAction.ADD, treating_physician=True
            ),
            lambda op: build_set_authorization_response(context="Médecin traitant déclaré"),
        ),
        GoldenCase(
            habilitations.LIST_AUTHORIZATIONS,
            lambda ctx: habilitations.list_authorizations(
                ctx, PATB_QUATRE, InsOid.TEST, mode=AuthorizationListMode.ALL
            ),
            lambda op: build_list_authorizations_response((_DOCTOR, _BLOCKED_STRUCTURE), context="2 autorisation(s)"),
        ),
        GoldenCase(
            patient_list.PATIENT_LIST,
            lambda ctx: patient_list.patient_list(
                ctx, since=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), date_type=PatientListDateType.LAST_AUTHORIZATION
            ),
            lambda op: build_patient_list_response((_LISTED,), context="1 DMP"),
        ),
        GoldenCase(
            patients.SEARCH_PATIENTS,
            lambda ctx: patients.search_patients(
                ctx,
                PatientSearch(
                    family="FIGATELLIX", given="CORSE", gender="M", birth_date=dt.date(1988, 10, 2), city="BASTIA"
                ),
            ),
            lambda op: build_search_response(
                parse_search(op.body), (_CANDIDATE,), total=1, response_id="golden-response", now=GOLDEN_NOW
            ),
        ),
        GoldenCase(
            patients.UPDATE_ADMINISTRATIVE_DATA,
            lambda ctx: patients.update_administrative_data(ctx, _UPDATE, _AUTHOR),
            lambda op: build_update_accepted(
                parse_update(op.body), DmpStatus.ACTIVE, response_id="golden-response", now=GOLDEN_NOW
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
        ),
        GoldenCase(
            feeding.PROVIDE_AND_REGISTER,
            lambda ctx: _feed(ctx, feeding.FeedDocument(content=cda(1))),
            lambda op: build_registry_response(),
        ),
        GoldenCase(
            lifecycle.UPDATE_DOCUMENT_SET,
            lambda ctx: _lifecycle(ctx, lifecycle.LifecycleAction.ARCHIVE, NEW_VERSION),
            lambda op: build_registry_response(),
        ),
        GoldenCase(
            repository.RETRIEVE,
            lambda ctx: repository.retrieve(ctx, PATB_QUATRE, InsOid.TEST, [ENTRY.unique_id]),
            _retrieved,
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
    ),
    "TD3.1-GetRelatedDocuments": GoldenCase(
        registry.STORED_QUERY,
        lambda ctx: registry.get_related_documents(ctx, PATB_QUATRE, InsOid.TEST, unique_id=ENTRY.unique_id),
        lambda op: build_query_response([ENTRY, NEW_VERSION, REPLACES]),
    ),
    "TD3.1-GetSubmissionSetAndContents": GoldenCase(
        registry.STORED_QUERY,
        lambda ctx: registry.get_submission_set_and_contents(
            ctx, PATB_QUATRE, InsOid.TEST, unique_id=SUBMISSION_SET.unique_id
        ),
        lambda op: build_query_response([SUBMISSION_SET, ENTRY, HAS_MEMBER]),
    ),
}

CASES |= {
    "TD2.1-new-version-two-documents": GoldenCase(
        feeding.PROVIDE_AND_REGISTER,
        lambda ctx: _feed(
            ctx,
            feeding.FeedDocument(
                content=cda(3, version=2, set_number=2, replaces=2),
                replaces="urn:uuid:8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d",
            ),
            feeding.FeedDocument(content=cda(4), visibility=Visibility(masked=True, invisible_to_patient=True)),
        ),
        lambda op: build_registry_response(
            errors=[
                RegistryErrorItem(
                    error_code="XDSExtraMetadataNotSaved",
                    code_context="slot ignoré",
                    location="1.2.250.1.999.888.2.1.7.4",
                    severity=WARNING,
                )
            ]
        ),
    ),
    "TD3.3-mask": GoldenCase(
        lifecycle.UPDATE_DOCUMENT_SET,
        lambda ctx: _lifecycle(ctx, lifecycle.LifecycleAction.MASK, NEW_VERSION),
        lambda op: build_registry_response(),
    ),
    "TD3.3-show-to-patient": GoldenCase(
        lifecycle.UPDATE_DOCUMENT_SET,
        lambda ctx: _lifecycle(ctx, lifecycle.LifecycleAction.SHOW, NEW_VERSION),
        lambda op: build_registry_response(),
    ),
    "TD3.3-delete": GoldenCase(
        lifecycle.UPDATE_DOCUMENT_SET,
        lambda ctx: _lifecycle(ctx, lifecycle.LifecycleAction.DELETE, NEW_VERSION),
        lambda op: build_registry_response(),
    ),
}
