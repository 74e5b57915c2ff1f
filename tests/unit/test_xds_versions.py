"""Versions (reference §7): the CDA header reader, the import rules as a decision table, the new-version plan."""

from __future__ import annotations

import datetime as dt

import pytest

from dmpclient.codes import Code
from dmpclient.errors import DmpProtocolError, DmpUnsafeXmlError
from dmpclient.xds.cda import CdaHeader, read_cda_header
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import Association, DocumentEntry
from dmpclient.xds.queries import FindDocuments, GetRelatedDocuments
from dmpclient.xds.results import QueryResult
from dmpclient.xds.versions import (
    ImportAction,
    ImportRule,
    KnownDocument,
    NewVersionSearch,
    VersionState,
    current_versions,
    decide_import,
)
from mock_server.seed.cda import CdaAuthor, CdaDocument, CdaPatient, NonXmlBody, build_cda

# A hand-written CDA header (French realm shape, reference §5.2 / §7.1), version 3 replacing 2.
CDA_V3 = b"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="FR"/>
  <id root="1.2.250.1.999.1.1.7898.4" extension="DOC-3"/>
  <code code="11490-0" codeSystem="2.16.840.1.113883.6.1" displayName="Lettre de liaison"/>
  <title> Lettre de liaison </title>
  <effectiveTime value="20240315101500+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <setId root="1.2.250.1.999.1.1.7898.4" extension="SET-1"/>
  <versionNumber value="3"/>
  <recordTarget><patientRole>
    <id root="1.2.250.1.213.1.4.10" extension="207058575627097"/>
    <id root="1.2.250.1.999.1.1.7898.9" extension="IPP12345"/>
  </patientRole></recordTarget>
  <relatedDocument typeCode="XFRM"><parentDocument><id root="9.9.9"/></parentDocument></relatedDocument>
  <relatedDocument typeCode="RPLC">
    <parentDocument><id root="1.2.250.1.999.1.1.7898.4" extension="DOC-2"/></parentDocument>
  </relatedDocument>
  <component><nonXMLBody><text mediaType="text/plain">x</text></nonXMLBody></component>
</ClinicalDocument>"""


def test_hand_written_header_is_read() -> None:
    header = read_cda_header(CDA_V3)
    assert header == CdaHeader(
        id="1.2.250.1.999.1.1.7898.4^DOC-3",
        set_id="1.2.250.1.999.1.1.7898.4^SET-1",
        version_number=3,
        replaces=("1.2.250.1.999.1.1.7898.4^DOC-2",),
        title="Lettre de liaison",
        type_code=Code("11490-0", "2.16.840.1.113883.6.1", "Lettre de liaison"),
        effective_time=dt.datetime(2024, 3, 15, 9, 15, tzinfo=dt.UTC),
        confidentiality_code="N",
        language_code="fr-FR",
        patient_ids=("1.2.250.1.213.1.4.10^207058575627097", "1.2.250.1.999.1.1.7898.9^IPP12345"),
    )


def test_the_mock_seed_cda_is_read() -> None:
    document = CdaDocument(
        document_id="1.2.250.1.999.5.2",
        set_id="1.2.250.1.999.5.1",
        version=2,
        type_code=Code("11488-4", "2.16.840.1.113883.6.1", "CR de consultation"),
        title="Consultation",
        effective_time=dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        patient=CdaPatient("207058575627097", "1.2.250.1.213.1.4.10", "PATB", "LAURENCE", "F", dt.date(1970, 5, 20)),
        author=CdaAuthor("899900063480", "LIBRE", "MAX", "10B0127189", "CENTRE"),
        body=NonXmlBody("text/plain", b"texte"),
        replaces="1.2.250.1.999.5.0",
    )
    header = read_cda_header(build_cda(document))
    assert (header.id, header.set_id, header.version_number, header.replaces) == (
        "1.2.250.1.999.5.2",
        "1.2.250.1.999.5.1",
        2,
        ("1.2.250.1.999.5.0",),
    )
    assert header.effective_time == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b'<!DOCTYPE x [<!ENTITY e "boom">]><ClinicalDocument xmlns="urn:hl7-org:v3"/>', DmpUnsafeXmlError, "DTD"),
        (b"<ClinicalDocument/>", DmpProtocolError, "not a CDA"),
        (b'<ClinicalDocument xmlns="urn:hl7-org:v3"><id extension="x"/></ClinicalDocument>', DmpProtocolError, "no id"),
        (b"\xff\xfe<not xml", DmpUnsafeXmlError, "not well-formed"),
    ],
)
def test_hostile_or_broken_documents_are_refused_clearly(data: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        read_cda_header(data)


def test_odd_version_numbers_count_as_absent() -> None:
    xml = b'<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2"/><versionNumber value="two"/></ClinicalDocument>'
    header = read_cda_header(xml)
    assert header.version_number is None
    assert (header.version_set, header.version) == ("1.2", 1)


# --- §7.2 decision table -----------------------------------------------------------------------


def _h(document_id: str, set_id: str | None, version: int | None, replaces: tuple[str, ...] = ()) -> CdaHeader:
    return CdaHeader(id=document_id, set_id=set_id, version_number=version, replaces=replaces)


V1 = _h("d1", "s", 1)
V2 = _h("d2", "s", 2)
V3 = _h("d3", "s", 3)


@pytest.mark.parametrize(
    ("candidate", "stored", "action", "rule", "current", "becomes_current"),
    [
        (V1, [], ImportAction.IMPORT, ImportRule.NEW_DOCUMENT, 1, True),
        (V1, [V1], ImportAction.REJECT, ImportRule.DUPLICATE_ID, 1, False),
        (_h("d1", "other", 9), [V1], ImportAction.REJECT, ImportRule.DUPLICATE_ID, 0, False),
        (_h("d9", "s", 2), [V1, V2], ImportAction.REJECT, ImportRule.DUPLICATE_VERSION, 2, False),
        (V3, [V1, V2], ImportAction.IMPORT, ImportRule.NEWER_VERSION, 3, True),
        (V2, [V1, V3], ImportAction.IMPORT, ImportRule.OLDER_VERSION, 3, False),  # late arrival: history only
        (_h("x", "other", 1), [V1], ImportAction.IMPORT, ImportRule.NEW_DOCUMENT, 1, True),
        (_h("d4", None, 4, replaces=("d3",)), [V1, V3], ImportAction.IMPORT, ImportRule.NEWER_VERSION, 4, True),
        (_h("lone", None, None), [], ImportAction.IMPORT, ImportRule.NEW_DOCUMENT, 1, True),
        (_h("lone2", None, None, replaces=("unknown",)), [V1], ImportAction.IMPORT, ImportRule.NEW_DOCUMENT, 1, True),
    ],
)
def test_import_rules(
    candidate: CdaHeader,
    stored: list[CdaHeader],
    action: ImportAction,
    rule: ImportRule,
    current: int,
    becomes_current: bool,
) -> None:
    decision = decide_import(candidate, stored)
    assert (decision.action, decision.rule, decision.current_version, decision.becomes_current) == (
        action,
        rule,
        current,
        becomes_current,
    )
    assert decision.explanation


def test_the_current_version_is_the_highest_whatever_the_arrival_order() -> None:
    assert current_versions([V3, V1, V2, _h("x", "t", 1)]) == {"s": V3, "t": _h("x", "t", 1)}


# --- the new-version plan ------------------------------------------------------------------------

PATIENT = Cx.patient("207058575627097", "1.2.250.1.213.1.4.10")
APPROVED = AvailabilityStatus.APPROVED
DEPRECATED = AvailabilityStatus.DEPRECATED


def _doc(entry_uuid: str, unique_id: str, status: AvailabilityStatus, lid: str | None = None) -> DocumentEntry:
    return DocumentEntry(entry_uuid=entry_uuid, unique_id=unique_id, status=status, logical_id=lid or entry_uuid)


def _rplc(new: str, old: str) -> Association:
    return Association(entry_uuid=f"a-{new}", association_type=AssociationType.RPLC, source=new, target=old)


def test_the_plan_asks_once_for_every_patient_and_once_per_replaced_chain() -> None:
    found = QueryResult(
        documents=(
            _doc("A1", "a1", DEPRECATED),
            _doc("A2", "a2", DEPRECATED),
            _doc("A3", "a3", APPROVED),
            _doc("B1", "b1", APPROVED),
            _doc("C1", "c1", DEPRECATED, lid="C"),
            _doc("C1b", "c1", APPROVED, lid="C"),
        )
    )
    known = [
        KnownDocument(unique_id="a1", entry_uuid="A1"),
        KnownDocument(unique_id="b1"),
        KnownDocument(unique_id="c1", entry_uuid="C1"),
        KnownDocument(unique_id="gone"),
        KnownDocument(unique_id="a2"),
    ]
    search = NewVersionSearch(PATIENT, known)
    first = search.first_query()
    assert first == FindDocuments(patient_id=PATIENT, status=(APPROVED, DEPRECATED))
    search.take_documents(found)
    related = search.next_query()
    assert related == GetRelatedDocuments(entry_uuid="A1", association_types=(AssociationType.RPLC,))
    chain = QueryResult(
        documents=(found.documents[0], found.documents[1], found.documents[2]),
        associations=(_rplc("A2", "A1"), _rplc("A3", "A2")),
    )
    search.take_related(chain)
    assert search.next_query() is None  # a2 was in the same chain: no second call
    report = search.report()
    assert report.round_trips == 2
    states = [(check.known.unique_id, check.state) for check in report.checks]
    assert states == [
        ("a1", VersionState.REPLACED),
        ("b1", VersionState.CURRENT),
        ("c1", VersionState.METADATA_UPDATED),
        ("gone", VersionState.NOT_FOUND),
        ("a2", VersionState.REPLACED),
    ]
    a1 = report.checks[0]
    assert [entry.unique_id for entry in a1.newer] == ["a2", "a3"]
    assert a1.current is not None
    assert a1.current.unique_id == "a3"
    c1 = report.checks[2].current
    assert c1 is not None
    assert c1.entry_uuid == "C1b"
    assert [check.known.unique_id for check in report.replaced] == ["a1", "a2"]


def test_nothing_replaced_costs_one_round_trip_and_loops_are_cut() -> None:
    search = NewVersionSearch(PATIENT, [KnownDocument(unique_id="b1")])
    search.take_documents(QueryResult(documents=(_doc("B1", "b1", APPROVED),)))
    assert search.next_query() is None
    assert search.report().round_trips == 1
    looping = NewVersionSearch(PATIENT, [KnownDocument(unique_id="x")])
    looping.take_documents(QueryResult(documents=(_doc("X", "x", DEPRECATED), _doc("Y", "y", DEPRECATED))))
    looping.take_related(
        QueryResult(
            documents=(_doc("X", "x", DEPRECATED), _doc("Y", "y", DEPRECATED)),
            associations=(_rplc("Y", "X"), _rplc("X", "Y")),
        )
    )
    check = looping.report().checks[0]
    assert [entry.entry_uuid for entry in check.newer] == ["Y"]
