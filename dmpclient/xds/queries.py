"""The fourteen ITI-18 stored queries as typed objects, and the ``AdhocQueryRequest`` that carries them (§4.8).

Each query is a frozen pydantic model whose parameters are declared once (:class:`Param`: slot name, field,
value kind, required); the same declaration writes the request (client), reads it back (mock, ``dmp
inspect``) and checks it: a missing required parameter, several values for a single-valued one, or both
sides of an either/or pair (``$XDSDocumentEntryEntryUUID`` / ``…UniqueId``) raise
:class:`StoredQueryError` carrying the XDS error code the registry answers with (reference §9.4).

Values go through :mod:`dmpclient.xds.query_syntax` (quoted, lists packed by 256 characters). Codes may be
given as :class:`~dmpclient.codes.Code`, ``"code^^system"``, or a bare code of the parameter's DMP value set
(``class_codes=["10"]``). Multi-valued code parameters that allow AND (event codes, confidentiality codes,
folder codes) take one list (OR) or a list of lists (AND of ORs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Annotated, Any, ClassVar, Final, Self

from lxml import etree
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from dmpclient._xml import NS
from dmpclient.codes import Code, ValueSetId, load_value_set
from dmpclient.errors import DmpProtocolError, DmpValidationError
from dmpclient.xds.codes import AssociationType, AvailabilityStatus
from dmpclient.xds.identifiers import Cx
from dmpclient.xds.models import ReturnType
from dmpclient.xds.query_syntax import (
    QueryValueError,
    format_code,
    format_list,
    format_time,
    parse_code,
    parse_time,
    parse_values,
    quote,
)
from dmpclient.xds.response import ErrorCode

__all__ = [
    "QUERIES",
    "FindDocuments",
    "FindDocumentsByReferenceId",
    "FindFolders",
    "FindSubmissionSets",
    "GetAll",
    "GetAssociations",
    "GetDocuments",
    "GetDocumentsAndAssociations",
    "GetFolderAndContents",
    "GetFolders",
    "GetFoldersForDocument",
    "GetRelatedDocuments",
    "GetSubmissionSetAndContents",
    "GetSubmissionSets",
    "Kind",
    "Param",
    "QueryRequest",
    "StoredQuery",
    "StoredQueryError",
    "build_query_request",
    "read_query_request",
]

_T_REQUEST: Final = f"{{{NS['query']}}}AdhocQueryRequest"
_T_OPTION: Final = f"{{{NS['query']}}}ResponseOption"
_T_ADHOC: Final = f"{{{NS['rim']}}}AdhocQuery"
_T_SLOT: Final = f"{{{NS['rim']}}}Slot"
_T_VALUE_LIST: Final = f"{{{NS['rim']}}}ValueList"
_T_VALUE: Final = f"{{{NS['rim']}}}Value"


class StoredQueryError(DmpProtocolError):
    """A stored-query request the registry must refuse, with the XDS error code to answer (§9.4).

    Attributes:
        error_code: ``XDSUnknownStoredQuery``, ``XDSStoredQueryMissingParam``, ``XDSStoredQueryParamNumber``
            or ``XDSRegistryError`` (malformed value).
        parameter: the slot name concerned, if any.
    """

    def __init__(self, message: str, *, error_code: str, parameter: str | None = None) -> None:
        super().__init__(message, td="TD3.1")
        self.error_code = error_code
        self.parameter = parameter


class Kind(Enum):
    """How a parameter's values are written."""

    TEXT = "text"  # one quoted string
    TEXT_LIST = "text list"  # quoted strings, OR
    PATIENT = "patient"  # one quoted CX
    TIME = "time"  # one bare DTM
    CODES = "codes"  # code^^scheme items, OR
    CODES_AND = "codes and"  # the slot repeated: AND of OR lists


@dataclass(frozen=True, slots=True)
class Param:
    """One stored-query parameter: its slot name, the model field, its kind, whether it is required."""

    name: str
    field: str
    kind: Kind
    required: bool = False


# --- value coercion for users (validators) -----------------------------------------------------


def _code_of(value: object, value_set: ValueSetId | None, field: str) -> Code:
    if isinstance(value, Code):
        return Code(value.code, value.system)  # a query matches on code and system, never on the label
    if not isinstance(value, str):
        raise DmpValidationError(f"{field}: give a Code, 'code^^system' or a code of the value set", field=field)
    if "^^" in value:
        code, _, system = value.partition("^^")
        return Code(code, system)
    if value_set is None:
        raise DmpValidationError(f"{field}: give the code as Code(code, system) or 'code^^system'", field=field)
    found = load_value_set(value_set).require(value, field=field)
    return Code(found.code, found.system)


def _codes(value_set: ValueSetId | None, field: str) -> BeforeValidator:
    def coerce(value: object) -> tuple[Code, ...]:
        if isinstance(value, str | Code):
            value = (value,)
        return tuple(_code_of(item, value_set, field) for item in value)  # type: ignore[attr-defined]

    return BeforeValidator(coerce)


def _code_groups(value_set: ValueSetId | None, field: str) -> BeforeValidator:
    """One OR list, or a list of OR lists (AND): always stored as a tuple of groups."""

    def coerce(value: object) -> tuple[tuple[Code, ...], ...]:
        if isinstance(value, str | Code):
            value = (value,)
        items = list(value)  # type: ignore[call-overload]
        if items and all(isinstance(item, str | Code) for item in items):
            items = [items]
        return tuple(tuple(_code_of(code, value_set, field) for code in group) for group in items if group)

    return BeforeValidator(coerce)


def _strings(value: object) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)  # type: ignore[attr-defined]


def _enums(enum: type[StrEnum]) -> BeforeValidator:
    """Strings, with the values ``enum`` defines as its members (others kept as received)."""
    members = {member.value: member for member in enum}
    return BeforeValidator(lambda value: tuple(members.get(v, v) for v in _strings(value)))


def _patient(value: object) -> object:
    return Cx.parse(value) if isinstance(value, str) else value


Codes = tuple[Code, ...]
CodeGroups = tuple[tuple[Code, ...], ...]
Strings = Annotated[tuple[str, ...], BeforeValidator(_strings)]
Statuses = Annotated[tuple[AvailabilityStatus | str, ...], _enums(AvailabilityStatus)]
Patient = Annotated[Cx, BeforeValidator(_patient)]
Time = AwareDatetime | None

_APPROVED: Final = (AvailabilityStatus.APPROVED,)


# --- the queries --------------------------------------------------------------------------------


def _validation_error(query: str, exc: ValidationError) -> DmpValidationError:
    """One readable :class:`DmpValidationError` for the first problem pydantic found."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if where and not message.startswith(f"{where}:"):
        message = f"{where}: {message}"
    if not message.startswith(f"{query}:"):
        message = f"{query}: {message}"
    return DmpValidationError(message, field=where or None)


class StoredQuery(BaseModel):
    """Base of the stored queries: the declaration drives writing, reading and checking."""

    model_config = ConfigDict(frozen=True)

    QUERY_ID: ClassVar[str]
    PARAMS: ClassVar[tuple[Param, ...]]
    #: groups of fields of which exactly one must be given
    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: the query names its patient (the VIHF resource-id must agree)
    PATIENT_FIELD: ClassVar[str | None] = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _validation_error(type(self).__name__, exc) from None

    @property
    def name(self) -> str:
        """The IHE name of the query (``FindDocuments``…)."""
        return type(self).__name__

    @property
    def patient(self) -> Cx | None:
        """The patient the query is about, when it names one."""
        value = getattr(self, self.PATIENT_FIELD) if self.PATIENT_FIELD else None
        return value if isinstance(value, Cx) else None

    @model_validator(mode="after")
    def _check_declaration(self) -> Self:
        for group in self.ONE_OF:
            given = [field for field in group if getattr(self, field)]
            if len(given) != 1:
                names = " or ".join(p.name for p in self.PARAMS if p.field in group)
                raise DmpValidationError(f"{self.name}: give exactly one of {names}", field=group[0])
        for param in self.PARAMS:
            if param.required and not getattr(self, param.field):
                raise DmpValidationError(f"{self.name}: {param.name} is required", field=param.field)
        return self

    def slots(self) -> list[tuple[str, list[str]]]:
        """The ``(slot name, Value texts)`` of this query, in declaration order (a repeated name means AND)."""
        out: list[tuple[str, list[str]]] = []
        for param in self.PARAMS:
            value = getattr(self, param.field)
            if value is None or value in ((), ""):
                continue
            out.extend((param.name, texts) for texts in _write(param, value))
        return out


def _write(param: Param, value: Any) -> list[list[str]]:
    kind = param.kind
    if kind is Kind.TEXT:
        return [[quote(value)]]
    if kind is Kind.PATIENT:  # a CX taken from a registry answer may carry a CX.7 date: queries send none (§4.2)
        return [[quote(str(value.without_date()))]]
    if kind is Kind.TIME:
        return [[format_time(value)]]
    if kind is Kind.TEXT_LIST:
        return [format_list((str(v) for v in value), name=param.name)]
    if kind is Kind.CODES:
        return [format_list((format_code(c) for c in value), name=param.name)]
    return [format_list((format_code(c) for c in group), name=param.name) for group in value]


class _DocumentFilters(StoredQuery):
    """FindDocuments' parameters (shared by FindDocumentsByReferenceId)."""

    PATIENT_FIELD: ClassVar[str | None] = "patient_id"

    patient_id: Patient
    status: Statuses = _APPROVED
    class_codes: Annotated[Codes, _codes(ValueSetId.CLASS_CODE, "class_codes")] = ()
    type_codes: Annotated[Codes, _codes(ValueSetId.TYPE_CODE, "type_codes")] = ()
    practice_setting_codes: Annotated[Codes, _codes(ValueSetId.PRACTICE_SETTING_CODE, "practice_setting_codes")] = ()
    healthcare_facility_type_codes: Annotated[
        Codes, _codes(ValueSetId.HEALTHCARE_FACILITY_TYPE_CODE, "healthcare_facility_type_codes")
    ] = ()
    format_codes: Annotated[Codes, _codes(ValueSetId.FORMAT_CODE, "format_codes")] = ()
    event_codes: Annotated[CodeGroups, _code_groups(ValueSetId.EVENT_CODE, "event_codes")] = ()
    confidentiality_codes: Annotated[
        CodeGroups, _code_groups(ValueSetId.CONFIDENTIALITY_CODE, "confidentiality_codes")
    ] = ()
    author_persons: Strings = ()
    created_from: Time = None
    created_to: Time = None
    service_start_from: Time = None
    service_start_to: Time = None
    service_stop_from: Time = None
    service_stop_to: Time = None
    object_types: Strings = ()


_D = "$XDSDocumentEntry"
_DOCUMENT_FILTER_PARAMS: Final = (
    Param(f"{_D}PatientId", "patient_id", Kind.PATIENT, required=True),
    Param(f"{_D}ClassCode", "class_codes", Kind.CODES),
    Param(f"{_D}TypeCode", "type_codes", Kind.CODES),
    Param(f"{_D}PracticeSettingCode", "practice_setting_codes", Kind.CODES),
    Param(f"{_D}CreationTimeFrom", "created_from", Kind.TIME),
    Param(f"{_D}CreationTimeTo", "created_to", Kind.TIME),
    Param(f"{_D}ServiceStartTimeFrom", "service_start_from", Kind.TIME),
    Param(f"{_D}ServiceStartTimeTo", "service_start_to", Kind.TIME),
    Param(f"{_D}ServiceStopTimeFrom", "service_stop_from", Kind.TIME),
    Param(f"{_D}ServiceStopTimeTo", "service_stop_to", Kind.TIME),
    Param(f"{_D}HealthcareFacilityTypeCode", "healthcare_facility_type_codes", Kind.CODES),
    Param(f"{_D}EventCodeList", "event_codes", Kind.CODES_AND),
    Param(f"{_D}ConfidentialityCode", "confidentiality_codes", Kind.CODES_AND),
    Param(f"{_D}AuthorPerson", "author_persons", Kind.TEXT_LIST),
    Param(f"{_D}FormatCode", "format_codes", Kind.CODES),
    Param(f"{_D}Status", "status", Kind.TEXT_LIST, required=True),
    Param(f"{_D}Type", "object_types", Kind.TEXT_LIST),
)
_HOME: Final = Param("$homeCommunityId", "home_community_id", Kind.TEXT)


class FindDocuments(_DocumentFilters):
    """A patient's document entries matching filters (TD3.1a; ``author_persons`` accept ``%``/``_`` wildcards)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
    PARAMS: ClassVar[tuple[Param, ...]] = _DOCUMENT_FILTER_PARAMS


class FindDocumentsByReferenceId(_DocumentFilters):
    """FindDocuments restricted to entries carrying one of ``reference_ids`` (``referenceIdList``)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"
    PARAMS: ClassVar[tuple[Param, ...]] = (
        *_DOCUMENT_FILTER_PARAMS,
        Param(f"{_D}ReferenceIdList", "reference_ids", Kind.TEXT_LIST, required=True),
    )

    reference_ids: Strings = ()


class FindSubmissionSets(StoredQuery):
    """A patient's submission sets ("new submissions since a date")."""

    QUERY_ID: ClassVar[str] = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("$XDSSubmissionSetPatientId", "patient_id", Kind.PATIENT, required=True),
        Param("$XDSSubmissionSetSourceId", "source_ids", Kind.TEXT_LIST),
        Param("$XDSSubmissionSetSubmissionTimeFrom", "submitted_from", Kind.TIME),
        Param("$XDSSubmissionSetSubmissionTimeTo", "submitted_to", Kind.TIME),
        Param("$XDSSubmissionSetAuthorPerson", "author_person", Kind.TEXT),
        Param("$XDSSubmissionSetContentType", "content_type_codes", Kind.CODES),
        Param("$XDSSubmissionSetStatus", "status", Kind.TEXT_LIST, required=True),
    )

    patient_id: Patient
    status: Statuses = _APPROVED
    source_ids: Strings = ()
    submitted_from: Time = None
    submitted_to: Time = None
    author_person: str | None = None
    content_type_codes: Annotated[Codes, _codes(ValueSetId.CONTENT_TYPE_CODE, "content_type_codes")] = ()


class FindFolders(StoredQuery):
    """A patient's folders (IHE; no DMP source uses folders)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("$XDSFolderPatientId", "patient_id", Kind.PATIENT, required=True),
        Param("$XDSFolderLastUpdateTimeFrom", "updated_from", Kind.TIME),
        Param("$XDSFolderLastUpdateTimeTo", "updated_to", Kind.TIME),
        Param("$XDSFolderCodeList", "codes", Kind.CODES_AND),
        Param("$XDSFolderStatus", "status", Kind.TEXT_LIST, required=True),
    )

    patient_id: Patient
    status: Statuses = _APPROVED
    updated_from: Time = None
    updated_to: Time = None
    codes: Annotated[CodeGroups, _code_groups(None, "codes")] = ()


class _ContentFilters(StoredQuery):
    """Filters on the documents returned with a package (format, confidentiality, entry type)."""

    format_codes: Annotated[Codes, _codes(ValueSetId.FORMAT_CODE, "format_codes")] = ()
    confidentiality_codes: Annotated[
        CodeGroups, _code_groups(ValueSetId.CONFIDENTIALITY_CODE, "confidentiality_codes")
    ] = ()
    object_types: Strings = ()


_CONTENT_PARAMS: Final = (
    Param(f"{_D}FormatCode", "format_codes", Kind.CODES),
    Param(f"{_D}ConfidentialityCode", "confidentiality_codes", Kind.CODES_AND),
    Param(f"{_D}Type", "object_types", Kind.TEXT_LIST),
)


class GetAll(_ContentFilters):
    """Everything of a patient: entries, submission sets, folders, associations (not used by the DMP)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"
    PATIENT_FIELD: ClassVar[str | None] = "patient_id"
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("$patientId", "patient_id", Kind.PATIENT, required=True),
        Param(f"{_D}Status", "document_status", Kind.TEXT_LIST, required=True),
        Param("$XDSSubmissionSetStatus", "submission_set_status", Kind.TEXT_LIST, required=True),
        Param("$XDSFolderStatus", "folder_status", Kind.TEXT_LIST, required=True),
        *_CONTENT_PARAMS,
    )

    patient_id: Patient
    document_status: Statuses = _APPROVED
    submission_set_status: Statuses = _APPROVED
    folder_status: Statuses = _APPROVED


class _ByEntry(StoredQuery):
    """Queries addressing document entries by entryUUID or uniqueId (lists)."""

    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = (("entry_uuids", "unique_ids"),)
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param(f"{_D}EntryUUID", "entry_uuids", Kind.TEXT_LIST),
        Param(f"{_D}UniqueId", "unique_ids", Kind.TEXT_LIST),
        _HOME,
    )

    entry_uuids: Strings = ()
    unique_ids: Strings = ()
    home_community_id: str | None = None


class GetDocuments(_ByEntry):
    """Document entries by entryUUID or uniqueId (TD3.1b with ObjectRef: uniqueId → entryUUID)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"


class GetDocumentsAndAssociations(_ByEntry):
    """Document entries and every association having one of them as source or target."""

    QUERY_ID: ClassVar[str] = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"


class GetFolders(StoredQuery):
    """Folders by entryUUID or uniqueId (IHE; unused by the DMP)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4"
    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = (("entry_uuids", "unique_ids"),)
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("$XDSFolderEntryUUID", "entry_uuids", Kind.TEXT_LIST),
        Param("$XDSFolderUniqueId", "unique_ids", Kind.TEXT_LIST),
        _HOME,
    )

    entry_uuids: Strings = ()
    unique_ids: Strings = ()
    home_community_id: str | None = None


class _ByUuid(StoredQuery):
    PARAMS: ClassVar[tuple[Param, ...]] = (Param("$uuid", "uuids", Kind.TEXT_LIST, required=True), _HOME)

    uuids: Strings
    home_community_id: str | None = None


class GetAssociations(_ByUuid):
    """Associations having one of ``uuids`` as source or target."""

    QUERY_ID: ClassVar[str] = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"


class GetSubmissionSets(_ByUuid):
    """The submission sets containing the given document entries (with their HasMember associations)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:51224314-5390-4169-9b91-b1980040715a"


class GetSubmissionSetAndContents(_ContentFilters):
    """A submission set, its document entries (filtered) and its associations."""

    QUERY_ID: ClassVar[str] = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"
    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = (("entry_uuid", "unique_id"),)
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("$XDSSubmissionSetEntryUUID", "entry_uuid", Kind.TEXT),
        Param("$XDSSubmissionSetUniqueId", "unique_id", Kind.TEXT),
        *_CONTENT_PARAMS,
        _HOME,
    )

    entry_uuid: str | None = None
    unique_id: str | None = None
    home_community_id: str | None = None


class GetFolderAndContents(_ContentFilters):
    """A folder, its document entries and associations (IHE; unused by the DMP)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7"
    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = (("entry_uuid", "unique_id"),)
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("$XDSFolderEntryUUID", "entry_uuid", Kind.TEXT),
        Param("$XDSFolderUniqueId", "unique_id", Kind.TEXT),
        *_CONTENT_PARAMS,
        _HOME,
    )

    entry_uuid: str | None = None
    unique_id: str | None = None
    home_community_id: str | None = None


class GetFoldersForDocument(StoredQuery):
    """The folders holding a document entry (IHE; unused by the DMP)."""

    QUERY_ID: ClassVar[str] = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578"
    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = (("entry_uuid", "unique_id"),)
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param(f"{_D}EntryUUID", "entry_uuid", Kind.TEXT),
        Param(f"{_D}UniqueId", "unique_id", Kind.TEXT),
        _HOME,
    )

    entry_uuid: str | None = None
    unique_id: str | None = None
    home_community_id: str | None = None


class GetRelatedDocuments(StoredQuery):
    """The entries related to one by the given association types (RPLC chains in the DMP) and those associations."""

    QUERY_ID: ClassVar[str] = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"
    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = (("entry_uuid", "unique_id"),)
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param(f"{_D}EntryUUID", "entry_uuid", Kind.TEXT),
        Param(f"{_D}UniqueId", "unique_id", Kind.TEXT),
        Param("$AssociationTypes", "association_types", Kind.TEXT_LIST, required=True),
        Param(f"{_D}Type", "object_types", Kind.TEXT_LIST),
        _HOME,
    )

    entry_uuid: str | None = None
    unique_id: str | None = None
    association_types: Annotated[tuple[AssociationType | str, ...], _enums(AssociationType)] = (AssociationType.RPLC,)
    object_types: Strings = ()
    home_community_id: str | None = None


#: Every stored query, by its id.
QUERIES: Final[dict[str, type[StoredQuery]]] = {
    query.QUERY_ID: query
    for query in (
        FindDocuments,
        FindDocumentsByReferenceId,
        FindSubmissionSets,
        FindFolders,
        GetAll,
        GetDocuments,
        GetFolders,
        GetAssociations,
        GetDocumentsAndAssociations,
        GetSubmissionSets,
        GetSubmissionSetAndContents,
        GetFolderAndContents,
        GetFoldersForDocument,
        GetRelatedDocuments,
    )
}


# --- the request --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """A read ``AdhocQueryRequest``: which stored query (name and id), its parameters, the response options."""

    name: str
    query_id: str
    query: StoredQuery
    return_type: ReturnType
    return_composed_objects: bool = True


def build_query_request(query: StoredQuery, return_type: ReturnType = ReturnType.LEAF_CLASS) -> etree._Element:
    """``query:AdhocQueryRequest`` for a stored query (reference §4.8).

    Raises:
        DmpValidationError: a value too long for a query parameter or not XML text.
    """
    root = etree.Element(_T_REQUEST, nsmap={"query": NS["query"], "rim": NS["rim"]})
    etree.SubElement(root, _T_OPTION, returnComposedObjects="true", returnType=return_type.value)
    adhoc = etree.SubElement(root, _T_ADHOC, id=query.QUERY_ID)
    for name, texts in query.slots():
        slot = etree.SubElement(adhoc, _T_SLOT, name=name)
        value_list = etree.SubElement(slot, _T_VALUE_LIST)
        for text in texts:
            try:
                etree.SubElement(value_list, _T_VALUE).text = text
            except ValueError:
                raise DmpValidationError(f"{name}: a value holds characters XML cannot carry", field=name) from None
    return root


def read_query_request(root: etree._Element) -> QueryRequest:
    """Read an ``AdhocQueryRequest`` back into its typed query (the mock, ``dmp inspect``).

    Raises:
        StoredQueryError: unknown query id, missing or repeated parameter, malformed value.
        DmpProtocolError: not an ``AdhocQueryRequest``.
    """
    if root.tag != _T_REQUEST:
        raise DmpProtocolError("expected a query:AdhocQueryRequest")
    option = root.find(_T_OPTION)
    raw_type = option.get("returnType", "LeafClass") if option is not None else "LeafClass"
    try:
        return_type = ReturnType(raw_type)
    except ValueError:
        raise StoredQueryError(
            f"returnType {raw_type[:40]!r}: ObjectRef or LeafClass", error_code=ErrorCode.REGISTRY_ERROR
        ) from None
    composed = (option.get("returnComposedObjects", "true") if option is not None else "true") == "true"
    adhoc = root.find(_T_ADHOC)
    if adhoc is None:
        raise DmpProtocolError("the AdhocQueryRequest has no rim:AdhocQuery")
    query_class = QUERIES.get(adhoc.get("id", ""))
    if query_class is None:
        raise StoredQueryError(
            f"unknown stored query id {adhoc.get('id', '')[:80]!r}", error_code=ErrorCode.UNKNOWN_STORED_QUERY
        )
    slots: dict[str, list[list[str]]] = {}
    for slot in adhoc.iterchildren(_T_SLOT):
        texts = [value.text or "" for value in slot.iter(_T_VALUE)]
        slots.setdefault(slot.get("name", ""), []).append(texts)
    query = _read_query(query_class, slots)
    return QueryRequest(query.name, query.QUERY_ID, query, return_type, composed)


def _read_query(query_class: type[StoredQuery], slots: dict[str, list[list[str]]]) -> StoredQuery:
    values: dict[str, Any] = {}
    for param in query_class.PARAMS:
        occurrences = slots.get(param.name)
        if not occurrences:
            if param.required:
                raise StoredQueryError(
                    f"{query_class.__name__}: the required parameter {param.name} is missing",
                    error_code=ErrorCode.MISSING_PARAM,
                    parameter=param.name,
                )
            continue
        if len(occurrences) > 1 and param.kind is not Kind.CODES_AND:
            raise StoredQueryError(
                f"{param.name} is given {len(occurrences)} times; only event, confidentiality and folder codes may "
                "repeat (AND)",
                error_code=ErrorCode.PARAM_NUMBER,
                parameter=param.name,
            )
        values[param.field] = _read_param(param, occurrences)
    for group in query_class.ONE_OF:
        given = [field for field in group if values.get(field)]
        if len(given) != 1:
            names = " or ".join(p.name for p in query_class.PARAMS if p.field in group)
            code = ErrorCode.PARAM_NUMBER if given else ErrorCode.MISSING_PARAM
            raise StoredQueryError(f"{query_class.__name__}: give exactly one of {names}", error_code=code)
    try:
        return query_class(**values)
    except ValueError as exc:  # a pydantic ValidationError (naive time, empty list…)
        raise StoredQueryError(f"{query_class.__name__}: {exc}", error_code=ErrorCode.REGISTRY_ERROR) from None


def _read_param(param: Param, occurrences: Sequence[list[str]]) -> Any:
    try:
        kind = param.kind
        if kind is Kind.CODES_AND:
            return tuple(tuple(parse_code(item) for item in parse_values(texts)) for texts in occurrences)
        texts = occurrences[0]
        if kind is Kind.CODES:
            return tuple(parse_code(item) for item in parse_values(texts))
        if kind is Kind.TEXT_LIST:
            return tuple(parse_values(texts))
        single = _single(param, texts)
        if kind is Kind.TIME:
            return parse_time(single)
        return Cx.parse(single) if kind is Kind.PATIENT else single
    except QueryValueError as exc:
        raise StoredQueryError(
            f"{param.name}: {exc.message}", error_code=ErrorCode.REGISTRY_ERROR, parameter=param.name
        ) from None


def _single(param: Param, texts: list[str]) -> str:
    items = parse_values(texts)
    if len(items) != 1:
        raise StoredQueryError(
            f"{param.name} takes one value, got {len(items)}", error_code=ErrorCode.PARAM_NUMBER, parameter=param.name
        )
    return items[0]
