"""CDA R2 documents (``urn:hl7-org:v3`` ClinicalDocument) for the mock DMP's content.

Level 1 documents wrap a PDF (generated here, no library) or plain text in a ``nonXMLBody``; structured
documents carry narrative sections in a ``structuredBody``. Headers follow the French realm as far as the
reference tells (§5.2, §5.6, §7.1): ``realmCode FR``, CI-SIS / HL7 France template ids, INS in
``recordTarget`` (root = INS OID), author idNat_PS (root ``1.2.250.1.71.4.2.1``) with his structure
(``1.2.250.1.71.4.2.2``), ``setId`` / ``versionNumber`` / ``relatedDocument RPLC`` for new versions.
Output is deterministic: every id and time is an input.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from lxml import etree

from dmpclient.codes import Code
from dmpclient.ids import DMP_SYSTEM_OID, PS_ID_OID, STRUCTURE_ID_OID

__all__ = [
    "CdaAuthor",
    "CdaDocument",
    "CdaPatient",
    "NonXmlBody",
    "Section",
    "build_cda",
    "minimal_pdf",
]

_HL7: Final = "urn:hl7-org:v3"
_XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
#: HL7 France realm, CI-SIS "modèle d'entête", then the model-specific template.
_HEADER_TEMPLATES: Final = ("2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1")
#: IHE XDS-SD (scanned / unstructured document) for level 1 bodies.
_LEVEL1_TEMPLATE: Final = "1.3.6.1.4.1.19376.1.2.20"
#: IHE PCC medical document, for structured bodies.
_STRUCTURED_TEMPLATE: Final = "1.3.6.1.4.1.19376.1.5.3.1.1.1"
_GENDER_SYSTEM: Final = "2.16.840.1.113883.5.1"
_CONFIDENTIALITY_SYSTEM: Final = "2.16.840.1.113883.5.25"


@dataclass(frozen=True, slots=True)
class CdaPatient:
    """The patient of ``recordTarget`` (INS + traits)."""

    ins: str
    ins_oid: str
    family_name: str
    given_name: str
    gender: str
    birth_date: date
    birth_name: str | None = None


@dataclass(frozen=True, slots=True)
class CdaAuthor:
    """The author with his structure; a PS is also the legal authenticator.

    A patient author (documents the patient adds) has ``id_root`` = his INS OID and no structure: the
    custodian is then the DMP system itself.
    """

    id: str
    family_name: str
    given_name: str
    structure_id: str | None
    structure_name: str | None
    specialty: Code | None = None
    id_root: str = PS_ID_OID

    @property
    def is_professional(self) -> bool:
        return self.id_root == PS_ID_OID


@dataclass(frozen=True, slots=True)
class Section:
    """A narrative section: paragraphs, then an optional table whose first row is the header."""

    title: str
    paragraphs: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    code: Code | None = None


@dataclass(frozen=True, slots=True)
class NonXmlBody:
    """A level 1 body: the bytes and their media type (``application/pdf``, ``text/plain``…)."""

    media_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CdaDocument:
    """Everything a generated CDA says; ``replaces`` is the id of the version this one replaces (RPLC)."""

    document_id: str
    set_id: str
    version: int
    type_code: Code
    title: str
    effective_time: datetime
    patient: CdaPatient
    author: CdaAuthor
    body: NonXmlBody | tuple[Section, ...]
    replaces: str | None = None
    confidentiality: str = "N"
    service_start: datetime | None = None
    service_stop: datetime | None = None
    event_code: Code | None = None
    facility_type: Code | None = None
    extra_template: str | None = None


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


class _Builder:
    """Small helper over lxml for ``urn:hl7-org:v3`` elements."""

    def __init__(self) -> None:
        namespaces: Any = {None: _HL7, "xsi": _XSI}  # lxml-stubs does not type the default-namespace key
        self.root = etree.Element(f"{{{_HL7}}}ClinicalDocument", nsmap=namespaces)

    @staticmethod
    def add(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{_HL7}}}{name}", {k: v for k, v in attrs.items() if v})
        if text is not None:
            element.text = text
        return element

    def code(self, parent: etree._Element, name: str, code: Code) -> etree._Element:
        return self.add(parent, name, code=code.code, codeSystem=code.system, displayName=code.display)

    def person_name(self, parent: etree._Element, given: str, family: str, birth: str | None = None) -> None:
        name = self.add(parent, "name")
        self.add(name, "given", given)
        if birth and birth != family:
            self.add(name, "family", birth, qualifier="BR")
            self.add(name, "family", family, qualifier="SP")
        else:
            self.add(name, "family", family)

    def organization(self, parent: etree._Element, name: str, author: CdaAuthor) -> None:
        org = self.add(parent, name)
        if author.structure_id is None:
            self.add(org, "id", root=DMP_SYSTEM_OID)
            self.add(org, "name", "DMP")
            return
        self.add(org, "id", root=STRUCTURE_ID_OID, extension=author.structure_id)
        self.add(org, "name", author.structure_name)

    def assigned(self, parent: etree._Element, name: str, author: CdaAuthor, *, with_code: bool) -> None:
        entity = self.add(parent, name)
        self.add(entity, "id", root=author.id_root, extension=author.id)
        if with_code and author.specialty is not None:
            self.code(entity, "code", author.specialty)
        person = self.add(entity, "assignedPerson")
        self.person_name(person, author.given_name, author.family_name)
        if author.structure_id is not None:
            self.organization(entity, "representedOrganization", author)


def build_cda(doc: CdaDocument) -> bytes:
    """Serialise ``doc`` as a CDA R2 document (UTF-8, with XML declaration)."""
    b = _Builder()
    root = b.root
    b.add(root, "realmCode", code="FR")
    b.add(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    level1 = isinstance(doc.body, NonXmlBody)
    templates = (*_HEADER_TEMPLATES, _LEVEL1_TEMPLATE if level1 else _STRUCTURED_TEMPLATE)
    for template in (*templates, doc.extra_template):
        if template:
            b.add(root, "templateId", root=template)
    b.add(root, "id", root=doc.document_id)
    b.code(root, "code", doc.type_code)
    b.add(root, "title", doc.title)
    b.add(root, "effectiveTime", value=_ts(doc.effective_time))
    b.add(root, "confidentialityCode", code=doc.confidentiality, codeSystem=_CONFIDENTIALITY_SYSTEM)
    b.add(root, "languageCode", code="fr-FR")
    b.add(root, "setId", root=doc.set_id)
    b.add(root, "versionNumber", value=str(doc.version))
    _record_target(b, doc.patient)
    author = b.add(root, "author")
    b.add(author, "time", value=_ts(doc.effective_time))
    b.assigned(author, "assignedAuthor", doc.author, with_code=True)
    custodian = b.add(b.add(root, "custodian"), "assignedCustodian")
    b.organization(custodian, "representedCustodianOrganization", doc.author)
    if doc.author.is_professional:
        legal = b.add(root, "legalAuthenticator")
        b.add(legal, "time", value=_ts(doc.effective_time))
        b.add(legal, "signatureCode", code="S")
        b.assigned(legal, "assignedEntity", doc.author, with_code=False)
    _service_event(b, doc)
    if doc.replaces:
        related = b.add(root, "relatedDocument", typeCode="RPLC")
        b.add(b.add(related, "parentDocument"), "id", root=doc.replaces)
    if doc.facility_type is not None:
        _encounter(b, doc, doc.facility_type)
    _body(b, doc.body)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _record_target(b: _Builder, patient: CdaPatient) -> None:
    role = b.add(b.add(b.root, "recordTarget"), "patientRole")
    b.add(role, "id", root=patient.ins_oid, extension=patient.ins)
    person = b.add(role, "patient")
    b.person_name(person, patient.given_name, patient.family_name, patient.birth_name)
    b.add(person, "administrativeGenderCode", code=patient.gender, codeSystem=_GENDER_SYSTEM)
    b.add(person, "birthTime", value=patient.birth_date.strftime("%Y%m%d"))


def _service_event(b: _Builder, doc: CdaDocument) -> None:
    event = b.add(b.add(b.root, "documentationOf"), "serviceEvent", classCode="ACT")
    if doc.event_code is not None:
        b.code(event, "code", doc.event_code)
    span = b.add(event, "effectiveTime")
    b.add(span, "low", value=_ts(doc.service_start or doc.effective_time))
    b.add(span, "high", value=_ts(doc.service_stop or doc.effective_time))


def _encounter(b: _Builder, doc: CdaDocument, facility_type: Code) -> None:
    encounter = b.add(b.add(b.root, "componentOf"), "encompassingEncounter")
    span = b.add(encounter, "effectiveTime")
    b.add(span, "low", value=_ts(doc.service_start or doc.effective_time))
    b.add(span, "high", value=_ts(doc.service_stop or doc.effective_time))
    facility = b.add(b.add(encounter, "location"), "healthCareFacility")
    b.code(facility, "code", facility_type)


def _body(b: _Builder, body: NonXmlBody | tuple[Section, ...]) -> None:
    component = b.add(b.root, "component")
    if isinstance(body, NonXmlBody):
        text = b.add(b.add(component, "nonXMLBody"), "text", mediaType=body.media_type, representation="B64")
        text.text = base64.b64encode(body.data).decode("ascii")
        return
    structured = b.add(component, "structuredBody")
    for section in body:
        element = b.add(b.add(structured, "component"), "section")
        if section.code is not None:
            b.code(element, "code", section.code)
        b.add(element, "title", section.title)
        _narrative(b, b.add(element, "text"), section)


def _narrative(b: _Builder, text: etree._Element, section: Section) -> None:
    for paragraph in section.paragraphs:
        b.add(text, "paragraph", paragraph)
    if not section.table:
        return
    table = b.add(text, "table", border="1")
    header, *rows = section.table
    head_row = b.add(b.add(table, "thead"), "tr")
    for cell in header:
        b.add(head_row, "th", cell)
    body = b.add(table, "tbody")
    for row in rows:
        tr = b.add(body, "tr")
        for cell in row:
            b.add(tr, "td", cell)


def _pdf_string(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def minimal_pdf(lines: Sequence[str], *, title: str = "") -> bytes:
    """A one-page PDF 1.4 showing ``lines`` in Helvetica (WinAnsi), with a correct xref table.

    Small and valid (any viewer opens it); not PDF/A (no XMP metadata, no embedded font).
    """
    text_ops = [b"BT /F1 11 Tf 14 TL 56 790 Td"]
    for line in (title, *lines) if title else lines:
        text_ops.append(_pdf_string(line) + b" Tj T*")
    text_ops.append(b"ET")
    stream = b"\n".join(text_ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f\r\n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n\r\n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)
