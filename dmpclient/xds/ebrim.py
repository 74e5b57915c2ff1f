"""The ebRIM 3.0 codec of XDS metadata, both directions, shared by the client and the mock (reference §4).

Reading (:func:`read_registry_objects`) is lenient: namespace prefixes, comments and element order do not
matter; slots, classifications and identifiers the model has no field for are kept (``extra_*``);
``classifiedObject`` / ``registryObject`` may be missing on nested elements (official DMP messages omit
them); ``LocalizedString`` may carry any ``charset`` / ``xml:lang`` (``UTF8``/``FR`` in DMP examples);
classifications placed beside their object (IHE allows the submission-set marker there) are attached to
it. It reads each object in one pass over its children and builds the models with ``model_construct``:
it is on the path of every search answer (see ``benchmarks/bench_xds.py``).

Writing (:func:`document_entry_element` …) is strict: elements in schema order (``ebrs30/rim.xsd``),
values within the schema's lengths, XML-safe text, timezone-aware times; nested classification and
identifier ids derive from their object's id (UUID-5 under a ``urn:uuid:`` object, ``{id}-cl1``… under a
symbolic one), so output is reproducible. Symbolic object ids (``Document01``) are allowed for ITI-41.
"""

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
    DOCUMENT_ENTRY_OBJECT_TYPE,
    SUBMISSION_SET_NODE,
    AssociationType,
    AvailabilityStatus,
    DocumentEntryScheme,
    SubmissionSetScheme,
)
from dmpclient.xds.identifiers import Cx, Xcn, Xon, escape, format_dtm, parse_dtm, unescape
from dmpclient.xds.models import (
    Association,
    Author,
    Classification,
    DocumentEntry,
    ExternalIdentifier,
    Folder,
    ObjectRef,
    RegistryObjects,
    Slot,
    SubmissionSet,
)

__all__ = [
    "FOLDER_NODE",
    "FolderScheme",
    "RegistryObject",
    "association_element",
    "document_entry_element",
    "folder_element",
    "object_ref_element",
    "read_registry_objects",
    "registry_object_element",
    "registry_object_list",
    "submission_set_element",
]

RegistryObject = DocumentEntry | SubmissionSet | Folder | Association | ObjectRef

_RIM: Final = NS["rim"]
_T_SLOT: Final = f"{{{_RIM}}}Slot"
_T_VALUE_LIST: Final = f"{{{_RIM}}}ValueList"
_T_VALUE: Final = f"{{{_RIM}}}Value"
_T_NAME: Final = f"{{{_RIM}}}Name"
_T_DESCRIPTION: Final = f"{{{_RIM}}}Description"
_T_LOCALIZED: Final = f"{{{_RIM}}}LocalizedString"
_T_VERSION: Final = f"{{{_RIM}}}VersionInfo"
_T_CLASSIFICATION: Final = f"{{{_RIM}}}Classification"
_T_IDENTIFIER: Final = f"{{{_RIM}}}ExternalIdentifier"
_T_EXTRINSIC: Final = f"{{{_RIM}}}ExtrinsicObject"
_T_PACKAGE: Final = f"{{{_RIM}}}RegistryPackage"
_T_ASSOCIATION: Final = f"{{{_RIM}}}Association"
_T_OBJECT_REF: Final = f"{{{_RIM}}}ObjectRef"
_T_OBJECT_LIST: Final = f"{{{_RIM}}}RegistryObjectList"
_XML_LANG: Final = f"{{{NS['xml']}}}lang"

#: ``@classificationNode`` marking a RegistryPackage as a Folder (reference §4.3).
FOLDER_NODE: Final = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
_LONG_NAME: Final = 256
#: Attributes typed anyURI / referenceURI in rim.xsd, and what libxml2 refuses in them.
_URI_ATTRIBUTES: Final = frozenset(
    {
        "id", "lid", "home", "status", "objectType", "associationType", "sourceObject", "targetObject",
        "classificationScheme", "classificationNode", "classifiedObject", "identificationScheme", "registryObject",
    }
)  # fmt: skip
_NOT_URI: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_FREE_FORM: Final = 1024
_LANG: Final = "fr-FR"
_CHARSET: Final = "UTF-8"


class FolderScheme:
    """Classification / identification schemes of a Folder (reference §4.3; IHE standard)."""

    CODE_LIST: Final = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"
    PATIENT_ID: Final = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
    UNIQUE_ID: Final = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"


_STATUSES: Final = {status.value: status for status in AvailabilityStatus}
_ASSOCIATION_TYPES: Final = {kind.value: kind for kind in AssociationType} | {
    "urn:ihe:iti:2010:AssociationType:RPLC": AssociationType.RPLC  # PKG-KIT's slip, reference §4.3
}
_CODE_FIELDS: Final = {
    DocumentEntryScheme.CLASS_CODE.value: "class_code",
    DocumentEntryScheme.TYPE_CODE.value: "type_code",
    DocumentEntryScheme.FORMAT_CODE.value: "format_code",
    DocumentEntryScheme.HEALTHCARE_FACILITY_TYPE_CODE.value: "healthcare_facility_type_code",
    DocumentEntryScheme.PRACTICE_SETTING_CODE.value: "practice_setting_code",
}
_CODE_LISTS: Final = {
    DocumentEntryScheme.CONFIDENTIALITY_CODE.value: "confidentiality_codes",
    DocumentEntryScheme.EVENT_CODE.value: "event_codes",
}
_AUTHOR_SCHEMES: Final = frozenset({DocumentEntryScheme.AUTHOR.value, SubmissionSetScheme.AUTHOR.value})
_REFERENCE_ID_LIST: Final = "urn:ihe:iti:xds:2013:referenceIdList"


# --- reading ------------------------------------------------------------------------------------


def _values(slot: etree._Element) -> tuple[str, ...]:
    values: list[str] = []
    for value_list in slot:
        if value_list.tag == _T_VALUE_LIST:
            values.extend(value.text or "" for value in value_list if value.tag == _T_VALUE)
    return tuple(values)


def _localized(element: etree._Element) -> str | None:
    for child in element:
        if child.tag == _T_LOCALIZED:
            return child.get("value")
    return None


RawSlot = tuple[str, tuple[str, ...]]


def _read_slot(element: etree._Element) -> RawSlot:
    return element.get("name", ""), _values(element)


def _slot_model(slot: RawSlot) -> Slot:
    return Slot.model_construct(name=slot[0], values=slot[1])


class _Classification:
    """A classification as read, before it becomes a field, an author, or a kept :class:`Classification`."""

    __slots__ = ("classified_object", "code", "coding_scheme", "display", "id", "node", "scheme", "slots")

    def __init__(self, element: etree._Element) -> None:
        self.scheme = element.get("classificationScheme")
        self.node = element.get("classificationNode")
        self.code = element.get("nodeRepresentation")
        self.id = element.get("id")
        self.classified_object = element.get("classifiedObject")
        self.coding_scheme: str | None = None
        self.display: str | None = None
        self.slots: list[RawSlot] = []
        for child in element:
            tag = child.tag
            if tag == _T_SLOT:
                slot = _read_slot(child)
                if slot[0] == "codingScheme" and self.coding_scheme is None:
                    self.coding_scheme = slot[1][0] if slot[1] else ""
                else:
                    self.slots.append(slot)
            elif tag == _T_NAME:
                self.display = _localized(child)

    def code_value(self) -> Code:
        return Code(self.code or "", self.coding_scheme or "", self.display or "")

    def model(self) -> Classification:
        return Classification.model_construct(
            scheme=self.scheme,
            node=self.node,
            code=self.code,
            coding_scheme=self.coding_scheme,
            display=self.display,
            id=self.id,
            classified_object=self.classified_object,
            slots=tuple(_slot_model(slot) for slot in self.slots),
        )


def _coded_value(value: str) -> Code:
    """An author role / specialty: ``code^display^system`` (DMP, CE), or ``code^^^&OID&ISO`` (CX form)."""
    parts = value.split("^")
    if len(parts) >= 4 and "&" in parts[3]:
        return Code(unescape(parts[0]), unescape(parts[3].split("&")[1]))
    padded = [*parts, "", ""]
    return Code(unescape(padded[0]), unescape(padded[2]), unescape(padded[1]))


def _author(classification: _Classification) -> Author:
    person: Xcn | None = None
    institutions: list[Xon] = []
    roles: list[Code] = []
    specialties: list[Code] = []
    telecoms: list[str] = []
    for name, values in classification.slots:
        if name == "authorPerson" and values and person is None:
            person = Xcn.parse(values[0])
        elif name == "authorInstitution":
            institutions.extend(Xon.parse(v) for v in values)
        elif name == "authorRole":
            roles.extend(_coded_value(v) for v in values)
        elif name == "authorSpecialty":
            specialties.extend(_coded_value(v) for v in values)
        elif name == "authorTelecommunication":
            telecoms.extend(values)
    return Author.model_construct(
        person=person,
        institutions=tuple(institutions),
        roles=tuple(roles),
        specialties=tuple(specialties),
        telecommunications=tuple(telecoms),
    )


class _Identifier:
    """An external identifier as read (most become a field; the others a kept :class:`ExternalIdentifier`)."""

    __slots__ = ("id", "name", "registry_object", "scheme", "value")

    def __init__(self, element: etree._Element) -> None:
        self.scheme = element.get("identificationScheme", "")
        self.value = element.get("value", "")
        self.id = element.get("id")
        self.registry_object = element.get("registryObject")
        self.name: str | None = None
        for child in element:
            if child.tag == _T_NAME:
                self.name = _localized(child)

    def model(self) -> ExternalIdentifier:
        return ExternalIdentifier.model_construct(
            scheme=self.scheme, value=self.value, id=self.id, registry_object=self.registry_object, name=self.name
        )


class _Parts:
    """What one registry object's children say, before it becomes a model."""

    __slots__ = ("classifications", "description", "identifiers", "name", "slots", "version")

    def __init__(self) -> None:
        self.slots: list[RawSlot] = []
        self.classifications: list[_Classification] = []
        self.identifiers: list[_Identifier] = []
        self.name: str | None = None
        self.description: str | None = None
        self.version: str | None = None


def _parts(element: etree._Element) -> _Parts:
    parts = _Parts()
    for child in element:
        tag = child.tag
        if tag == _T_SLOT:
            parts.slots.append(_read_slot(child))
        elif tag == _T_CLASSIFICATION:
            parts.classifications.append(_Classification(child))
        elif tag == _T_IDENTIFIER:
            parts.identifiers.append(_Identifier(child))
        elif tag == _T_NAME:
            parts.name = _localized(child)
        elif tag == _T_DESCRIPTION:
            parts.description = _localized(child)
        elif tag == _T_VERSION:
            parts.version = child.get("versionName")
    return parts


def _status(value: str | None) -> AvailabilityStatus | str | None:
    return _STATUSES.get(value, value) if value is not None else None


def _first(values: tuple[str, ...]) -> str:
    return values[0] if values else ""


SlotReader = Callable[[tuple[str, ...]], tuple[str, Any] | None]


def _time_slot(field: str) -> SlotReader:
    def read(values: tuple[str, ...]) -> tuple[str, Any] | None:
        moment = parse_dtm(_first(values))
        return (field, moment) if moment is not None else None

    return read


def _text_slot(field: str) -> SlotReader:
    return lambda values: (field, _first(values))


def _size_slot(values: tuple[str, ...]) -> tuple[str, Any] | None:
    value = _first(values)
    return ("size", int(value)) if value.isdigit() else None


def _parsed_slot(field: str, parse: Callable[[str], Any]) -> SlotReader:
    return lambda values: (field, parse(values[0]) if values and values[0] else None)


def _list_slot(field: str) -> SlotReader:
    return lambda values: (field, values)


#: How each DocumentEntry slot the model knows is read; ``None`` keeps the slot as received (malformed).
_DOCUMENT_SLOTS: Final[dict[str, SlotReader]] = {
    "creationTime": _time_slot("creation_time"),
    "serviceStartTime": _time_slot("service_start_time"),
    "serviceStopTime": _time_slot("service_stop_time"),
    "size": _size_slot,
    "languageCode": _text_slot("language_code"),
    "hash": _text_slot("hash"),
    "repositoryUniqueId": _text_slot("repository_unique_id"),
    "legalAuthenticator": _parsed_slot("legal_authenticator", Xcn.parse),
    "sourcePatientId": _parsed_slot("source_patient_id", Cx.parse),
    "sourcePatientInfo": _list_slot("source_patient_info"),
    _REFERENCE_ID_LIST: _list_slot("reference_ids"),
}


def _document_slots(parts: _Parts, fields: dict[str, Any]) -> list[Slot]:
    extra: list[Slot] = []
    for slot in parts.slots:
        reader = _DOCUMENT_SLOTS.get(slot[0])
        found = reader(slot[1]) if reader is not None else None
        if found is None:
            extra.append(_slot_model(slot))
        else:
            fields[found[0]] = found[1]
    return extra


def _document(element: etree._Element, parts: _Parts) -> DocumentEntry:
    entry_uuid = element.get("id", "")
    fields: dict[str, Any] = {
        "entry_uuid": entry_uuid,
        "unique_id": "",
        "patient_id": None,
        "status": _status(element.get("status")),
        "logical_id": element.get("lid"),
        "version": parts.version,
        "mime_type": element.get("mimeType", "application/octet-stream"),
        "object_type": element.get("objectType", DOCUMENT_ENTRY_OBJECT_TYPE),
        "home_community_id": element.get("home"),
        "title": parts.name,
        "comments": parts.description,
        "class_code": None,
        "type_code": None,
        "format_code": None,
        "healthcare_facility_type_code": None,
        "practice_setting_code": None,
        "confidentiality_codes": (),
        "event_codes": (),
        "authors": (),
        "legal_authenticator": None,
        "creation_time": None,
        "service_start_time": None,
        "service_stop_time": None,
        "language_code": None,
        "hash": None,
        "size": None,
        "repository_unique_id": None,
        "source_patient_id": None,
        "source_patient_info": (),
        "reference_ids": (),
    }
    fields["extra_slots"] = tuple(_document_slots(parts, fields))
    extra_classifications: list[Classification] = []
    authors: list[Author] = []
    lists: dict[str, list[Code]] = {"confidentiality_codes": [], "event_codes": []}
    for classification in parts.classifications:
        scheme = classification.scheme or ""
        if scheme in _CODE_FIELDS:
            fields[_CODE_FIELDS[scheme]] = classification.code_value()
        elif scheme in _CODE_LISTS:
            lists[_CODE_LISTS[scheme]].append(classification.code_value())
        elif scheme in _AUTHOR_SCHEMES:
            authors.append(_author(classification))
        else:
            extra_classifications.append(classification.model())
    fields["confidentiality_codes"] = tuple(lists["confidentiality_codes"])
    fields["event_codes"] = tuple(lists["event_codes"])
    fields["authors"] = tuple(authors)
    fields["extra_classifications"] = tuple(extra_classifications)
    extra_identifiers: list[ExternalIdentifier] = []
    for identifier in parts.identifiers:
        if identifier.scheme == DocumentEntryScheme.UNIQUE_ID:
            fields["unique_id"] = identifier.value
        elif identifier.scheme == DocumentEntryScheme.PATIENT_ID:
            fields["patient_id"] = Cx.parse(identifier.value)
        else:
            extra_identifiers.append(identifier.model())
    fields["extra_identifiers"] = tuple(extra_identifiers)
    return DocumentEntry.model_construct(**fields)


def _package_common(element: etree._Element, parts: _Parts) -> dict[str, Any]:
    return {
        "entry_uuid": element.get("id", ""),
        "status": _status(element.get("status")),
        "title": parts.name,
        "comments": parts.description,
        "home_community_id": element.get("home"),
        "logical_id": element.get("lid"),
        "version": parts.version,
    }


def _identifiers(
    parts: _Parts, unique_scheme: str, patient_scheme: str, fields: dict[str, Any], source_scheme: str | None = None
) -> None:
    extra: list[ExternalIdentifier] = []
    fields.setdefault("unique_id", "")
    for identifier in parts.identifiers:
        if identifier.scheme == unique_scheme:
            fields["unique_id"] = identifier.value
        elif identifier.scheme == patient_scheme:
            fields["patient_id"] = Cx.parse(identifier.value)
        elif source_scheme is not None and identifier.scheme == source_scheme:
            fields["source_id"] = identifier.value
        else:
            extra.append(identifier.model())
    fields["extra_identifiers"] = tuple(extra)


def _submission_set(element: etree._Element, parts: _Parts) -> SubmissionSet:
    fields = _package_common(element, parts)
    fields.update(patient_id=None, submission_time=None, source_id="", content_type_code=None)
    extra_slots: list[Slot] = []
    recipients: tuple[str, ...] = ()
    for name, values in parts.slots:
        moment = parse_dtm(_first(values)) if name == "submissionTime" else None
        if moment is not None:
            fields["submission_time"] = moment
        elif name == "intendedRecipient":
            recipients = values
        else:
            extra_slots.append(_slot_model((name, values)))
    authors: list[Author] = []
    extra_classifications: list[Classification] = []
    for classification in parts.classifications:
        if classification.scheme == SubmissionSetScheme.CONTENT_TYPE_CODE:
            fields["content_type_code"] = classification.code_value()
        elif classification.scheme in _AUTHOR_SCHEMES:
            authors.append(_author(classification))
        elif classification.node != SUBMISSION_SET_NODE:
            extra_classifications.append(classification.model())
    _identifiers(
        parts, SubmissionSetScheme.UNIQUE_ID, SubmissionSetScheme.PATIENT_ID, fields, SubmissionSetScheme.SOURCE_ID
    )
    return SubmissionSet.model_construct(
        **fields,
        authors=tuple(authors),
        intended_recipients=recipients,
        extra_slots=tuple(extra_slots),
        extra_classifications=tuple(extra_classifications),
    )


def _folder(element: etree._Element, parts: _Parts) -> Folder:
    fields = _package_common(element, parts)
    fields.update(patient_id=None, last_update_time=None)
    extra_slots: list[Slot] = []
    for name, values in parts.slots:
        moment = parse_dtm(_first(values)) if name == "lastUpdateTime" else None
        if moment is not None:
            fields["last_update_time"] = moment
        else:
            extra_slots.append(_slot_model((name, values)))
    codes = [c.code_value() for c in parts.classifications if c.scheme == FolderScheme.CODE_LIST]
    others = [c.model() for c in parts.classifications if c.scheme != FolderScheme.CODE_LIST and c.node != FOLDER_NODE]
    _identifiers(parts, FolderScheme.UNIQUE_ID, FolderScheme.PATIENT_ID, fields)
    return Folder.model_construct(
        **fields, codes=tuple(codes), extra_slots=tuple(extra_slots), extra_classifications=tuple(others)
    )


_ASSOCIATION_SLOTS: Final = {
    "SubmissionSetStatus": "submission_set_status",
    "PreviousVersion": "previous_version",
    "OriginalStatus": "original_status",
    "NewStatus": "new_status",
}


def _association(element: etree._Element, parts: _Parts) -> Association:
    kind = element.get("associationType", "")
    fields: dict[str, Any] = dict.fromkeys(_ASSOCIATION_SLOTS.values())
    extra: list[Slot] = []
    for name, values in parts.slots:
        if name in _ASSOCIATION_SLOTS and values:
            fields[_ASSOCIATION_SLOTS[name]] = values[0]
        else:
            extra.append(_slot_model((name, values)))
    return Association.model_construct(
        entry_uuid=element.get("id", ""),
        association_type=_ASSOCIATION_TYPES.get(kind, kind),
        source=element.get("sourceObject", ""),
        target=element.get("targetObject", ""),
        status=_status(element.get("status")),
        home_community_id=element.get("home"),
        extra_slots=tuple(extra),
        **fields,
    )


def _package_kind(parts: _Parts) -> str | None:
    for classification in parts.classifications:
        if classification.node == SUBMISSION_SET_NODE:
            return "submission_set"
        if classification.node == FOLDER_NODE:
            return "folder"
    return None


def read_registry_objects(container: etree._Element) -> RegistryObjects:
    """Read the registry objects under ``container`` (a ``rim:RegistryObjectList``, or its parent).

    Unknown elements are skipped with a warning; a RegistryPackage with neither marker is read as a
    submission set when its identifiers say so, else reported.
    """
    object_list = container if container.tag == _T_OBJECT_LIST else container.find(_T_OBJECT_LIST)
    if object_list is None:
        return RegistryObjects()
    documents: list[DocumentEntry] = []
    packages: list[tuple[etree._Element, _Parts]] = []
    associations: list[Association] = []
    references: list[ObjectRef] = []
    loose: list[_Classification] = []
    warnings: list[str] = []
    for element in object_list:
        tag = element.tag
        if tag == _T_EXTRINSIC:
            documents.append(_document(element, _parts(element)))
        elif tag == _T_PACKAGE:
            packages.append((element, _parts(element)))
        elif tag == _T_ASSOCIATION:
            associations.append(_association(element, _parts(element)))
        elif tag == _T_OBJECT_REF:
            references.append(
                ObjectRef.model_construct(id=element.get("id", ""), home_community_id=element.get("home"))
            )
        elif tag == _T_CLASSIFICATION:
            loose.append(_Classification(element))
        elif isinstance(tag, str):
            warnings.append(f"skipped an unexpected {etree.QName(tag).localname} in RegistryObjectList")
    submission_sets, folders, unresolved = _packages(packages, loose, warnings)
    return RegistryObjects.model_construct(
        documents=tuple(documents),
        submission_sets=tuple(submission_sets),
        folders=tuple(folders),
        associations=tuple(associations),
        references=tuple(references),
        classifications=tuple(unresolved),
        warnings=tuple(warnings),
    )


def _packages(
    packages: list[tuple[etree._Element, _Parts]], loose: list[_Classification], warnings: list[str]
) -> tuple[list[SubmissionSet], list[Folder], list[Classification]]:
    """Attach loose classifications to their package, then read each package as what its marker says."""
    by_id = {element.get("id", ""): parts for element, parts in packages}
    unresolved = []
    for classification in loose:
        target = by_id.get(classification.classified_object or "")
        if target is None:
            unresolved.append(classification.model())
        else:
            target.classifications.append(classification)
    submission_sets: list[SubmissionSet] = []
    folders: list[Folder] = []
    for element, parts in packages:
        kind = _package_kind(parts)
        if kind is None and any(i.scheme == SubmissionSetScheme.UNIQUE_ID for i in parts.identifiers):
            kind = "submission_set"
        if kind == "folder" or (kind is None and any(i.scheme == FolderScheme.UNIQUE_ID for i in parts.identifiers)):
            folders.append(_folder(element, parts))
        elif kind == "submission_set":
            submission_sets.append(_submission_set(element, parts))
        else:
            warnings.append("skipped a RegistryPackage that is neither a submission set nor a folder")
    return submission_sets, folders, unresolved


# --- writing ------------------------------------------------------------------------------------


class _Writer:
    """Builds one object's children in schema order, with ids derived from the object's id."""

    def __init__(self, tag: str, owner_id: str, attributes: dict[str, str | None]) -> None:
        if not owner_id:
            raise DmpValidationError("a registry object needs an id (a urn:uuid: or a symbolic id)", field="id")
        self.owner_id = owner_id
        self.element = etree.Element(tag, nsmap={"rim": _RIM})
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
            self.element.append(_international(_T_NAME, title))
        if comments is not None:
            self.element.append(_international(_T_DESCRIPTION, comments))
        if version is not None:
            _set(etree.SubElement(self.element, _T_VERSION), "versionName", version)

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
        element = etree.Element(_T_CLASSIFICATION)
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
            element.append(_international(_T_NAME, display))
        self._classifications.append(element)

    def identifier(self, scheme: str, value: str, name: str | None) -> None:
        element = etree.Element(_T_IDENTIFIER)
        _set(element, "identificationScheme", scheme)
        _set(element, "value", value, _LONG_NAME)
        _set(element, "id", self.nested_id("ei"))
        _set(element, "registryObject", self.owner_id)
        if name is not None:
            element.append(_international(_T_NAME, name))
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
    element = etree.Element(_T_SLOT)
    _set(element, "name", name, _LONG_NAME)
    value_list = etree.SubElement(element, _T_VALUE_LIST)
    for value in values:
        if len(value) > _LONG_NAME:
            raise DmpValidationError(f"slot {name}: a value of {len(value)} characters exceeds 256", field=name)
        try:
            etree.SubElement(value_list, _T_VALUE).text = value
        except ValueError:
            raise DmpValidationError(f"slot {name}: a value holds characters XML cannot carry", field=name) from None
    return element


def _international(tag: str, text: str) -> etree._Element:
    element = etree.Element(tag)
    localized = etree.SubElement(element, _T_LOCALIZED)
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
        _T_EXTRINSIC,
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
        (_REFERENCE_ID_LIST, entry.reference_ids),
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
        _T_PACKAGE,
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
        _T_PACKAGE,
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
    """``rim:Association`` (HasMember with SubmissionSetStatus, RPLC, signs, UpdateAvailabilityStatus…)."""
    a = association
    writer = _Writer(
        _T_ASSOCIATION,
        a.entry_uuid,
        {
            "associationType": str(a.association_type),
            "sourceObject": _required(a.source, "source"),
            "targetObject": _required(a.target, "target"),
            "status": _status_value(a.status),
            "home": a.home_community_id,
        },
    )
    for name, field in _ASSOCIATION_SLOTS.items():
        value = getattr(a, field)
        if value is not None:
            writer.slot(name, (value,))
    writer.slots(a.extra_slots)
    return writer.finish()


def object_ref_element(reference: ObjectRef) -> etree._Element:
    """``rim:ObjectRef`` (ObjectRef answers)."""
    element = etree.Element(_T_OBJECT_REF, nsmap={"rim": _RIM})
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
    element = etree.Element(_T_OBJECT_LIST, nsmap={"rim": _RIM})
    element.extend(registry_object_element(item) for item in items)
    return element


def _kept_identifiers(writer: _Writer, identifiers: Iterable[ExternalIdentifier]) -> None:
    for identifier in identifiers:
        writer.identifier(identifier.scheme, identifier.value, identifier.name)


def _required(value: str, field: str) -> str:
    if not value:
        raise DmpValidationError(f"{field}: required to write this registry object", field=field)
    return value
