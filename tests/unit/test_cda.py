"""CDA R2 generator of the mock: well-formed, parseable, French header, HL7 v3 datatypes valid, deterministic."""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from dmpclient._xml import parse_untrusted
from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.ids import PS_ID_OID, STRUCTURE_ID_OID
from mock_server.seed.cda import CdaAuthor, CdaDocument, CdaPatient, NonXmlBody, Section, build_cda, minimal_pdf
from tests.conftest import SCHEMAS

NS = {"h": "urn:hl7-org:v3"}
WHEN = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
PATIENT = CdaPatient("207058575627097", "1.2.250.1.213.1.4.10", "ENCHAINE", "Irène", "F", date(1957, 6, 13), "DECHAINE")
AUTHOR = CdaAuthor(
    "899900063480",
    "LIBRE",
    "MAX",
    "10B0127189",
    "CENTRE DE SANTE RPPS12718",
    Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)"),
)
LAB_SECTION = Section(
    "Biochimie",
    paragraphs=("Prélèvement à jeun.",),
    table=(("Analyse", "Résultat", "Unité"), ("Glycémie", "0,95", "g/L"), ("Créatinine", "78", "µmol/L")),
    code=Code("18719-5", "2.16.840.1.113883.6.1", "Chemistry studies"),
)


def _document(**changes: Any) -> CdaDocument:
    base = CdaDocument(
        document_id="1.2.250.1.999.1.1.42",
        set_id="1.2.250.1.999.1.2.7",
        version=1,
        type_code=load_value_set(ValueSetId.TYPE_CODE).require("11488-4"),
        title="Compte rendu de consultation",
        effective_time=WHEN,
        patient=PATIENT,
        author=AUTHOR,
        body=NonXmlBody("application/pdf", minimal_pdf(["Motif : suivi (contrôle)"], title="CR")),
        facility_type=load_value_set(ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE).require("SA05"),
        event_code=load_value_set(ValueSetId.EVENT_CODE).require("I10"),
    )
    return dataclasses.replace(base, **changes)


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    assert len(found) == 1, path
    element = found[0]
    assert isinstance(element, etree._Element)
    return element


def test_level1_pdf_header_and_body() -> None:
    root = parse_untrusted(build_cda(_document()))
    assert root.tag == "{urn:hl7-org:v3}ClinicalDocument"
    assert _one(root, "h:realmCode").get("code") == "FR"
    type_id = _one(root, "h:typeId")
    assert (type_id.get("root"), type_id.get("extension")) == ("2.16.840.1.113883.1.3", "POCD_HD000040")
    templates = [t.get("root") for t in root.findall("h:templateId", NS)]
    assert templates == ["2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1", "1.3.6.1.4.1.19376.1.2.20"]
    assert _one(root, "h:id").get("root") == "1.2.250.1.999.1.1.42"
    assert _one(root, "h:code").attrib["code"] == "11488-4"
    assert _one(root, "h:effectiveTime").get("value") == "20250314092653+0000"
    assert _one(root, "h:languageCode").get("code") == "fr-FR"
    assert _one(root, "h:setId").get("root") == "1.2.250.1.999.1.2.7"
    assert _one(root, "h:versionNumber").get("value") == "1"
    assert not root.findall("h:relatedDocument", NS)
    ins = _one(root, "h:recordTarget/h:patientRole/h:id")
    assert (ins.get("root"), ins.get("extension")) == ("1.2.250.1.213.1.4.10", "207058575627097")
    families = root.findall("h:recordTarget/h:patientRole/h:patient/h:name/h:family", NS)
    assert [(f.get("qualifier"), f.text) for f in families] == [("BR", "DECHAINE"), ("SP", "ENCHAINE")]
    author_id = _one(root, "h:author/h:assignedAuthor/h:id")
    assert (author_id.get("root"), author_id.get("extension")) == (PS_ID_OID, "899900063480")
    org_id = _one(root, "h:author/h:assignedAuthor/h:representedOrganization/h:id")
    assert (org_id.get("root"), org_id.get("extension")) == (STRUCTURE_ID_OID, "10B0127189")
    assert _one(root, "h:custodian//h:representedCustodianOrganization/h:name").text == "CENTRE DE SANTE RPPS12718"
    assert _one(root, "h:componentOf//h:healthCareFacility/h:code").get("code") == "SA05"
    text = _one(root, "h:component/h:nonXMLBody/h:text")
    assert (text.get("mediaType"), text.get("representation")) == ("application/pdf", "B64")
    assert base64.b64decode(text.text or "").startswith(b"%PDF-1.4")


def test_new_version_points_to_the_replaced_one() -> None:
    second = _document(document_id="1.2.250.1.999.1.1.43", version=2, replaces="1.2.250.1.999.1.1.42")
    root = parse_untrusted(build_cda(second))
    assert _one(root, "h:setId").get("root") == "1.2.250.1.999.1.2.7"
    assert _one(root, "h:versionNumber").get("value") == "2"
    related = _one(root, "h:relatedDocument")
    assert related.get("typeCode") == "RPLC"
    assert _one(related, "h:parentDocument/h:id").get("root") == "1.2.250.1.999.1.1.42"


def test_structured_body_has_sections_with_narrative_tables() -> None:
    root = parse_untrusted(build_cda(_document(body=(LAB_SECTION,), extra_template="1.3.6.1.4.1.19376.1.3.3")))
    assert "1.3.6.1.4.1.19376.1.5.3.1.1.1" in [t.get("root") for t in root.findall("h:templateId", NS)]
    section = _one(root, "h:component/h:structuredBody/h:component/h:section")
    assert _one(section, "h:title").text == "Biochimie"
    assert _one(section, "h:text/h:paragraph").text == "Prélèvement à jeun."
    cells = [td.text for td in section.findall("h:text/h:table/h:tbody/h:tr/h:td", NS)]
    assert cells == ["Glycémie", "0,95", "g/L", "Créatinine", "78", "µmol/L"]


def test_patient_author_has_the_dmp_as_custodian_and_no_legal_authenticator() -> None:
    author = CdaAuthor(PATIENT.ins, PATIENT.family_name, PATIENT.given_name, None, None, id_root=PATIENT.ins_oid)
    root = parse_untrusted(build_cda(_document(author=author)))
    assert _one(root, "h:author/h:assignedAuthor/h:id").get("root") == PATIENT.ins_oid
    assert not root.findall("h:legalAuthenticator", NS)
    assert _one(root, "h:custodian//h:representedCustodianOrganization/h:id").get("root") == "1.2.250.1.213.4.1.1.1"


def test_output_is_deterministic() -> None:
    assert build_cda(_document()) == build_cda(_document())
    assert build_cda(_document()) != build_cda(_document(version=2))


def _probe_schema(tmp_path: Path) -> etree.XMLSchema:
    """A schema declaring one probe element per HL7 v3 type, over the shared core schemas."""
    types = sorted(set(_TYPES.values()))
    core = SCHEMAS / "hl7v3" / "coreschemas"
    declarations = "\n".join(f'<xs:element name="probe.{t}" type="{t}"/>' for t in types)
    (tmp_path / "probe.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="urn:hl7-org:v3" '
        'targetNamespace="urn:hl7-org:v3" elementFormDefault="qualified">'
        f'<xs:include schemaLocation="{(core / "datatypes.xsd").as_uri()}"/>'
        f'<xs:include schemaLocation="{(core / "NarrativeBlock.xsd").as_uri()}"/>'
        f"{declarations}</xs:schema>",
        encoding="utf-8",
    )
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(tmp_path / "probe.xsd"), parser))


#: Where each HL7 v3 datatype appears in a generated CDA (POCD_MT000040 element types).
_TYPES = {
    "h:realmCode": "CS",
    "h:typeId": "II",
    "h:templateId": "II",
    "h:id": "II",
    "h:code": "CE",
    "h:title": "ST",
    "h:effectiveTime": "TS",
    "h:confidentialityCode": "CE",
    "h:languageCode": "CS",
    "h:setId": "II",
    "h:versionNumber": "INT",
    ".//h:patientRole/h:id": "II",
    ".//h:patient/h:name": "PN",
    ".//h:administrativeGenderCode": "CE",
    ".//h:birthTime": "TS",
    ".//h:author/h:time": "TS",
    ".//h:assignedAuthor/h:id": "II",
    ".//h:assignedAuthor/h:code": "CE",
    ".//h:assignedPerson/h:name": "PN",
    ".//h:representedOrganization/h:id": "II",
    ".//h:representedOrganization/h:name": "ON",
    ".//h:representedCustodianOrganization/h:name": "ON",
    ".//h:legalAuthenticator/h:time": "TS",
    ".//h:signatureCode": "CS",
    ".//h:serviceEvent/h:code": "CE",
    ".//h:serviceEvent/h:effectiveTime": "IVL_TS",
    ".//h:parentDocument/h:id": "II",
    ".//h:encompassingEncounter/h:effectiveTime": "IVL_TS",
    ".//h:healthCareFacility/h:code": "CE",
    ".//h:nonXMLBody/h:text": "ED",
    ".//h:section/h:code": "CE",
    ".//h:section/h:title": "ST",
    ".//h:section/h:text": "StrucDoc.Text",
}


@pytest.mark.parametrize(
    "document",
    [_document(version=3, replaces="1.2.250.1.999.1.1.41"), _document(body=(LAB_SECTION,))],
    ids=["level1", "structured"],
)
def test_every_element_is_a_valid_hl7v3_datatype(document: CdaDocument, tmp_path: Path) -> None:
    schema = _probe_schema(tmp_path)
    root = parse_untrusted(build_cda(document))
    checked = 0
    for path, type_name in _TYPES.items():
        found = root.xpath(path, namespaces=NS)
        assert isinstance(found, list)
        for element in found:
            assert isinstance(element, etree._Element)
            probe = copy.deepcopy(element)
            probe.tag = f"{{urn:hl7-org:v3}}probe.{type_name}"
            assert schema.validate(probe), f"{path}: {schema.error_log}"
            checked += 1
    assert checked >= 30


def test_minimal_pdf_has_a_consistent_xref_table() -> None:
    pdf = minimal_pdf(["Ligne é (1)", "back\\slash"], title="Titre")
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref_at:].startswith(b"xref\n0 6\n")
    entries = re.findall(rb"(\d{10}) 00000 n\r\n", pdf[xref_at:])
    assert len(entries) == 5
    for number, offset in enumerate(entries, start=1):
        assert pdf[int(offset) :].startswith(f"{number} 0 obj\n".encode())
    stream = pdf.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0]
    assert f"/Length {len(stream)}".encode() in pdf
    assert b"(Ligne \xe9 \\(1\\)) Tj" in stream
    assert b"(back\\\\slash) Tj" in stream
