"""ITI-18 stored queries: the value syntax (hostile values cannot alter a query), the fourteen typed queries,
the checks a registry makes (error codes), and the request element (query.xsd)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient._xml import parse_untrusted
from dmpclient.codes import Code
from dmpclient.errors import DmpValidationError
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import ReturnType
from dmpclient.xds.queries import (
    QUERIES,
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
    build_query_request,
    read_query_request,
)
from dmpclient.xds.query_syntax import QueryValueError, format_list, parse_values, quote
from dmpclient.xds.results import read_query_response
from tests.xsd import assert_valid

PATIENT = Cx.patient("207058575627097", "1.2.250.1.213.1.4.10")
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
QUERY_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
#: XML-safe text with every character that has a meaning in the query syntax, over-represented.
HOSTILE = st.text(
    st.sampled_from("'(),%_^&\\ \t\n\"`;=") | st.characters(blacklist_categories=("Cs", "Cc")),
    max_size=40,
)


# --- the value syntax ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "items"),
    [
        (
            ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"],
            ["urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"],
        ),
        (["('a', 'b' ,'c')"], ["a", "b", "c"]),
        (["('a')", "('b','c')"], ["a", "b", "c"]),  # several Value elements: one OR list
        (["'O''Brien'"], ["O'Brien"]),
        (["20240101"], ["20240101"]),
        (["(20240101, 20250101)"], ["20240101", "20250101"]),
        (["  'x'  "], ["x"]),
        (["('a,b)', '(c)')"], ["a,b)", "(c)"]),
        (["''"], [""]),
    ],
)
def test_hand_written_values_are_read(texts: list[str], items: list[str]) -> None:
    assert parse_values(texts) == items


@pytest.mark.parametrize("text", ["('a'", "'a", "('a' 'b')", "('a',)", "()", "'a' junk", "(a b)", "('a'))"])
def test_malformed_values_are_refused(text: str) -> None:
    with pytest.raises(QueryValueError):
        parse_values([text])


@given(st.lists(HOSTILE, min_size=1, max_size=20))
def test_hostile_values_come_back_exactly_and_as_many(values: list[str]) -> None:
    texts = format_list(values, name="$p")
    assert parse_values(texts) == values
    assert all(len(text) <= 256 for text in texts)


@given(HOSTILE)
def test_a_quoted_value_is_one_item_whatever_it_holds(value: str) -> None:
    assert parse_values([quote(value)]) == [value]


def test_long_lists_are_packed_into_values_of_at_most_256_characters() -> None:
    uuids = [f"urn:uuid:00000000-0000-4000-8000-{n:012d}" for n in range(40)]
    texts = format_list(uuids, name="$uuid")
    assert len(texts) > 1
    assert all(len(t) <= 256 and t.startswith("(") and t.endswith(")") for t in texts)
    assert parse_values(texts) == uuids
    with pytest.raises(DmpValidationError, match="does not fit"):
        format_list(["x" * 300], name="$uuid")


# --- the typed queries --------------------------------------------------------------------------

EXAMPLES: list[StoredQuery] = [
    FindDocuments(
        patient_id=PATIENT,
        status=(AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED),
        class_codes=["10", "11"],
        type_codes=[Code("11490-0", "2.16.840.1.113883.6.1")],
        practice_setting_codes=["ETABLISSEMENT"],
        healthcare_facility_type_codes=["SA01"],
        format_codes=["urn:ihe:iti:xds-sd:pdf:2008"],
        event_codes=[["BACA008^^1.2.250.1.213.2.5", "H33^^2.16.840.1.113883.6.3"], ["MR^^1.2.250.1.213.1.1.5.618"]],
        confidentiality_codes=["N"],
        author_persons=["899900063480%", "%LIBRE%"],
        created_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        created_to=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        service_start_from=dt.datetime(2023, 6, 1, tzinfo=dt.UTC),
        service_start_to=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
        service_stop_from=dt.datetime(2023, 7, 1, tzinfo=dt.UTC),
        service_stop_to=dt.datetime(2024, 7, 1, tzinfo=dt.UTC),
        object_types=["urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"],
    ),
    FindDocumentsByReferenceId(patient_id=PATIENT, reference_ids=["ACC1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession"]),
    FindSubmissionSets(
        patient_id=PATIENT,
        source_ids=["1.2.250.1.999.1.1.7898"],
        submitted_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        author_person="%LIBRE%",
        content_type_codes=["04"],
    ),
    FindFolders(patient_id=PATIENT, codes=[["a^^1.2"], ["b^^1.2"]], updated_to=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
    GetAll(patient_id=PATIENT, format_codes=["urn:ihe:iti:xds-sd:pdf:2008"]),
    GetDocuments(unique_ids=["1.2.3", "1.2.4"]),
    GetDocuments(entry_uuids=["urn:uuid:11111111-2222-4333-8444-555555555555"]),
    GetFolders(unique_ids=["1.2.5"]),
    GetAssociations(uuids=["urn:uuid:11111111-2222-4333-8444-555555555555"]),
    GetDocumentsAndAssociations(unique_ids=["1.2.3"]),
    GetSubmissionSets(uuids=["urn:uuid:11111111-2222-4333-8444-555555555555"]),
    GetSubmissionSetAndContents(unique_id="1.2.6", confidentiality_codes=[["N"], ["MASQUE_PS"]]),
    GetFolderAndContents(entry_uuid="urn:uuid:11111111-2222-4333-8444-555555555555"),
    GetFoldersForDocument(unique_id="1.2.3", home_community_id="urn:oid:1.2.3"),
    GetRelatedDocuments(unique_id="1.2.3"),
]


def test_all_fourteen_stored_queries_are_declared_with_the_ihe_ids() -> None:
    assert len(QUERIES) == 14
    assert QUERIES["urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"] is FindDocuments
    assert QUERIES["urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"] is GetRelatedDocuments
    assert {type(q) for q in EXAMPLES} == set(QUERIES.values())


@pytest.mark.parametrize("query", EXAMPLES, ids=lambda q: q.name)
@pytest.mark.parametrize("return_type", list(ReturnType))
def test_every_query_is_schema_valid_and_reads_back_equal(query: StoredQuery, return_type: ReturnType) -> None:
    element = build_query_request(query, return_type)
    assert_valid(element, "ebrs30/query.xsd")
    read = read_query_request(etree.fromstring(etree.tostring(element)))
    assert read.query == query
    assert read.return_type is return_type


def test_and_of_or_groups_repeat_the_slot() -> None:
    element = build_query_request(EXAMPLES[0])
    slots = [s for s in element.iter(f"{{{RIM}}}Slot") if s.get("name") == "$XDSDocumentEntryEventCodeList"]
    assert [[v.text for v in s.iter(f"{{{RIM}}}Value")] for s in slots] == [
        ["('BACA008^^1.2.250.1.213.2.5','H33^^2.16.840.1.113883.6.3')"],
        ["('MR^^1.2.250.1.213.1.1.5.618')"],
    ]


def test_codes_are_written_code_caret_caret_scheme_and_times_bare() -> None:
    element = build_query_request(EXAMPLES[0])
    values = {s.get("name"): [v.text for v in s.iter(f"{{{RIM}}}Value")] for s in element.iter(f"{{{RIM}}}Slot")}
    assert values["$XDSDocumentEntryClassCode"] == ["('10^^1.2.250.1.213.1.1.4.1','11^^1.2.250.1.213.1.1.4.1')"]
    assert values["$XDSDocumentEntryCreationTimeFrom"] == ["20240101000000"]
    assert values["$XDSDocumentEntryPatientId"] == ["'207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH'"]


@settings(max_examples=200)
@given(st.lists(HOSTILE, min_size=1, max_size=8), st.lists(HOSTILE, max_size=4))
def test_hostile_parameter_values_cannot_alter_the_query(unique_ids: list[str], patterns: list[str]) -> None:
    for query in (
        GetDocuments(unique_ids=unique_ids),
        FindDocuments(patient_id=PATIENT, author_persons=patterns),
        GetRelatedDocuments(unique_id=unique_ids[0] or "empty"),
    ):
        read = read_query_request(build_query_request(query)).query
        assert read == query
        assert type(read) is type(query)


@given(HOSTILE, HOSTILE)
def test_hostile_codes_round_trip(code: str, system: str) -> None:
    query = FindDocuments(patient_id=PATIENT, type_codes=[Code(code, system or "s")])
    assert read_query_request(build_query_request(query)).query == query


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (GetDocuments, "exactly one of"),
        (lambda: GetDocuments(unique_ids=["a"], entry_uuids=["b"]), "exactly one of"),
        (lambda: FindDocuments(patient_id=PATIENT, status=[]), "Status is required"),
        (lambda: FindDocuments(patient_id=PATIENT, class_codes=["99"]), "99 is not in JDV_J57"),
        (lambda: FindDocuments(patient_id=PATIENT, event_codes=["ZZZ999"]), "ZZZ999 is not in"),
        (lambda: FindFolders(patient_id=PATIENT, codes=["bare"]), "code\\^\\^system"),
        (lambda: FindDocuments(patient_id=PATIENT, created_from=dt.datetime(2024, 1, 1)), "timezone"),
        (lambda: GetAssociations(uuids=[]), "uuid is required"),
    ],
)
def test_invalid_queries_are_refused_before_sending(build: Any, message: str) -> None:
    with pytest.raises(DmpValidationError, match=message):
        build()


def test_statuses_and_association_types_become_enums_when_known() -> None:
    query = FindDocuments(patient_id=PATIENT, status=["urn:asip:ci-sis:2010:StatusType:Archived", "urn:x:Other"])
    assert query.status == (AvailabilityStatus.ARCHIVED, "urn:x:Other")
    assert GetRelatedDocuments(entry_uuid="u").association_types == (AssociationType.RPLC,)


# --- what the registry refuses (mock side of the same declaration) ------------------------------


def _request(query_id: str, slots: dict[str, list[str]] | list[tuple[str, list[str]]], **option: str) -> etree._Element:
    root = etree.Element(f"{{{QUERY_NS}}}AdhocQueryRequest")
    etree.SubElement(root, f"{{{QUERY_NS}}}ResponseOption", returnType=option.get("returnType", "LeafClass"))
    adhoc = etree.SubElement(root, f"{{{RIM}}}AdhocQuery", id=query_id)
    items = slots.items() if isinstance(slots, dict) else slots
    for name, texts in items:
        value_list = etree.SubElement(etree.SubElement(adhoc, f"{{{RIM}}}Slot", name=name), f"{{{RIM}}}ValueList")
        for text in texts:
            etree.SubElement(value_list, f"{{{RIM}}}Value").text = text
    return root


FIND = FindDocuments.QUERY_ID
PATIENT_SLOT = ("$XDSDocumentEntryPatientId", ["'207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH'"])
STATUS_SLOT = ("$XDSDocumentEntryStatus", ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"])


@pytest.mark.parametrize(
    ("request_element", "code", "parameter"),
    [
        (_request("urn:uuid:00000000-0000-4000-8000-000000000000", {}), "XDSUnknownStoredQuery", None),
        (_request(FIND, [PATIENT_SLOT]), "XDSStoredQueryMissingParam", "$XDSDocumentEntryStatus"),
        (_request(FIND, [STATUS_SLOT]), "XDSStoredQueryMissingParam", "$XDSDocumentEntryPatientId"),
        (
            _request(FIND, [PATIENT_SLOT, STATUS_SLOT, PATIENT_SLOT]),
            "XDSStoredQueryParamNumber",
            "$XDSDocumentEntryPatientId",
        ),
        (
            _request(FIND, [("$XDSDocumentEntryPatientId", ["('a','b')"]), STATUS_SLOT]),
            "XDSStoredQueryParamNumber",
            "$XDSDocumentEntryPatientId",
        ),
        (
            _request(FIND, [PATIENT_SLOT, STATUS_SLOT, ("$XDSDocumentEntryCreationTimeFrom", ["'yesterday'"])]),
            "XDSRegistryError",
            "$XDSDocumentEntryCreationTimeFrom",
        ),
        (
            _request(FIND, [PATIENT_SLOT, STATUS_SLOT, ("$XDSDocumentEntryClassCode", ["('10')"])]),
            "XDSRegistryError",
            "$XDSDocumentEntryClassCode",
        ),
        (
            _request(FIND, [PATIENT_SLOT, ("$XDSDocumentEntryStatus", ["('open"])]),
            "XDSRegistryError",
            "$XDSDocumentEntryStatus",
        ),
        (
            _request(
                GetDocuments.QUERY_ID,
                [("$XDSDocumentEntryUniqueId", ["('1')"]), ("$XDSDocumentEntryEntryUUID", ["('u')"])],
            ),
            "XDSStoredQueryParamNumber",
            None,
        ),
        (_request(GetDocuments.QUERY_ID, {}), "XDSStoredQueryMissingParam", None),
        (_request(FIND, [PATIENT_SLOT, STATUS_SLOT], returnType="Everything"), "XDSRegistryError", None),
    ],
)
def test_bad_requests_give_the_registry_error_code(
    request_element: etree._Element, code: str, parameter: str | None
) -> None:
    with pytest.raises(StoredQueryError) as caught:
        read_query_request(request_element)
    assert caught.value.error_code == code
    assert caught.value.parameter == parameter


def test_unknown_parameters_are_ignored_and_repeatable_ones_accumulate() -> None:
    confidentiality = ("$XDSDocumentEntryConfidentialityCode", ["('N^^2.16.840.1.113883.5.25')"])
    masked = ("$XDSDocumentEntryConfidentialityCode", ["('MASQUE_PS^^1.2.250.1.213.1.1.4.13')"])
    request = _request(FIND, [PATIENT_SLOT, STATUS_SLOT, ("$Unknown", ["'x'"]), confidentiality, masked])
    query = read_query_request(request).query
    assert isinstance(query, FindDocuments)
    assert [[c.code for c in group] for group in query.confidentiality_codes] == [["N"], ["MASQUE_PS"]]


@pytest.mark.parametrize(
    ("query", "slot"),
    [
        (FindDocuments, "$XDSDocumentEntryPatientId"),
        (FindSubmissionSets, "$XDSSubmissionSetPatientId"),
        (FindFolders, "$XDSFolderPatientId"),
    ],
)
def test_a_patient_id_from_a_registry_answer_is_queried_without_its_cx7_date(
    query: type[StoredQuery], slot: str
) -> None:
    """The registry returns the CX.7 date it stored (the hand-written answer has ``…^NH^^20240315``); queries
    send the patient id without it (reference §4.2)."""
    answer = (Path(__file__).parent.parent / "vectors" / "xds" / "find_documents_dmp_style.xml").read_bytes()
    patient = read_query_response(parse_untrusted(answer)).documents[0].patient_id
    assert patient is not None
    assert patient.effective_date == "20240315"
    element = build_query_request(query(patient_id=patient))
    values = {s.get("name"): [v.text for v in s.iter(f"{{{RIM}}}Value")] for s in element.iter(f"{{{RIM}}}Slot")}
    assert values[slot] == ["'207058575627097^^^&1.2.250.1.213.1.4.10&ISO^NH'"]
