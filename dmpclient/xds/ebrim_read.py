"""Reading ebRIM 3.0 into the XDS model: lenient, one pass per object (see :mod:`dmpclient.xds.ebrim`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from lxml import etree

from dmpclient.codes import Code
from dmpclient.ids import parse_decimal
from dmpclient.xds.codes import (
    DOCUMENT_ENTRY_OBJECT_TYPE,
    SUBMISSION_SET_NODE,
    AssociationType,
    AvailabilityStatus,
    DocumentEntryScheme,
    SubmissionSetScheme,
)
from dmpclient.xds.identifiers import Cx, Xcn, Xon, parse_dtm, unescape
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
from dmpclient.xds.rim import (
    ASSOCIATION_SLOTS,
    FOLDER_NODE,
    REFERENCE_ID_LIST,
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
)

__all__ = ["read_registry_objects"]

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


def _values(slot: etree._Element) -> tuple[str, ...]:
    values: list[str] = []
    for value_list in slot:
        if value_list.tag == T_VALUE_LIST:
            values.extend(value.text or "" for value in value_list if value.tag == T_VALUE)
    return tuple(values)


def _localized(element: etree._Element) -> str | None:
    for child in element:
        if child.tag == T_LOCALIZED:
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
            if tag == T_SLOT:
                slot = _read_slot(child)
                if slot[0] == "codingScheme" and self.coding_scheme is None:
                    self.coding_scheme = slot[1][0] if slot[1] else ""
                else:
                    self.slots.append(slot)
            elif tag == T_NAME:
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
            if child.tag == T_NAME:
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
        if tag == T_SLOT:
            parts.slots.append(_read_slot(child))
        elif tag == T_CLASSIFICATION:
            parts.classifications.append(_Classification(child))
        elif tag == T_IDENTIFIER:
            parts.identifiers.append(_Identifier(child))
        elif tag == T_NAME:
            parts.name = _localized(child)
        elif tag == T_DESCRIPTION:
            parts.description = _localized(child)
        elif tag == T_VERSION:
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
    size = parse_decimal(value)
    return ("size", size) if size is not None else None


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
    REFERENCE_ID_LIST: _list_slot("reference_ids"),
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


def _association(element: etree._Element, parts: _Parts) -> Association:
    kind = element.get("associationType", "")
    fields: dict[str, Any] = dict.fromkeys(ASSOCIATION_SLOTS.values())
    extra: list[Slot] = []
    for name, values in parts.slots:
        if name in ASSOCIATION_SLOTS and values:
            fields[ASSOCIATION_SLOTS[name]] = values[0]
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
    object_list = container if container.tag == T_OBJECT_LIST else container.find(T_OBJECT_LIST)
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
        if tag == T_EXTRINSIC:
            documents.append(_document(element, _parts(element)))
        elif tag == T_PACKAGE:
            packages.append((element, _parts(element)))
        elif tag == T_ASSOCIATION:
            associations.append(_association(element, _parts(element)))
        elif tag == T_OBJECT_REF:
            references.append(
                ObjectRef.model_construct(id=element.get("id", ""), home_community_id=element.get("home"))
            )
        elif tag == T_CLASSIFICATION:
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
