"""Writing the XDS model as ebRIM 3.0: strict and schema-valid (see :mod:`dmpclient.xds.ebrim`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from lxml import etree

from dmpclient._xml import NS
from dmpclient.codes import Code
from dmpclient.errors import DmpValidationError
from dmpclient.xds.codes import (
    ASSOCIATION_OBJECT_TYPE,
    SUBMISSION_SET_NODE,
    AvailabilityStatus,
    DocumentEntryScheme,
    SubmissionSetScheme,
)
from dmpclient.xds.identifiers import escape, format_dtm
from dmpclient.xds.models import (
    Association,
    Author,
    Classification,
    DocumentEntry,
    ExternalIdentifier,
    Folder,
    ObjectRef,
    Slot,
    SubmissionSet,
)
from dmpclient.xds.rim import (
    ASSOCIATION_SLOTS,
    FOLDER_NODE,
    REFERENCE_ID_LIST,
    RIM,
    T_ASSOCIATION,
    T_CLASSIFICATION,
    T_DESCRIPTION,
    T_EXTRINSIC,
    T_IDENTIFIER,
    T_LOCALIZED,
    T_NAME,
    T_OBJECT_LIST,
    T_OBJECT_REF,
    T_PACKAGE,
    T_SLOT,
    T_VALUE,
    T_VALUE_LIST,
    T_VERSION,
    FolderScheme,
    RegistryObject,
)

__all__ = [
    "association_element",
    "document_entry_element",
    "folder_element",
    "object_ref_element",
    "registry_object_element",
    "registry_object_list",
    "submission_set_element",
]

_XML_LANG: Final = f"{{{NS['xml']}}}lang"
_LONG_NAME: Final = 256
_FREE_FORM: Final = 1024
_LANG: Final = "fr-FR"
_CHARSET: Final = "UTF-8"
#: Attributes typed anyURI / referenceURI in rim.xsd, and what libxml2 refuses in them.
_URI_ATTRIBUTES: Final = frozenset(
    {
        "id", "lid", "home", "status", "objectType", "associationType", "sourceObject", "targetObject",
        "classificationScheme", "classificationNode", "classifiedObject", "identificationScheme", "registryObject",
    }
)  # fmt: skip
_NOT_URI: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")


class _Writer:
    """Builds one object's children in schema order, with ids derived from the object's id."""

    def __init__(self, tag: str, owner_id: str, attributes: dict[str, str | None]) -> None:
        if not owner_id:
            raise DmpValidationError("a registry object needs an id (a urn:uuid: or a symbolic id)", field="id")
        self.owner_id = owner_id
        self.element = etree.Element(tag, nsmap={"rim": RIM})
        self._counters: dict[str, int] = {}
        self._classifications: list[etree._Element] = []
        self._identifiers: list[etree._Element] = []
        self._head: list[etree._Element] = []
        _set(self.element, "id", owner_id)
        for name, value in attributes.items():
            if value is not None:
                _set(self.element, name, value)

    def nested_id(self, kind: str) -> str:
        number = self._counters[kind] = self._counters.get(kind, 0) + 1
        if self.owner_id.startswith("urn:uuid:"):
            return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.owner_id}#{kind}{number}')}"
        return f"{self.owner_id}-{kind}{number}"

    def slot(self, name: str, values: Iterable[str]) -> None:
        self.element.append(_slot(name, values))

    def slots(self, slots: Iterable[Slot]) -> None:
        for slot in slots:
            self.slot(slot.name, slot.values)

    def texts(self, title: str | None, comments: str | None, version: str | None) -> None:
        if title is not None:
            self.element.append(_international(T_NAME, title))
        if comments is not None:
            self.element.append(_international(T_DESCRIPTION, comments))
        if version is not None:
            _set(etree.SubElement(self.element, T_VERSION), "versionName", version)

    def code(self, scheme: str, code: Code) -> None:
        slots = [("codingScheme", (code.system,))]
        self._classify(scheme, None, code.code, code.display or None, slots)

    def author(self, scheme: str, author: Author) -> None:
        slots = [
            ("authorPerson", (str(author.person),) if author.person else ()),
            ("authorInstitution", tuple(str(i) for i in author.institutions)),
            ("authorRole", tuple(_format_coded(c) for c in author.roles)),
            ("authorSpecialty", tuple(_format_coded(c) for c in author.specialties)),
            ("authorTelecommunication", author.telecommunications),
        ]
        self._classify(scheme, None, "", None, [(name, values) for name, values in slots if values])

    def marker(self, node: str) -> None:
        self._classify(None, node, None, None, [])

    def kept(self, classification: Classification) -> None:
        slots = [(s.name, s.values) for s in classification.slots]
        if classification.coding_scheme is not None:
            slots.insert(0, ("codingScheme", (classification.coding_scheme,)))
        self._classify(classification.scheme, classification.node, classification.code, classification.display, slots)

    def _classify(
        self,
        scheme: str | None,
        node: str | None,
        representation: str | None,
        display: str | None,
        slots: Sequence[tuple[str, Iterable[str]]],
    ) -> None:
        element = etree.Element(T_CLASSIFICATION)
        attributes = {
            "classificationScheme": scheme,
            "classificationNode": node,
            "classifiedObject": self.owner_id,
            "nodeRepresentation": representation,
            "id": self.nested_id("cl"),
        }
        for name, value in attributes.items():
            if value is not None:
                _set(element, name, value, _LONG_NAME if name == "nodeRepresentation" else None)
        for name, values in slots:
            element.append(_slot(name, values))
        if display is not None:
            element.append(_international(T_NAME, display))
        self._classifications.append(element)

    def identifier(self, scheme: str, value: str, name: str | None) -> None:
        element = etree.Element(T_IDENTIFIER)
        _set(element, "identificationScheme", scheme)
        _set(element, "value", value, _LONG_NAME)
        _set(element, "id", self.nested_id("ei"))
        _set(element, "registryObject", self.owner_id)
        if name is not None:
            element.append(_international(T_NAME, name))
        self._identifiers.append(element)

    def finish(self) -> etree._Element:
        self.element.extend(self._classifications)
        self.element.extend(self._identifiers)
        return self.element


def _set(element: etree._Element, name: str, value: str, limit: int | None = None) -> None:
    if limit is not None and len(value) > limit:
        raise DmpValidationError(f"{name}: {len(value)} characters, ebRIM allows at most {limit}", field=name)
    if name in _URI_ATTRIBUTES and _NOT_URI.search(value):
        raise DmpValidationError(f"{name}: {value[:60]!r} is not a URI (a '%' must start a %XX escape)", field=name)
    try:
        element.set(name, value)
    except ValueError:
        raise DmpValidationError(f"{name}: the value holds characters XML cannot carry", field=name) from None


def _slot(name: str, values: Iterable[str]) -> etree._Element:
    element = etree.Element(T_SLOT)
    _set(element, "name", name, _LONG_NAME)
    value_list = etree.SubElement(element, T_VALUE_LIST)
    for value in values:
        if len(value) > _LONG_NAME:
            raise DmpValidationError(f"slot {name}: a value of {len(value)} characters exceeds 256", field=name)
        try:
            etree.SubElement(value_list, T_VALUE).text = value
        except ValueError:
            raise DmpValidationError(f"slot {name}: a value holds characters XML cannot carry", field=name) from None
    return element


def _international(tag: str, text: str) -> etree._Element:
    element = etree.Element(tag)
    localized = etree.SubElement(element, T_LOCALIZED)
    localized.set(_XML_LANG, _LANG)
    localized.set("charset", _CHARSET)
    _set(localized, "value", text, _FREE_FORM)
    return element


def _format_coded(code: Code) -> str:
    """An author role / specialty as the DMP writes it: ``code^display^system`` (reference §4.5)."""
    return "^".join((escape(code.code), escape(code.display), escape(code.system))).rstrip("^")


def _time(moment: Any) -> tuple[str, ...]:
    return (format_dtm(moment),) if moment is not None else ()


def _status_value(status: AvailabilityStatus | str | None) -> str | None:
    return str(status) if status is not None else None


def document_entry_element(entry: DocumentEntry) -> etree._Element:
    """``rim:ExtrinsicObject`` of a DocumentEntry (ITI-41 submissions, ITI-18 LeafClass answers).

    Raises:
        DmpValidationError: a value the schema or XML refuses (too long, control characters, naive time).
    """
    writer = _Writer(
        T_EXTRINSIC,
        entry.entry_uuid,
        {
            "lid": entry.logical_id,
            "status": _status_value(entry.status),
            "mimeType": entry.mime_type,
            "objectType": entry.object_type,
            "home": entry.home_community_id,
        },
    )
    slots: list[tuple[str, tuple[str, ...]]] = [
        ("creationTime", _time(entry.creation_time)),
        ("hash", (entry.hash,) if entry.hash else ()),
        ("languageCode", (entry.language_code,) if entry.language_code else ()),
        ("legalAuthenticator", (str(entry.legal_authenticator),) if entry.legal_authenticator else ()),
        ("repositoryUniqueId", (entry.repository_unique_id,) if entry.repository_unique_id else ()),
        ("serviceStartTime", _time(entry.service_start_time)),
        ("serviceStopTime", _time(entry.service_stop_time)),
        ("size", (str(entry.size),) if entry.size is not None else ()),
        ("sourcePatientId", (str(entry.source_patient_id),) if entry.source_patient_id else ()),
        ("sourcePatientInfo", entry.source_patient_info),
        (REFERENCE_ID_LIST, entry.reference_ids),
    ]
    for name, values in slots:
        if values:
            writer.slot(name, values)
    writer.slots(entry.extra_slots)
    writer.texts(entry.title, entry.comments, entry.version)
    for author in entry.authors:
        writer.author(DocumentEntryScheme.AUTHOR, author)
    scalar_codes = (
        (DocumentEntryScheme.CLASS_CODE, entry.class_code),
        (DocumentEntryScheme.TYPE_CODE, entry.type_code),
        (DocumentEntryScheme.FORMAT_CODE, entry.format_code),
        (DocumentEntryScheme.HEALTHCARE_FACILITY_TYPE_CODE, entry.healthcare_facility_type_code),
        (DocumentEntryScheme.PRACTICE_SETTING_CODE, entry.practice_setting_code),
    )
    for scheme, code in scalar_codes:
        if code is not None:
            writer.code(scheme, code)
    for code in entry.confidentiality_codes:
        writer.code(DocumentEntryScheme.CONFIDENTIALITY_CODE, code)
    for code in entry.event_codes:
        writer.code(DocumentEntryScheme.EVENT_CODE, code)
    for kept in entry.extra_classifications:
        writer.kept(kept)
    if entry.patient_id is not None:
        writer.identifier(DocumentEntryScheme.PATIENT_ID, str(entry.patient_id), "XDSDocumentEntry.patientId")
    writer.identifier(
        DocumentEntryScheme.UNIQUE_ID, _required(entry.unique_id, "unique_id"), "XDSDocumentEntry.uniqueId"
    )
    _kept_identifiers(writer, entry.extra_identifiers)
    return writer.finish()


def submission_set_element(submission_set: SubmissionSet) -> etree._Element:
    """``rim:RegistryPackage`` of a SubmissionSet, with its marker classification (reference §5.1).

    Raises:
        DmpValidationError: see :func:`document_entry_element`.
    """
    s = submission_set
    writer = _Writer(
        T_PACKAGE,
        s.entry_uuid,
        {"lid": s.logical_id, "status": _status_value(s.status), "home": s.home_community_id},
    )
    if s.submission_time is not None:
        writer.slot("submissionTime", _time(s.submission_time))
    if s.intended_recipients:
        writer.slot("intendedRecipient", s.intended_recipients)
    writer.slots(s.extra_slots)
    writer.texts(s.title, s.comments, s.version)
    for author in s.authors:
        writer.author(SubmissionSetScheme.AUTHOR, author)
    if s.content_type_code is not None:
        writer.code(SubmissionSetScheme.CONTENT_TYPE_CODE, s.content_type_code)
    writer.marker(SUBMISSION_SET_NODE)
    for kept in s.extra_classifications:
        writer.kept(kept)
    if s.patient_id is not None:
        writer.identifier(SubmissionSetScheme.PATIENT_ID, str(s.patient_id), "XDSSubmissionSet.patientId")
    writer.identifier(SubmissionSetScheme.SOURCE_ID, _required(s.source_id, "source_id"), "XDSSubmissionSet.sourceId")
    writer.identifier(SubmissionSetScheme.UNIQUE_ID, _required(s.unique_id, "unique_id"), "XDSSubmissionSet.uniqueId")
    _kept_identifiers(writer, s.extra_identifiers)
    return writer.finish()


def folder_element(folder: Folder) -> etree._Element:
    """``rim:RegistryPackage`` of a Folder, with its marker classification (IHE; unused by the DMP)."""
    writer = _Writer(
        T_PACKAGE,
        folder.entry_uuid,
        {"lid": folder.logical_id, "status": _status_value(folder.status), "home": folder.home_community_id},
    )
    if folder.last_update_time is not None:
        writer.slot("lastUpdateTime", _time(folder.last_update_time))
    writer.slots(folder.extra_slots)
    writer.texts(folder.title, folder.comments, folder.version)
    for code in folder.codes:
        writer.code(FolderScheme.CODE_LIST, code)
    writer.marker(FOLDER_NODE)
    for kept in folder.extra_classifications:
        writer.kept(kept)
    if folder.patient_id is not None:
        writer.identifier(FolderScheme.PATIENT_ID, str(folder.patient_id), "XDSFolder.patientId")
    writer.identifier(FolderScheme.UNIQUE_ID, _required(folder.unique_id, "unique_id"), "XDSFolder.uniqueId")
    _kept_identifiers(writer, folder.extra_identifiers)
    return writer.finish()


def association_element(association: Association) -> etree._Element:
    """``rim:Association`` (HasMember with SubmissionSetStatus, RPLC, signs, UpdateAvailabilityStatus…).

    Every association carries ebRIM's ``objectType`` of an Association, as the §6.1 official example does.
    """
    a = association
    writer = _Writer(
        T_ASSOCIATION,
        a.entry_uuid,
        {
            "associationType": str(a.association_type),
            "objectType": ASSOCIATION_OBJECT_TYPE,
            "sourceObject": _required(a.source, "source"),
            "targetObject": _required(a.target, "target"),
            "status": _status_value(a.status),
            "home": a.home_community_id,
        },
    )
    for name, field in ASSOCIATION_SLOTS.items():
        value = getattr(a, field)
        if value is not None:
            writer.slot(name, (value,))
    writer.slots(a.extra_slots)
    return writer.finish()


def object_ref_element(reference: ObjectRef) -> etree._Element:
    """``rim:ObjectRef`` (ObjectRef answers)."""
    element = etree.Element(T_OBJECT_REF, nsmap={"rim": RIM})
    _set(element, "id", _required(reference.id, "id"))
    if reference.home_community_id is not None:
        _set(element, "home", reference.home_community_id)
    return element


_WRITERS: Final[dict[type[Any], Callable[[Any], etree._Element]]] = {
    DocumentEntry: document_entry_element,
    SubmissionSet: submission_set_element,
    Folder: folder_element,
    Association: association_element,
    ObjectRef: object_ref_element,
}


def registry_object_element(item: RegistryObject) -> etree._Element:
    """The ebRIM element of any registry object of the model."""
    return _WRITERS[type(item)](item)


def registry_object_list(items: Iterable[RegistryObject]) -> etree._Element:
    """``rim:RegistryObjectList`` holding ``items`` in the given order."""
    element = etree.Element(T_OBJECT_LIST, nsmap={"rim": RIM})
    element.extend(registry_object_element(item) for item in items)
    return element


def _kept_identifiers(writer: _Writer, identifiers: Iterable[ExternalIdentifier]) -> None:
    for identifier in identifiers:
        writer.identifier(identifier.scheme, identifier.value, identifier.name)


def _required(value: str, field: str) -> str:
    if not value:
        raise DmpValidationError(f"{field}: required to write this registry object", field=field)
    return value
