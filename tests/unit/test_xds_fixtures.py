"""The real eHealth Suisse ITI-18 / ITI-43 captures (shared/fixtures) decode with exact field values.

Swiss codes and OIDs, the same IHE stack as the DMP (see the fixtures' README). The files are byte-identical
to upstream: they are read, never rewritten.
"""

from __future__ import annotations

import datetime as dt

import pytest

from dmpclient.codes import Code
from dmpclient.errors import DmpProtocolError
from dmpclient.soap.envelope import read_soap
from dmpclient.soap.mtom import Attachment, MtomDecoded
from dmpclient.soap.response import Response
from dmpclient.transactions import registry, repository
from dmpclient.xds.codes import AvailabilityStatus
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import ResponseStatus, ReturnType
from dmpclient.xds.queries import FindDocuments, read_query_request
from dmpclient.xds.retrieve import read_retrieve_request, read_retrieve_response
from tests.conftest import FIXTURES

SAMPLES = FIXTURES / "samples"


def _message(name: str) -> Response:
    return Response(read_soap((SAMPLES / name).read_bytes()), None, 200)


def test_iti18_request_is_a_find_documents_object_ref() -> None:
    message = read_soap((SAMPLES / "ITI-18_request_raw.xml").read_bytes())
    assert message.action == registry.STORED_QUERY.request_action
    assert message.message_id == "urn:uuid:31D7E4B5-C117-481E-9EE1-F32849E81BF8"
    assert message.body is not None
    request = read_query_request(message.body)
    assert request.return_type is ReturnType.OBJECT_REF
    assert request.return_composed_objects
    assert request.query == FindDocuments(
        patient_id=Cx(id="7e1c6e78-58f1-4a43-ae88-0d5a5c4ab43e", assigning_authority="1.3.6.1.4.1.21367.2017.2.5.45"),
        status=(AvailabilityStatus.APPROVED,),
    )
    assert registry.STORED_QUERY.rights_row(message.body).value == "TD3_1_RECHERCHE_REFERENCE"
    patient = registry.STORED_QUERY.patient_of(message.body)
    assert patient is not None
    assert (patient.ins, patient.oid) == ("7e1c6e78-58f1-4a43-ae88-0d5a5c4ab43e", "1.3.6.1.4.1.21367.2017.2.5.45")


def test_iti18_response_decodes_with_exact_fields() -> None:
    result = registry.STORED_QUERY.decode(_message("ITI-18_response_raw.xml"))
    assert result.status is ResponseStatus.SUCCESS
    assert result.errors == ()
    assert result.reader_warnings == ()
    (entry,) = result.documents
    assert entry.entry_uuid == "urn:uuid:1415538d-41bc-41b2-9ae6-8b785f7f3aa6"
    assert entry.logical_id == "urn:uuid:1415538d-41bc-41b2-9ae6-8b785f7f3aa6"
    assert entry.home_community_id == "urn:oid:1.1.4567334.1.6"
    assert entry.version == "1"
    assert entry.unique_id == "2.25.306443472873218838784535217290635593269"
    assert entry.patient_id == Cx(id="CHPAM3946", assigning_authority="1.3.6.1.4.1.12559.11.20.1")
    assert entry.source_patient_id == entry.patient_id
    assert entry.status is AvailabilityStatus.APPROVED
    assert entry.mime_type == "application/fhir+json"
    assert entry.title == "Vaccination - FSME-Immun 0.25 ml Junior"
    assert entry.repository_unique_id == "1.1.4567332.1.75"
    assert entry.hash == "a72f1824ea1d57af00faf5dd5ccb9aea0b0ce390"
    assert entry.size == 5375
    assert entry.creation_time == dt.datetime(2023, 12, 19, 9, 51, 21, tzinfo=dt.UTC)
    assert entry.language_code == "en"
    assert entry.class_code == Code("184216000", "2.16.840.1.113883.6.96", "Patient record type (record artifact)")
    assert entry.type_code == Code("41000179103", "2.16.840.1.113883.6.96", "Immunization Record (record artifact)")
    assert entry.format_code == Code(
        "urn:che:epr:ch-vacd:immunization-administration:2022",
        "2.16.756.5.30.1.127.3.10.10",
        "CH VACD Immunization Administration",
    )
    assert entry.healthcare_facility_type_code == Code(
        "43741000", "2.16.840.1.113883.6.96", "Site of Care (environment)"
    )
    assert entry.practice_setting_code == Code(
        "394802001", "2.16.840.1.113883.6.96", "General medicine (qualifier value)"
    )
    assert entry.confidentiality_codes == (Code("17621005", "2.16.840.1.113883.6.96", "Normal"),)
    assert not entry.is_masked
    assert entry.is_visible_to_patient
    (author,) = entry.authors
    assert author.person is not None
    assert (author.person.family, author.person.given, author.person.prefix) == ("Max", "Mustermann", "Dr.Med")
    assert author.roles == (Code("HCP", "2.16.756.5.30.1.127.3.10.6"),)
    assert author.specialties == (Code("1050", "2.16.756.5.30.1.127.3.5"),)
    assert [(s.name, s.values) for s in entry.extra_slots] == [
        ("urn:e-health-suisse:2020:originalProviderRole", ("HCP^^^&2.16.756.5.30.1.127.3.10.6&ISO",))
    ]


def test_iti43_request_asks_for_one_document() -> None:
    message = read_soap((SAMPLES / "ITI-43_request_raw.xml").read_bytes())
    assert message.action == repository.RETRIEVE.request_action
    assert message.body is not None
    (request,) = read_retrieve_request(message.body)
    assert request.home_community_id == "urn:oid:1.3.6.1.4.1.21367.2017.2.6.19"
    assert request.repository_unique_id == "1.3.6.1.4.1.21367.2017.2.3.54"
    assert request.document_unique_id == "1.3.6.1.4.1.21367.2017.2.1.75.20200922130227623"


def test_iti43_response_names_its_part_and_decodes_once_the_part_is_there() -> None:
    message = _message("ITI-43_response_raw.xml")
    assert message.message.relates_to == "urn:uuid:1EB10F67-6562-46D5-9B6B-5DC42EB2B4A6"
    assert message.message.body is not None
    answer = read_retrieve_response(message.message.body)
    assert answer.status is ResponseStatus.SUCCESS
    (part,) = answer.documents
    assert part.mime_type == "application/pdf"
    assert part.request.document_unique_id == "1.3.6.1.4.1.21367.2017.2.1.75.20200922130227623"
    assert part.location.href == "cid:72f7c587daaacb8b81212de4e80e442e5f43394482e12edd@apache.org"
    with pytest.raises(DmpProtocolError, match="not MTOM"):
        repository.RETRIEVE.decode(message)  # the capture kept the SOAP part only
    pdf = b"%PDF-1.4 capture stand-in"
    cid = "72f7c587daaacb8b81212de4e80e442e5f43394482e12edd@apache.org"
    parts = MtomDecoded(b"", "", {cid: Attachment(cid, "application/pdf", pdf, len(pdf))})
    result = repository.RETRIEVE.decode(Response(message.message, parts, 200))
    (document,) = result.documents
    assert (document.content, document.mime_type, document.size) == (pdf, "application/pdf", len(pdf))
    assert document.repository_unique_id == "1.3.6.1.4.1.21367.2017.2.3.54"
    assert document.home_community_id == "urn:oid:1.3.6.1.4.1.21367.2017.2.6.19"
