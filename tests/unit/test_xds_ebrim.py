"""The ebRIM codec: hand-written DMP-shaped vectors read field by field, strict schema-valid output, round trips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from dmpclient import parse_untrusted
from dmpclient.codes import Code
from dmpclient.errors import DmpValidationError
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.ebrim import (
    association_element,
    document_entry_element,
    read_registry_objects,
    registry_object_list,
    submission_set_element,
)
from dmpclient.xds.identifiers import Cx, Xcn, Xon
from dmpclient.xds.models import (
    Association,
    Author,
    Classification,
    DocumentEntry,
    ExternalIdentifier,
    Slot,
    SubmissionSet,
)
from tests.xds_samples import ENTRY, HAS_MEMBER, NEW_VERSION, REPLACES, SUBMISSION_SET
from tests.xsd import assert_valid

VECTORS = Path(__file__).parent.parent / "vectors" / "xds"
RIM_XSD = "ebrs30/rim.xsd"


def _vector(name: str) -> etree._Element:
    return parse_untrusted((VECTORS / name).read_bytes())


def test_dmp_style_entry_is_read_field_by_field() -> None:
    objects = read_registry_objects(_vector("find_documents_dmp_style.xml"))
    assert len(objects.documents) == 2
    entry = objects.documents[0]
    assert entry.entry_uuid == entry.logical_id == "urn:uuid:11111111-2222-4333-8444-555555555555"
    assert entry.version == "1"
    assert entry.version_number == 1
    assert entry.unique_id == "1.2.250.1.999.1.1.7898.4^42"
    assert entry.patient_id == Cx(
        id="207058575627097", assigning_authority="1.2.250.1.213.1.4.10", id_type="NH", effective_date="20240315"
    )
    assert entry.status is AvailabilityStatus.APPROVED
    assert entry.mime_type == "text/xml"
    assert entry.title == "Lettre de liaison à la sortie"
    assert entry.comments is None  # an empty rim:Description
    assert entry.class_code == Code("11", "1.2.250.1.213.1.1.4.1", "Synthèse")
    assert entry.type_code == Code(
        "11490-0", "2.16.840.1.113883.6.1", "Lettre de liaison à la sortie d'un établissement de soins"
    )
    assert entry.format_code == Code(
        "urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "Document à corps non structuré en PDF/A-1"
    )
    assert entry.healthcare_facility_type_code == Code("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
    assert entry.practice_setting_code == Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Etablissement de santé")
    assert [c.code for c in entry.confidentiality_codes] == ["N", "INVISIBLE_PATIENT"]
    assert entry.event_codes == (Code("H33", "2.16.840.1.113883.6.3", "Décollement de la rétine"),)
    assert not entry.is_masked
    assert not entry.is_visible_to_patient
    assert entry.is_visible_to_legal_representatives
    assert entry.creation_time == dt.datetime(2024, 3, 15, 10, 15, tzinfo=dt.UTC)
    assert entry.service_start_time == dt.datetime(2024, 3, 14, 8, 0, tzinfo=dt.UTC)
    assert entry.service_stop_time == dt.datetime(2024, 3, 15, tzinfo=dt.UTC)
    assert entry.hash == "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3"
    assert entry.size == 4
    assert entry.language_code == "fr-FR"
    assert entry.repository_unique_id == "1.2.250.1.213.4.1.1.1.2"
    assert entry.source_patient_id == Cx.patient("207058575627097", "1.2.250.1.213.1.4.10")
    assert entry.source_patient_info == ("PID-5|PATB-QUATRE^LAURENCE^^^^^L", "PID-7|19700520", "PID-8|F")
    assert entry.legal_authenticator is not None
    assert entry.legal_authenticator.id == "899900063480"
    author = entry.author
    assert author is not None
    assert author.id == "899900063480"
    assert author.person is not None
    assert (author.person.family, author.person.given, author.person.id_type) == ("LIBRE", "MAX", "IDNPS")
    assert author.structure_id == "10B0167011"
    assert author.institutions[0].name == "CENTRE HOSPITALIER DU VAL FLEURI"
    assert author.specialties == (
        Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)"),
    )
    assert entry.extra_slots == (Slot(name="urn:example:unknownSlot", values=("kept", "as is")),)
    assert [(c.scheme, c.code, c.coding_scheme, c.display) for c in entry.extra_classifications] == [
        ("urn:uuid:00000000-0000-4000-8000-0000000000ff", "X1", "1.2.3.4", "Classification inconnue")
    ]


def test_second_entry_default_namespace_offset_time_and_malformed_size() -> None:
    entry = read_registry_objects(_vector("find_documents_dmp_style.xml")).documents[1]
    assert entry.status is AvailabilityStatus.ARCHIVED
    assert entry.creation_time == dt.datetime(2023, 1, 2, 2, 4, 5, tzinfo=dt.UTC)
    assert entry.size is None
    assert Slot(name="size", values=("not-a-number",)) in entry.extra_slots
    assert entry.is_masked
    assert entry.patient_id is None
    assert entry.title == "Compte rendu masqué"
    assert entry.extra_identifiers == (
        ExternalIdentifier(
            scheme="urn:uuid:00000000-0000-4000-8000-0000000000ee",
            value="other-id",
            id="urn:uuid:bbbbbbbb-0000-4000-8000-000000000004",
        ),
    )


def test_loose_marker_attaches_the_package_as_a_submission_set() -> None:
    objects = read_registry_objects(_vector("submission_set_and_contents.xml"))
    assert objects.warnings == ()
    (submission_set,) = objects.submission_sets
    assert submission_set.entry_uuid == "urn:uuid:33333333-4444-4555-8666-777777777777"
    assert submission_set.unique_id == "1.2.250.1.999.1.1.7898.3"
    assert submission_set.source_id == "1.2.250.1.999.1.1.7898"
    assert submission_set.patient_id == Cx.patient("207058575627097", "1.2.250.1.213.1.4.10")
    assert submission_set.submission_time == dt.datetime(2024, 3, 15, 10, 30, tzinfo=dt.UTC)
    assert submission_set.content_type_code == Code("04", "1.2.250.1.213.2.2", "Hospitalisation de jour")
    assert submission_set.intended_recipients == ("^DUPONT^JEAN",)
    assert submission_set.title == "Sortie d'hospitalisation"
    assert submission_set.extra_classifications == ()
    has_member, replaces, transform = objects.associations
    assert has_member.association_type is AssociationType.HAS_MEMBER
    assert has_member.submission_set_status == "Original"
    assert replaces.association_type is AssociationType.RPLC  # the 2010 URN, read as the DMP's RPLC
    assert replaces.is_replacement
    assert transform.association_type == "urn:ihe:iti:2007:AssociationType:XFRM"
    assert [ref.id for ref in objects.references] == ["urn:uuid:77777777-8888-4999-8aaa-bbbbbbbbbbbb"]


def test_an_unmarked_package_and_unknown_elements_are_reported_not_fatal() -> None:
    rim = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
    xml = (
        f'<rim:RegistryObjectList xmlns:rim="{rim}"><!-- c --><rim:RegistryPackage id="p1"/>'
        '<rim:Federation id="f"/><other xmlns="urn:x"/></rim:RegistryObjectList>'
    )
    objects = read_registry_objects(etree.fromstring(xml))
    assert len(objects) == 0
    assert len(objects.warnings) == 3


@pytest.mark.parametrize("item", [ENTRY, NEW_VERSION, SUBMISSION_SET, HAS_MEMBER, REPLACES], ids=type)
def test_our_output_is_schema_valid_and_reads_back_equal(item: Any) -> None:
    element = registry_object_list([item])
    assert_valid(element, RIM_XSD)
    objects = read_registry_objects(element)
    assert [*objects.documents, *objects.submission_sets, *objects.associations] == [item]


def test_symbolic_ids_of_a_submission_are_allowed_and_nested_ids_derive_from_them() -> None:
    entry = ENTRY.model_copy(update={"entry_uuid": "Document01", "logical_id": None, "version": None, "status": None})
    element = document_entry_element(entry)
    assert_valid(element, RIM_XSD)
    ids = [child.get("id") for child in element if child.get("id")]
    assert ids[0] == "Document01-cl1"
    assert all(i.startswith("Document01-") for i in ids)
    assert element.find("{*}VersionInfo") is None
    assert element.get("status") is None
    for child in element.iterfind("{*}Classification"):
        assert child.get("classifiedObject") == "Document01"
    package = submission_set_element(SUBMISSION_SET.model_copy(update={"entry_uuid": "SubmissionSet01"}))
    marker = [c for c in package.iterfind("{*}Classification") if c.get("classificationNode")]
    assert [m.get("classificationNode") for m in marker] == ["urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"]


def test_same_object_gives_the_same_bytes() -> None:
    assert etree.tostring(document_entry_element(ENTRY)) == etree.tostring(document_entry_element(ENTRY))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "x" * 1025}, "at most 1024"),
        ({"hash": "a" * 257}, "exceeds 256"),
        ({"title": "bell\x07"}, "XML cannot carry"),
        ({"creation_time": dt.datetime(2024, 1, 1)}, "timezone-aware"),
        ({"unique_id": ""}, "unique_id: required"),
        ({"entry_uuid": ""}, "needs an id"),
        ({"logical_id": "100%"}, "not a URI"),
    ],
)
def test_output_refuses_what_the_schema_or_xml_would_refuse(change: dict[str, Any], message: str) -> None:
    with pytest.raises(DmpValidationError, match=message):
        document_entry_element(ENTRY.model_copy(update=change))


def test_association_needs_both_ends() -> None:
    with pytest.raises(DmpValidationError, match="target"):
        association_element(HAS_MEMBER.model_copy(update={"target": ""}))


@pytest.mark.parametrize(
    "association",
    [
        HAS_MEMBER,
        REPLACES,
        Association(
            entry_uuid="a1",
            association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
            source="SubmissionSet01",
            target="urn:uuid:8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d",
            original_status=AvailabilityStatus.APPROVED.value,
            new_status=AvailabilityStatus.ARCHIVED.value,
        ),
    ],
    ids=["HasMember", "RPLC", "UpdateAvailabilityStatus"],
)
def test_every_association_carries_the_ebrim_object_type(association: Association) -> None:
    """Reference §6.1 (the UpdateAvailabilityStatus skeleton); ebRIM's objectType of any Association."""
    element = association_element(association)
    assert element.get("objectType") == "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"


# --- hypothesis round trips ---------------------------------------------------------------------

SAFE = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
WORD = st.text(SAFE, min_size=1, max_size=12)
TEXT = st.text(SAFE, max_size=40)
NAMES = st.text(SAFE, max_size=12).map(str.strip)
TIMES = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).map(lambda moment: moment.replace(microsecond=0))
CODES = st.builds(Code, WORD, WORD, TEXT)
PERSONS = st.builds(Xcn, id=NAMES, family=NAMES, given=NAMES, assigning_authority=NAMES, id_type=NAMES)
AUTHORS = st.builds(
    Author,
    person=st.none() | PERSONS,
    institutions=st.lists(st.builds(Xon, name=NAMES, assigning_authority=NAMES, id=NAMES), max_size=2).map(tuple),
    roles=st.lists(st.builds(Code, NAMES, NAMES, NAMES), max_size=2).map(tuple),
    specialties=st.lists(st.builds(Code, NAMES, NAMES, NAMES), max_size=2).map(tuple),
    telecommunications=st.lists(WORD, max_size=2).map(tuple),
)
IDS = st.uuids().map(lambda u: f"urn:uuid:{u}") | st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True)
EXTRA_SLOTS = st.lists(
    st.builds(Slot, name=WORD.map(lambda w: f"urn:test:{w}"), values=st.lists(TEXT, max_size=3).map(tuple)),
    max_size=2,
).map(tuple)
EXTRA_CLASSIFICATIONS = st.lists(
    st.builds(
        Classification,
        scheme=st.uuids().map(lambda u: f"urn:uuid:{u}"),
        code=st.none() | WORD,
        coding_scheme=st.none() | WORD,
        display=st.none() | TEXT,
    ),
    max_size=2,
).map(tuple)
EXTRA_IDENTIFIERS = st.lists(
    st.builds(ExternalIdentifier, scheme=st.uuids().map(lambda u: f"urn:uuid:{u}"), value=WORD, name=st.none() | WORD),
    max_size=2,
).map(tuple)
OPTIONAL_WORD = st.none() | WORD

ENTRIES = st.builds(
    DocumentEntry,
    entry_uuid=IDS,
    unique_id=WORD,
    patient_id=st.none() | st.builds(Cx, id=NAMES, assigning_authority=NAMES, id_type=NAMES),
    status=st.none() | st.sampled_from(list(AvailabilityStatus)),
    logical_id=st.none() | IDS,
    home_community_id=st.none() | IDS,
    version=OPTIONAL_WORD,
    mime_type=WORD,
    title=st.none() | TEXT,
    comments=st.none() | TEXT,
    class_code=st.none() | CODES,
    type_code=st.none() | CODES,
    format_code=st.none() | CODES,
    healthcare_facility_type_code=st.none() | CODES,
    practice_setting_code=st.none() | CODES,
    confidentiality_codes=st.lists(CODES, max_size=3).map(tuple),
    event_codes=st.lists(CODES, max_size=3).map(tuple),
    authors=st.lists(AUTHORS, max_size=2).map(tuple),
    legal_authenticator=st.none() | PERSONS.filter(lambda p: bool(str(p))),
    creation_time=st.none() | TIMES,
    service_start_time=st.none() | TIMES,
    service_stop_time=st.none() | TIMES,
    language_code=OPTIONAL_WORD,
    hash=OPTIONAL_WORD,
    size=st.none() | st.integers(min_value=0, max_value=10**12),
    repository_unique_id=OPTIONAL_WORD,
    source_patient_id=st.none() | st.builds(Cx, id=WORD.map(str.strip).filter(bool), assigning_authority=NAMES),
    source_patient_info=st.lists(TEXT, max_size=3).map(tuple),
    reference_ids=st.lists(WORD, max_size=2).map(tuple),
    extra_slots=EXTRA_SLOTS,
    extra_classifications=EXTRA_CLASSIFICATIONS,
    extra_identifiers=EXTRA_IDENTIFIERS,
)


def _without_generated_ids(entry: DocumentEntry) -> DocumentEntry:
    """Nested ids and back references are the writer's (derived from the object id), not the model's."""
    return entry.model_copy(
        update={
            "extra_classifications": tuple(
                c.model_copy(update={"id": None, "classified_object": None}) for c in entry.extra_classifications
            ),
            "extra_identifiers": tuple(
                i.model_copy(update={"id": None, "registry_object": None}) for i in entry.extra_identifiers
            ),
        }
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(ENTRIES)
def test_document_entry_round_trips_through_ebrim(entry: DocumentEntry) -> None:
    element = document_entry_element(entry)
    read = read_registry_objects(registry_object_list([entry])).documents
    assert read == (read[0],)
    assert _without_generated_ids(read[0]) == entry
    assert element.tag.endswith("ExtrinsicObject")


SETS = st.builds(
    SubmissionSet,
    entry_uuid=IDS,
    unique_id=WORD,
    source_id=WORD,
    patient_id=st.none() | st.builds(Cx, id=NAMES, assigning_authority=NAMES),
    submission_time=st.none() | TIMES,
    status=st.none() | st.sampled_from(list(AvailabilityStatus)),
    title=st.none() | TEXT,
    comments=st.none() | TEXT,
    content_type_code=st.none() | CODES,
    authors=st.lists(AUTHORS, max_size=2).map(tuple),
    intended_recipients=st.lists(WORD, max_size=2).map(tuple),
    extra_slots=EXTRA_SLOTS,
)


@settings(max_examples=100)
@given(SETS, st.sampled_from([*AssociationType, "urn:ihe:iti:2007:AssociationType:APND"]), IDS, IDS)
def test_submission_set_and_association_round_trip(
    submission_set: SubmissionSet, kind: str, source: str, target: str
) -> None:
    association = Association(
        entry_uuid="assoc1", association_type=kind, source=source, target=target, submission_set_status="Original"
    )
    objects = read_registry_objects(registry_object_list([submission_set, association]))
    assert objects.submission_sets == (submission_set,)
    assert objects.associations == (association,)


@settings(max_examples=40, deadline=None)
@given(ENTRIES)
def test_every_generated_entry_validates_against_rim_xsd(entry: DocumentEntry) -> None:
    assert_valid(registry_object_list([entry]), RIM_XSD)
