"""TD3.1 / TD3.2 client ↔ mock: every stored query in both return types, sync and async, over real mutual TLS;
what each caller may see (document-level rights rows); registry errors; retrieval; new versions; the trace.

Expectations come from the mock's store read directly (not through the handlers under test).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree

from dmpclient import AsyncDmpClient, DmpClient, DmpConfig
from dmpclient.errors import (
    DmpRegistryError,
    DmpRightsError,
    DmpRightsPrecheckError,
    DmpTooManyResultsError,
    DmpValidationError,
)
from dmpclient.ids import DMP_REPOSITORY_OID
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import Actor, AuthMode, NonPsRole, PatientId, PurposeOfUse
from dmpclient.soap import mtom
from dmpclient.soap.envelope import read_soap
from dmpclient.soap.response import Response
from dmpclient.transactions import registry, repository
from dmpclient.transactions.operation import Operation
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import ReturnType
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
)
from dmpclient.xds.retrieve import DocumentRequest
from dmpclient.xds.versions import KnownDocument, VersionState
from mock_server.app import MockDmp
from mock_server.handlers import default_router
from mock_server.inprocess import InProcessTransport
from mock_server.runtime import MockRuntime
from mock_server.store import Store
from mock_server.store.records import DocumentRow, Outcome
from tests.mock_server.conftest import AIR_DOCTOR, DOCTOR, PATB_QUATRE, TEST_OID, identity
from tests.xsd import assert_valid

ALL = tuple(AvailabilityStatus)
APPROVED = AvailabilityStatus.APPROVED
DEPRECATED = AvailabilityStatus.DEPRECATED
EMERGENCY = "213102288044517"  # the seed masks two of her documents and lets emergency access see them
OTHER_DOCTOR = Actor.professional("899900012345", name="AUTRE MEDECIN", profession="10", specialty="SM26")


def _rows(store: Store, ins: str, statuses: tuple[AvailabilityStatus, ...] = (APPROVED,)) -> list[DocumentRow]:
    return store.find_documents(ins, statuses=statuses)


def _queries(store: Store) -> dict[str, StoredQuery]:
    """One query of each of the fourteen kinds, on PATB-QUATRE's data."""
    patient = Cx.patient(PATB_QUATRE, TEST_OID)
    approved = _rows(store, PATB_QUATRE)
    deprecated = _rows(store, PATB_QUATRE, (DEPRECATED,))
    first = approved[0]
    submission_set = first.submission_set_id or ""
    return {
        "FindDocuments": FindDocuments(patient_id=patient, status=(APPROVED, DEPRECATED)),
        "FindDocumentsByReferenceId": FindDocumentsByReferenceId(patient_id=patient, reference_ids=["ACC-1"]),
        "FindSubmissionSets": FindSubmissionSets(patient_id=patient),
        "FindFolders": FindFolders(patient_id=patient),
        "GetAll": GetAll(patient_id=patient),
        "GetDocuments": GetDocuments(unique_ids=[row.unique_id for row in approved[:3]]),
        "GetFolders": GetFolders(unique_ids=["1.2.250.1.999.0"]),
        "GetAssociations": GetAssociations(uuids=[first.entry_uuid]),
        "GetDocumentsAndAssociations": GetDocumentsAndAssociations(entry_uuids=[first.entry_uuid]),
        "GetSubmissionSets": GetSubmissionSets(uuids=[first.entry_uuid]),
        "GetSubmissionSetAndContents": GetSubmissionSetAndContents(entry_uuid=submission_set),
        "GetFolderAndContents": GetFolderAndContents(unique_id="1.2.250.1.999.0"),
        "GetFoldersForDocument": GetFoldersForDocument(unique_id=first.unique_id),
        "GetRelatedDocuments": GetRelatedDocuments(entry_uuid=deprecated[0].entry_uuid),
    }


EMPTY = {"FindDocumentsByReferenceId", "FindFolders", "GetFolders", "GetFolderAndContents", "GetFoldersForDocument"}


@pytest.fixture(scope="module")
def queries(mock_runtime: MockRuntime) -> dict[str, StoredQuery]:
    return _queries(mock_runtime.store)


NAMES = sorted(
    EMPTY
    | {
        "FindDocuments",
        "FindSubmissionSets",
        "GetAll",
        "GetDocuments",
        "GetAssociations",
        "GetDocumentsAndAssociations",
        "GetSubmissionSets",
        "GetSubmissionSetAndContents",
        "GetRelatedDocuments",
    }
)


def test_the_fourteen_queries_are_exercised(queries: dict[str, StoredQuery]) -> None:
    assert sorted(queries) == NAMES
    assert len(NAMES) == 14


@pytest.mark.parametrize("name", NAMES)
def test_every_stored_query_both_return_types_sync_over_mtls(
    name: str, queries: dict[str, StoredQuery], client: DmpClient, mock_runtime: MockRuntime
) -> None:
    query = queries[name]
    leaf = client.query(query, AIR_DOCTOR, ins=PATB_QUATRE, ins_oid=TEST_OID)
    refs = client.query(query, AIR_DOCTOR, ins=PATB_QUATRE, ins_oid=TEST_OID, return_type=ReturnType.OBJECT_REF)
    leaf_ids = [o.entry_uuid for o in (*leaf.documents, *leaf.submission_sets, *leaf.associations)]
    assert sorted(ref.id for ref in refs.references) == sorted(leaf_ids)
    assert refs.documents == ()
    assert bool(leaf_ids) is (name not in EMPTY)
    patient = Cx.patient(PATB_QUATRE, TEST_OID)
    assert all(doc.patient_id is not None and doc.patient_id.same_identity(patient) for doc in leaf.documents)
    assert all(s.patient_id is not None and s.patient_id.same_identity(patient) for s in leaf.submission_sets)
    store = mock_runtime.store
    if name == "FindDocuments":  # the MT sees all her Approved and Deprecated entries
        expected = {row.entry_uuid for row in _rows(store, PATB_QUATRE, (APPROVED, DEPRECATED))}
        assert set(leaf_ids) == expected
    if name == "GetRelatedDocuments":
        assert {a.association_type for a in leaf.associations} == {AssociationType.RPLC}
        assert len(leaf.documents) == len(leaf.associations) + 1


async def test_every_stored_query_both_return_types_async_over_mtls(
    queries: dict[str, StoredQuery], mock_config: DmpConfig
) -> None:
    async with AsyncDmpClient(mock_config) as dmp:
        for name, query in queries.items():
            leaf = await dmp.query(query, AIR_DOCTOR, ins=PATB_QUATRE, ins_oid=TEST_OID)
            refs = await dmp.query(
                query, AIR_DOCTOR, ins=PATB_QUATRE, ins_oid=TEST_OID, return_type=ReturnType.OBJECT_REF
            )
            ids = [o.entry_uuid for o in (*leaf.documents, *leaf.submission_sets, *leaf.associations)]
            assert sorted(ref.id for ref in refs.references) == sorted(ids), name
            assert bool(ids) is (name not in EMPTY), name


def test_find_documents_filters_match_the_store(client: DmpClient, mock_runtime: MockRuntime) -> None:
    rows = _rows(mock_runtime.store, PATB_QUATRE)
    class_code = rows[0].metadata.class_code
    found = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, class_codes=[class_code])
    assert {d.entry_uuid for d in found.documents} == {
        r.entry_uuid for r in rows if r.metadata.class_code == class_code
    }
    middle = sorted(r.metadata.creation_time for r in rows)[len(rows) // 2]
    recent = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, created_from=middle)
    assert {d.entry_uuid for d in recent.documents} == {
        r.entry_uuid for r in rows if r.metadata.creation_time >= middle
    }
    author = rows[0].metadata.author.id
    by_author = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, author_persons=[f"{author}^%"])
    assert {d.entry_uuid for d in by_author.documents} == {r.entry_uuid for r in rows if r.metadata.author.id == author}
    literal = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, author_persons=["%'%"])
    assert literal.documents == ()
    both = client.find_documents(
        PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, confidentiality_codes=[["N"], ["MASQUE_PS"]]
    )
    assert {d.entry_uuid for d in both.documents} == {r.entry_uuid for r in rows if r.masked_to_ps}
    either = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, confidentiality_codes=["N", "MASQUE_PS"])
    assert len(either.documents) == len(rows)


def _visible_ids(client: DmpClient, ins: str, who: object) -> set[str]:
    result = client.find_documents(ins, who, ins_oid=TEST_OID, status=ALL)  # type: ignore[arg-type]
    return {d.entry_uuid for d in result.documents}


def test_masked_documents_only_for_their_author_the_mt_or_allowed_emergency(
    client: DmpClient, mock_runtime: MockRuntime
) -> None:
    store = mock_runtime.store
    rows = _rows(store, EMERGENCY, ALL)
    masked = {r.entry_uuid for r in rows if r.masked_to_ps}
    assert masked, "the seed masks documents of this patient"
    other = identity(OTHER_DOCTOR)
    assert _visible_ids(client, EMERGENCY, other) == {r.entry_uuid for r in rows} - masked
    author_row = next(r for r in rows if r.masked_to_ps)
    author = Actor.professional(author_row.metadata.author.id, name="AUTEUR", profession="10", specialty="SM26")
    own = _visible_ids(client, EMERGENCY, identity(author))
    assert author_row.entry_uuid in own
    assert own & masked == {r.entry_uuid for r in rows if r.masked_to_ps and r.metadata.author.id == author.national_id}
    emergency = identity(OTHER_DOCTOR, purpose=PurposeOfUse.BRIS_DE_GLACE)
    assert _visible_ids(client, EMERGENCY, emergency) == {r.entry_uuid for r in rows}  # the patient allowed it
    hidden = next(r for r in rows if r.masked_to_ps and r.metadata.author.id != OTHER_DOCTOR.national_id)
    with pytest.raises(DmpRegistryError, match="LocalPolicyRestrictionError") as caught:
        client.retrieve_document(EMERGENCY, other, hidden.unique_id, ins_oid=TEST_OID)
    assert "note 6" in caught.value.errors[0].code_context or "autre auteur" in caught.value.errors[0].code_context
    assert client.retrieve_document(EMERGENCY, emergency, hidden.unique_id, ins_oid=TEST_OID).size == hidden.size


def test_masked_documents_are_hidden_in_emergency_when_the_patient_did_not_allow_it(
    client: DmpClient, mock_runtime: MockRuntime
) -> None:
    store = mock_runtime.store
    patient = next(
        p.ins
        for p in store.list_patients()
        if not p.masked_visible_in_emergency
        and not p.opposition_bris_de_glace
        and any(r.masked_to_ps for r in _rows(store, p.ins, ALL))
    )
    rows = _rows(store, patient, ALL)
    emergency = identity(OTHER_DOCTOR, purpose=PurposeOfUse.BRIS_DE_GLACE)
    own_masked = {r.entry_uuid for r in rows if r.masked_to_ps and r.metadata.author.id == OTHER_DOCTOR.national_id}
    assert _visible_ids(client, patient, emergency) == {r.entry_uuid for r in rows if not r.masked_to_ps} | own_masked


def test_indirect_and_staff_callers_only_search_references_of_their_structure(
    client: DmpClient, mock_runtime: MockRuntime
) -> None:
    establishment = identity(DOCTOR, mode=AuthMode.INDIRECTE)
    with pytest.raises(DmpRightsPrecheckError, match=r"TD3\.1a"):
        client.find_documents(PATB_QUATRE, establishment, ins_oid=TEST_OID)
    op = registry.find_documents(client.context, PATB_QUATRE, TEST_OID)
    with pytest.raises(DmpRightsError, match="Rechercher les métadonnées"):
        client.execute(op, establishment, precheck=False)
    staff = identity(Actor.device("899900063480", name="SECRETARIAT", kind=NonPsRole.SECRETARIAT_MEDICAL))
    structure = client.config.structure.id
    rows = _rows(mock_runtime.store, PATB_QUATRE, ALL)
    mine = {r.entry_uuid for r in rows if r.metadata.author.structure_id == structure}
    assert mine, "the seed has documents authored in the test structure"
    assert mine != {r.entry_uuid for r in rows}
    for caller in (establishment, staff):
        refs = client.find_documents(
            PATB_QUATRE, caller, ins_oid=TEST_OID, status=ALL, return_type=ReturnType.OBJECT_REF
        )
        assert set(refs.entry_uuids) == mine


def test_queries_never_leave_the_vihf_patient(client: DmpClient, mock_runtime: MockRuntime) -> None:
    foreign = _rows(mock_runtime.store, EMERGENCY)[0]
    result = client.get_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, unique_ids=[foreign.unique_id])
    assert result.documents == ()
    with pytest.raises(DmpRegistryError, match="XDSDocumentUniqueIdError"):
        client.retrieve_document(PATB_QUATRE, AIR_DOCTOR, foreign.unique_id, ins_oid=TEST_OID)


def test_retrieve_several_documents_streamed_and_checked(
    client: DmpClient, tmp_path: Path, mock_runtime: MockRuntime
) -> None:
    entries = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID).documents[:3]
    result = client.retrieve_documents(PATB_QUATRE, AIR_DOCTOR, entries, ins_oid=TEST_OID, out_dir=tmp_path)
    assert [d.document_unique_id for d in result.documents] == [e.unique_id for e in entries]
    for document, entry in zip(result.documents, entries, strict=True):
        assert document.path is not None
        data = document.path.read_bytes()
        assert hashlib.sha1(data).hexdigest() == entry.hash == document.hash
        assert len(data) == entry.size
        assert data == mock_runtime.store.get_content(entry.unique_id)
        assert document.mime_type == entry.mime_type


def test_retrieve_partial_and_unknown_documents(client: DmpClient) -> None:
    entry = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID).documents[0]
    targets = [
        entry,
        "1.2.250.1.999.404",
        entry.entry_uuid,  # an entryUUID is not a uniqueId (reference §3.16)
        DocumentRequest(document_unique_id=entry.unique_id, repository_unique_id="1.2.3"),
    ]
    result = client.retrieve_documents(PATB_QUATRE, AIR_DOCTOR, targets, ins_oid=TEST_OID)
    assert result.partial
    assert [d.document_unique_id for d in result.documents] == [entry.unique_id]
    assert [(e.error_code, e.location) for e in result.errors] == [
        ("XDSDocumentUniqueIdError", "1.2.250.1.999.404"),
        ("XDSDocumentUniqueIdError", entry.entry_uuid),
        ("XDSUnknownRepositoryId", entry.unique_id),
    ]
    assert result.documents[0].repository_unique_id == DMP_REPOSITORY_OID


async def test_async_retrieve_to_a_path(mock_config: DmpConfig, tmp_path: Path) -> None:
    async with AsyncDmpClient(mock_config) as dmp:
        entry = (await dmp.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID)).documents[0]
        document = await dmp.retrieve_document(PATB_QUATRE, AIR_DOCTOR, entry, ins_oid=TEST_OID, out=tmp_path / "d")
    assert (tmp_path / "d").stat().st_size == entry.size == document.size


def test_find_new_versions_costs_one_round_trip_plus_one_per_replaced_chain(client: DmpClient) -> None:
    current = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID).documents
    report = client.find_new_versions(
        PATB_QUATRE, AIR_DOCTOR, [KnownDocument.of(entry) for entry in current], ins_oid=TEST_OID
    )
    assert report.round_trips == 1
    assert {check.state for check in report.checks} == {VersionState.CURRENT}
    chain = client.get_related_documents(
        PATB_QUATRE,
        AIR_DOCTOR,
        ins_oid=TEST_OID,
        entry_uuid=client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID, status=[DEPRECATED])
        .documents[0]
        .entry_uuid,
    )
    oldest = next(d for d in chain.documents if d.entry_uuid not in {a.source for a in chain.associations})
    newest = next(d for d in chain.documents if d.entry_uuid not in {a.target for a in chain.associations})
    report = client.find_new_versions(
        PATB_QUATRE, AIR_DOCTOR, [KnownDocument.of(oldest), KnownDocument.of(current[0])], ins_oid=TEST_OID
    )
    assert report.round_trips == 2
    replaced, still = report.checks
    assert replaced.state is VersionState.REPLACED
    assert replaced.current is not None
    assert replaced.current.entry_uuid == newest.entry_uuid
    assert still.state is VersionState.CURRENT


# --- registry errors and the trace (in process: the same app, a small result limit) ------------


@pytest.fixture
def small_limit(mock_runtime: MockRuntime, pki: TestPki) -> Iterator[DmpClient]:
    app = MockDmp(mock_runtime.store, mock_runtime.app.gate, default_router(max_query_results=3))
    certificate = load_pem(pki.org_auth.cert, pki.org_auth.key).certificate
    with DmpClient(DmpConfig.for_test_pki(pki), transport=InProcessTransport(app, certificate)) as dmp:
        yield dmp


def test_too_many_results_is_refused_with_advice(small_limit: DmpClient) -> None:
    with pytest.raises(DmpTooManyResultsError, match="narrow the query") as caught:
        small_limit.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID)
    assert caught.value.errors[0].error_code == "XDSTooManyResults"


def _raw_query(client: DmpClient, body: etree._Element) -> bytes:
    patient = PatientId(ins=PATB_QUATRE, oid=TEST_OID)
    assertion = client.vihf_issuer.issue(AIR_DOCTOR, patient, now=dt.datetime.now(dt.UTC))
    with client.call(
        "registry", body, action=registry.STORED_QUERY.request_action, td="TD3.1", assertion=assertion, idempotent=True
    ) as response:
        return etree.tostring(response.message.envelope)


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda adhoc: adhoc.set("id", "urn:uuid:00000000-0000-4000-8000-000000000000"), "XDSUnknownStoredQuery"),
        (lambda adhoc: adhoc.remove(adhoc[-1]), "XDSStoredQueryMissingParam"),
        (lambda adhoc: adhoc.append(etree.fromstring(etree.tostring(adhoc[0]))), "XDSStoredQueryParamNumber"),
        (lambda adhoc: setattr(adhoc[-1][0][0], "text", "('broken"), "XDSRegistryError"),
    ],
)
def test_bad_requests_get_registry_errors(
    small_limit: DmpClient, edit: Callable[[etree._Element], object], code: str
) -> None:
    body = registry.find_documents(small_limit.context, PATB_QUATRE, TEST_OID).body
    edit(body[1])
    envelope = read_soap(_raw_query(small_limit, body))
    assert envelope.body is not None
    with pytest.raises(DmpRegistryError) as caught:
        registry.STORED_QUERY.decode(Response(envelope, None, 200))
    assert caught.value.errors[0].error_code == code


def test_a_query_without_patient_needs_an_ins(client: DmpClient) -> None:
    with pytest.raises(DmpValidationError, match="names no patient"):
        client.query(GetDocuments(unique_ids=["1.2"]), AIR_DOCTOR)


def test_every_consultation_is_traced(client: DmpClient, mock_runtime: MockRuntime) -> None:
    entry = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID).documents[0]
    client.retrieve_document(PATB_QUATRE, AIR_DOCTOR, entry, ins_oid=TEST_OID)
    with pytest.raises(DmpRegistryError):
        client.retrieve_document(PATB_QUATRE, AIR_DOCTOR, "1.2.250.1.999.404", ins_oid=TEST_OID)
    trace = mock_runtime.store.access_trace(patient=PATB_QUATRE, limit=3)
    assert [(t.td, t.outcome) for t in reversed(trace)] == [
        ("TD3.1", Outcome.ALLOWED),
        ("TD3.2", Outcome.ALLOWED),
        ("TD3.2", Outcome.ERROR),
    ]
    assert entry.unique_id in (trace[1].detail or "")
    assert "XDSDocumentUniqueIdError" in (trace[0].detail or "")
    assert all(t.ps_id == DOCTOR.national_id and t.auth_mode == "INDIRECTE_RENFORCEE" for t in trace)


def _raw_call(client: DmpClient, op: Operation[object]) -> Response:
    patient = PatientId(ins=PATB_QUATRE, oid=TEST_OID)
    assertion = client.vihf_issuer.issue(AIR_DOCTOR, patient, now=dt.datetime.now(dt.UTC))
    spec = op.spec
    return client.call(
        spec.service, op.body, action=spec.request_action, td=spec.td, assertion=assertion, idempotent=True
    )


def test_the_mocks_real_answers_validate_against_the_xsds(client: DmpClient) -> None:
    """Answers built from seeded data (extra slots, masked entries, several statuses), not only golden ones."""
    query = registry.find_documents(client.context, PATB_QUATRE, TEST_OID, status=ALL)
    with _raw_call(client, query) as answer:
        assert answer.message.body is not None
        assert len(answer.message.body.findall(".//{*}ExtrinsicObject")) > 20
        assert_valid(answer.message.body, "ebrs30/query.xsd")
    entries = client.find_documents(PATB_QUATRE, AIR_DOCTOR, ins_oid=TEST_OID).documents[:2]
    retrieve = repository.retrieve(client.context, PATB_QUATRE, TEST_OID, [*entries, "1.2.250.1.999.404"])
    with _raw_call(client, retrieve) as answer:
        body = answer.message.body
        assert body is not None
        assert answer.attachments is not None
        assert len(answer.attachments.attachments) == 2
        mtom.inline_xop(body, answer.attachments)  # XOP-decoded: the form the schema describes
        assert_valid(body, "ihe/XDS.b_DocumentRepository.xsd")
