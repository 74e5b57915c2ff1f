"""CDA R2 header → XDS DocumentEntry metadata of a submission (TD2.1, reference §5.2, §4.5).

Each value the DMP wants is read from its place in the header (the CI-SIS / IHE conventions of §5.2):
uniqueId from ``id``, typeCode from ``code`` (classCode through ASS_X04), creationTime from
``effectiveTime`` in UTC, the confidentiality and language codes, the legal authenticator, the authors
with their structure, the service times and event codes of ``documentationOf/serviceEvent``, the
practice setting of its performer's organisation, the facility type of ``componentOf``, the patient's INS
in ``recordTarget``, and the formatCode from the ``nonXMLBody`` media type (or the XD-LAB template).

Every value can be replaced (:class:`MetadataOverrides`), and values the header does not give can be
supplied as defaults (same model, filling gaps only). Masking and invisibility are explicit options of
the submission, never guessed. The document is parsed with the hardened parser; nothing here raises on
a missing element except :func:`read_cda` for a document without ``id`` (see :mod:`dmpclient.xds.cda`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient._xml import NS, XmlBudget, parse_untrusted
from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpValidationError
from dmpclient.ids import PS_ID_OID, STRUCTURE_ID_OID, InsOid
from dmpclient.xds.cda import CDA_BUDGET, MAX_CDA_BYTES, CdaHeader, read_cda_header
from dmpclient.xds.codes import Confidentiality, class_code_for_type, format_code_for_media_type
from dmpclient.xds.identifiers import Cx, Xcn, Xon, parse_dtm
from dmpclient.xds.models import Author, DocumentEntry

__all__ = [
    "CDA_BUDGET",
    "CdaDocument",
    "CdaMetadata",
    "MetadataOverrides",
    "Visibility",
    "document_entry",
    "read_cda",
]


_HL7: Final = NS["hl7"]
#: INS OIDs a ``recordTarget/patientRole/id`` may carry (reference §4.2).
_INS_OIDS: Final = frozenset(oid.value for oid in InsOid)
#: IHE XD-LAB content template (structured lab reports, formatCode ``urn:ihe:lab:xd-lab:2008``).
_XD_LAB_TEMPLATE: Final = "1.3.6.1.4.1.19376.1.3.3"
_XD_LAB_FORMAT: Final = ("urn:ihe:lab:xd-lab:2008", "1.3.6.1.4.1.19376.1.2.3")
_CONFIDENTIALITY_SYSTEM: Final = "1.2.250.1.213.1.1.4.13"


def _t(*path: str) -> str:
    return "/".join(f"{{{_HL7}}}{part}" for part in path)


class MetadataOverrides(BaseModel):
    """Metadata values given by the caller: each field set here wins over the CDA (or fills a gap, when used
    as submission defaults). ``None`` means "derive it from the document"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unique_id: str | None = None
    title: str | None = None
    comments: str | None = None
    class_code: Code | None = None
    type_code: Code | None = None
    format_code: Code | None = None
    healthcare_facility_type_code: Code | None = None
    practice_setting_code: Code | None = None
    confidentiality_code: Code | None = None
    event_codes: tuple[Code, ...] | None = None
    creation_time: dt.datetime | None = None
    service_start_time: dt.datetime | None = None
    service_stop_time: dt.datetime | None = None
    language_code: str | None = None
    authors: tuple[Author, ...] | None = None
    legal_authenticator: Xcn | None = None
    patient_id: Cx | None = None
    source_patient_id: Cx | None = None
    source_patient_info: tuple[str, ...] | None = None
    mime_type: str | None = None


class Visibility(BaseModel):
    """Who may see a new document, chosen explicitly at submission (reference §4.6, confidentialityCode).

    Attributes:
        masked: ``MASQUE_PS``, hidden from professionals other than its author, the MT (and emergency
            access the patient allowed).
        invisible_to_patient: ``INVISIBLE_PATIENT`` (until a professional shows it, TD3.3b).
        invisible_to_legal_representatives: ``INVISIBLE_REPRESENTANTS_LEGAUX`` (minors).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    masked: bool = False
    invisible_to_patient: bool = False
    invisible_to_legal_representatives: bool = False

    def codes(self) -> tuple[Code, ...]:
        """The confidentiality codes these choices add to ``N``."""
        chosen = (
            (self.masked, Confidentiality.MASQUE_PS),
            (self.invisible_to_patient, Confidentiality.INVISIBLE_PATIENT),
            (self.invisible_to_legal_representatives, Confidentiality.INVISIBLE_REPRESENTANTS_LEGAUX),
        )
        return tuple(Code(code.value, _CONFIDENTIALITY_SYSTEM) for on, code in chosen if on)


class CdaMetadata(BaseModel):
    """What a CDA header says for XDS (``None``/empty where it says nothing)."""

    model_config = ConfigDict(frozen=True)

    unique_id: str
    title: str | None = None
    type_code: Code | None = None
    confidentiality_code: Code | None = None
    language_code: str | None = None
    creation_time: dt.datetime | None = None
    authors: tuple[Author, ...] = ()
    legal_authenticator: Xcn | None = None
    service_start_time: dt.datetime | None = None
    service_stop_time: dt.datetime | None = None
    event_codes: tuple[Code, ...] = ()
    healthcare_facility_type_code: Code | None = None
    practice_setting_code: Code | None = None
    format_code: Code | None = None
    patient_id: Cx | None = None
    source_patient_id: Cx | None = None
    source_patient_info: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CdaDocument:
    """A parsed CDA: its tree (kept for the signature digest, parsed once), header and XDS metadata."""

    root: etree._Element
    header: CdaHeader
    metadata: CdaMetadata


def _code(element: etree._Element | None) -> Code | None:
    if element is None or not element.get("code"):
        return None
    return Code(element.get("code", ""), element.get("codeSystem", ""), element.get("displayName", ""))


def _time(element: etree._Element | None) -> dt.datetime | None:
    return parse_dtm(element.get("value", "")) if element is not None else None


def _names(person: etree._Element | None) -> tuple[str, str]:
    """(family, given) of an HL7 ``name`` (the birth name when qualified BR, else the first family)."""
    name = person.find(_t("name")) if person is not None else None
    if name is None:
        return "", ""
    families = list(name.iterchildren(_t("family")))
    family = next((f for f in families if f.get("qualifier") == "BR"), families[0] if families else None)
    given = name.find(_t("given"))
    family_text = (family.text or "").strip() if family is not None else ""
    return family_text, (given.text or "").strip() if given is not None else ""


def _person_id(entity: etree._Element) -> tuple[str, str]:
    element = entity.find(_t("id"))
    if element is None:
        return "", ""
    return (element.get("extension") or "").strip(), (element.get("root") or "").strip()


def _person(entity: etree._Element) -> Xcn | None:
    """An ``assignedAuthor`` / ``assignedEntity`` as an XCN: a person (``D``), or a device (``U``, ``RI``)."""
    identifier, root = _person_id(entity)
    device = entity.find(_t("assignedAuthoringDevice"))
    if device is not None:
        software = (device.findtext(_t("softwareName")) or "").strip()
        model = (device.findtext(_t("manufacturerModelName")) or "").strip()
        return Xcn(id=identifier, family=software, given=model, assigning_authority=root, name_type="U", id_type="RI")
    family, given = _names(entity.find(_t("assignedPerson")))
    if not (identifier or family):
        return None
    id_type = "IDNPS" if root == PS_ID_OID else "NH" if root in _INS_OIDS else ""
    return Xcn(id=identifier, family=family, given=given, assigning_authority=root, name_type="D", id_type=id_type)


def _institution(entity: etree._Element) -> tuple[Xon, ...]:
    organization = entity.find(_t("representedOrganization"))
    if organization is None:
        return ()
    element = organization.find(_t("id"))
    identifier = (element.get("extension") or "").strip() if element is not None else ""
    root = (element.get("root") or "").strip() if element is not None else ""
    name = (organization.findtext(_t("name")) or "").strip()
    id_type = "IDNST" if root == STRUCTURE_ID_OID else ""
    return (Xon(name=name, assigning_authority=root, id_type=id_type, id=identifier),)


def _authors(clinical: etree._Element) -> tuple[Author, ...]:
    found: list[Author] = []
    for assigned in clinical.iterfind(_t("author", "assignedAuthor")):
        specialty = _code(assigned.find(_t("code")))
        found.append(
            Author(
                person=_person(assigned),
                institutions=_institution(assigned),
                specialties=(specialty,) if specialty else (),
            )
        )
    return tuple(found)


def _patient(clinical: etree._Element) -> tuple[Cx | None, Cx | None, tuple[str, ...]]:
    """The INS patient id, the source patient id (a local IPP, else the INS), and ``sourcePatientInfo``."""
    role = clinical.find(_t("recordTarget", "patientRole"))
    if role is None:
        return None, None, ()
    ins: Cx | None = None
    local: Cx | None = None
    for element in role.iterfind(_t("id")):
        root, extension = (element.get("root") or "").strip(), (element.get("extension") or "").strip()
        if not (root and extension):
            continue
        if root in _INS_OIDS and ins is None:
            ins = Cx.patient(extension, root)
        elif root not in _INS_OIDS and local is None:
            local = Cx(id=extension, assigning_authority=root, id_type="PI")
    person = role.find(_t("patient"))
    info: list[str] = []
    family, given = _names(person)
    if family or given:
        info.append(f"PID-5|{family}^{given}^^^^^L")
    birth = person.find(_t("birthTime")) if person is not None else None
    born = (birth.get("value") or "")[:8] if birth is not None else ""
    if born.isascii() and born.isdigit():
        info.append(f"PID-7|{born}")
    gender = person.find(_t("administrativeGenderCode")) if person is not None else None
    if gender is not None and gender.get("code") in ("F", "M", "U"):
        info.append(f"PID-8|{gender.get('code')}")
    return ins, local or ins, tuple(info)


def _format_code(clinical: etree._Element) -> Code | None:
    text = clinical.find(_t("component", "nonXMLBody", "text"))
    if text is not None:
        try:
            return format_code_for_media_type(text.get("mediaType") or "text/plain")
        except DmpValidationError:
            return None
    templates = {element.get("root") for element in clinical.iterchildren(_t("templateId"))}
    if _XD_LAB_TEMPLATE not in templates:
        return None
    return load_value_set(ValueSetId.FORMAT_CODE).require(*_XD_LAB_FORMAT, field="formatCode")  # its label (§4.6)


def _service_event(clinical: etree._Element) -> tuple[dt.datetime | None, dt.datetime | None, tuple[Code, ...]]:
    start = stop = None
    codes: list[Code] = []
    for event in clinical.iterfind(_t("documentationOf", "serviceEvent")):
        code = _code(event.find(_t("code")))
        if code is not None:
            codes.append(code)
        start = start or _time(event.find(_t("effectiveTime", "low")))
        stop = stop or _time(event.find(_t("effectiveTime", "high")))
    return start, stop, tuple(codes)


def _metadata(clinical: etree._Element, header: CdaHeader) -> CdaMetadata:
    legal = clinical.find(_t("legalAuthenticator", "assignedEntity"))
    confidentiality = _code(clinical.find(_t("confidentialityCode")))
    start, stop, events = _service_event(clinical)
    patient, source, info = _patient(clinical)
    practice = clinical.find(
        _t("documentationOf", "serviceEvent", "performer", "assignedEntity", "representedOrganization")
        + "/"
        + _t("standardIndustryClassCode")
    )
    facility = clinical.find(_t("componentOf", "encompassingEncounter", "location", "healthCareFacility", "code"))
    return CdaMetadata(
        unique_id=header.id,
        title=header.title,
        type_code=header.type_code,
        confidentiality_code=confidentiality,
        language_code=header.language_code,
        creation_time=header.effective_time,
        authors=_authors(clinical),
        legal_authenticator=_person(legal) if legal is not None else None,
        service_start_time=start,
        service_stop_time=stop,
        event_codes=events,
        healthcare_facility_type_code=_code(facility),
        practice_setting_code=_code(practice),
        format_code=_format_code(clinical),
        patient_id=patient,
        source_patient_id=source,
        source_patient_info=info,
    )


def read_cda(data: bytes, *, max_bytes: int = MAX_CDA_BYTES, budget: XmlBudget = CDA_BUDGET) -> CdaDocument:
    """Parse a CDA document (hardened parser, ``budget``) and read its header and XDS metadata.

    Raises:
        DmpUnsafeXmlError: not well-formed, too large, or declaring a DTD.
        DmpProtocolError: not a ``ClinicalDocument``, or without ``id``.
    """
    root = parse_untrusted(data, max_bytes=max_bytes, budget=budget)
    header = read_cda_header(root)
    return CdaDocument(root, header, _metadata(root, header))


def _pick(override: object, derived: object, default: object) -> object:
    return override if override is not None else derived if derived not in (None, ()) else default


def document_entry(
    metadata: CdaMetadata,
    *,
    entry_id: str,
    overrides: MetadataOverrides | None = None,
    defaults: MetadataOverrides | None = None,
    visibility: Visibility | None = None,
) -> DocumentEntry:
    """The DocumentEntry of a CDA: ``overrides`` win over the header, ``defaults`` fill what it lacks.

    The classCode follows the typeCode (ASS_X04) unless given; the confidentiality codes are the CDA's (or
    ``N``) plus the :class:`Visibility` choices. Nothing is checked here: see :mod:`dmpclient.xds.checks`.

    Raises:
        DmpValidationError: the typeCode has no classCode mapping and none is given.
    """
    over, base = overrides or MetadataOverrides(), defaults or MetadataOverrides()
    values = {
        name: _pick(getattr(over, name), getattr(metadata, name, None), getattr(base, name))
        for name in MetadataOverrides.model_fields
        if name not in ("unique_id", "confidentiality_code", "mime_type")
    }
    for name in ("event_codes", "authors", "source_patient_info"):  # lists: empty, never None
        values[name] = values[name] or ()
    type_code = values["type_code"]
    class_code = values["class_code"]
    if class_code is None and isinstance(type_code, Code):
        class_code = class_code_for_type(type_code.code)
    confidentiality = _pick(over.confidentiality_code, metadata.confidentiality_code, base.confidentiality_code)
    base_code = confidentiality if isinstance(confidentiality, Code) else Code("N", "2.16.840.1.113883.5.25")
    extra = (visibility or Visibility()).codes()
    return DocumentEntry(
        entry_uuid=entry_id,
        unique_id=over.unique_id or metadata.unique_id,
        mime_type=over.mime_type or base.mime_type or "text/xml",
        class_code=class_code,
        confidentiality_codes=(base_code, *extra),
        **{name: value for name, value in values.items() if name != "class_code"},
    )
