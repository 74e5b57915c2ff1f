"""ITI-41 Provide and Register Document Set-b: the TD2.1 body, both directions (reference §5).

Writing: :func:`build_provide_and_register` puts the registry objects of a submission (the SubmissionSet,
the document entries, the mandatory signature entry, HasMember / ``signs`` / RPLC associations, §5.1)
into ``lcm:SubmitObjectsRequest`` and adds one ``xds-b:Document`` per entry holding an ``xop:Include``
(the bytes travel as MTOM parts, §5.5). :func:`signature_entry` gives the signature entry's fixed
metadata (§5.3), the association helpers the DMP's slots. Reading (the mock, ``dmp inspect``):
:func:`read_provide_and_register` returns the objects and where each document's bytes are.

The manifest of the XAdES "signature du lot" (§5.4) digests each document:
:func:`document_digest` hashes the inclusive canonical form *with comments* of an XML document (the
profile's ``C14N#WithComments`` transform), or the raw bytes of anything else (inferred, §5.4).

The answer of ITI-41 and ITI-57 is a bare ``rs:RegistryResponse`` (atomic: Success or Failure, warnings
possible, §9.4): :func:`build_registry_response` / :func:`read_registry_response`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Final, cast

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient._xml import NS, parse_untrusted
from dmpclient.codes import Code
from dmpclient.errors import DmpProtocolError, DmpValidationError, RegistryErrorItem
from dmpclient.xds.cda import CDA_BUDGET
from dmpclient.xds.codes import AssociationType, Confidentiality
from dmpclient.xds.ebrim import RegistryObject, read_registry_objects, registry_object_list
from dmpclient.xds.identifiers import Cx, Xcn
from dmpclient.xds.models import Association, Author, DocumentEntry, RegistryObjects, ResponseStatus
from dmpclient.xds.response import build_error_list, raise_for_failure, read_errors, read_status
from dmpclient.xds.retrieve import DocumentLocation

__all__ = [
    "SIGNATURE_CLASS",
    "SIGNATURE_EVENT",
    "SIGNATURE_FORMAT",
    "SIGNATURE_TYPE",
    "ProvideAndRegister",
    "RegistryAnswer",
    "SubmissionErrorCode",
    "association",
    "build_provide_and_register",
    "build_registry_response",
    "document_digest",
    "read_provide_and_register",
    "read_registry_response",
    "signature_entry",
]

_XDS: Final = NS["xdsb"]
_T_REQUEST: Final = f"{{{_XDS}}}ProvideAndRegisterDocumentSetRequest"
_T_DOCUMENT: Final = f"{{{_XDS}}}Document"
_T_SUBMIT: Final = f"{{{NS['lcm']}}}SubmitObjectsRequest"
_T_INCLUDE: Final = f"{{{NS['xop']}}}Include"
_T_RESPONSE: Final = f"{{{NS['rs']}}}RegistryResponse"


class SubmissionErrorCode(StrEnum):
    """IHE error codes of ITI-41 and ITI-57 answers (reference §9.4)."""

    METADATA = "XDSRegistryMetadataError"
    MISSING_DOCUMENT = "XDSMissingDocument"
    MISSING_METADATA = "XDSMissingDocumentMetadata"
    PATIENT_MISMATCH = "XDSPatientIdDoesNotMatch"
    UNKNOWN_PATIENT = "XDSUnknownPatientId"
    DUPLICATE_IN_MESSAGE = "XDSRegistryDuplicateUniqueIdInMessage"
    DUPLICATE_IN_REGISTRY = "XDSDuplicateUniqueIdInRegistry"
    NON_IDENTICAL_HASH = "XDSNonIdenticalHash"
    NON_IDENTICAL_SIZE = "XDSNonIdenticalSize"
    DEPRECATED_TARGET = "XDSRegistryDeprecatedDocumentError"
    UNRESOLVED_REFERENCE = "UnresolvedReferenceException"
    UPDATE = "XDSMetadataUpdateError"
    VERSION = "XDSMetadataVersionError"
    IDENTIFIER = "XDSMetadataIdentifierError"
    POLICY = "LocalPolicyRestrictionError"


#: Signature entry codes (reference §5.3): classCode, typeCode, formatCode, eventCodeList.
SIGNATURE_CLASS: Final = Code("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN", "Digital Signature")
SIGNATURE_TYPE: Final = Code("E1762", "ASTM", "Full Document")
SIGNATURE_FORMAT: Final = Code("http://www.w3.org/2000/09/xmldsig#", "URN", "Default Signature Style")
SIGNATURE_EVENT: Final = Code("1.2.840.10065.1.12.1.14", "1.2.840.10065.1.12", "Source")
_SIGNATURE_CONFIDENTIALITY: Final = (
    Code("N", "2.16.840.1.113883.5.25", "Normal"),
    Code(Confidentiality.MASQUE_PS.value, "1.2.250.1.213.1.1.4.13", "Masqué aux professionnels de santé"),
    Code(Confidentiality.INVISIBLE_PATIENT.value, "1.2.250.1.213.1.1.4.13", "Non visible par le patient"),
)
#: A processing instruction anywhere but the XML declaration (the hardened parser drops them).
_PI: Final = b"<?"
#: The XML declaration (``<?xml-stylesheet?>`` is a processing instruction, not a declaration).
_DECLARATION: Final = re.compile(rb"[ \t\r\n]*<\?xml[ \t\r\n]")
_CHUNK: Final = 1 << 20


def signature_entry(
    *,
    entry_id: str,
    unique_id: str,
    patient_id: Cx,
    signing_time: dt.datetime,
    authors: Sequence[Author],
    legal_authenticator: Xcn | None,
    healthcare_facility_type_code: Code | None,
    practice_setting_code: Code | None,
) -> DocumentEntry:
    """The signature entry of a submission (reference §5.3): the XAdES document as an XDS entry."""
    return DocumentEntry(
        entry_uuid=entry_id,
        unique_id=unique_id,
        patient_id=patient_id,
        mime_type="text/xml",
        title="Source",
        class_code=SIGNATURE_CLASS,
        type_code=SIGNATURE_TYPE,
        format_code=SIGNATURE_FORMAT,
        healthcare_facility_type_code=healthcare_facility_type_code,
        practice_setting_code=practice_setting_code,
        confidentiality_codes=_SIGNATURE_CONFIDENTIALITY,
        event_codes=(SIGNATURE_EVENT,),
        authors=tuple(authors),
        legal_authenticator=legal_authenticator,
        creation_time=signing_time,
        service_start_time=signing_time,
        service_stop_time=signing_time,
        language_code="art",
        source_patient_id=patient_id,
    )


def association(
    entry_id: str, kind: AssociationType, source: str, target: str, *, original: bool = True
) -> Association:
    """A submission association; HasMember and ``signs`` carry ``SubmissionSetStatus=Original`` (§5.1)."""
    status = "Original" if original and kind in (AssociationType.HAS_MEMBER, AssociationType.SIGNS) else None
    return Association(
        entry_uuid=entry_id, association_type=kind, source=source, target=target, submission_set_status=status
    )


def build_provide_and_register(objects: Sequence[RegistryObject], documents: Mapping[str, str]) -> etree._Element:
    """``xds-b:ProvideAndRegisterDocumentSetRequest``: the objects, then one ``xds-b:Document`` per entry.

    Args:
        objects: the registry objects in the order to write them (submission set, entries, associations).
        documents: the ``xop:Include/@href`` of each document entry, by entry id.

    Raises:
        DmpValidationError: an entry without document, or a document without entry (XDSMissingDocument…).
    """
    entries = {item.entry_uuid for item in objects if isinstance(item, DocumentEntry)}
    if entries != set(documents):
        raise DmpValidationError(
            "every document entry needs its document and every document its entry (§5.5)", field="documents"
        )
    root = etree.Element(_T_REQUEST, nsmap={"xds-b": _XDS, "lcm": NS["lcm"], "rim": NS["rim"]})
    etree.SubElement(root, _T_SUBMIT).append(registry_object_list(objects))
    for item in objects:
        if isinstance(item, DocumentEntry):
            document = etree.SubElement(root, _T_DOCUMENT, id=item.entry_uuid)
            etree.SubElement(document, _T_INCLUDE, href=documents[item.entry_uuid], nsmap={"xop": NS["xop"]})
    return root


@dataclass(frozen=True, slots=True)
class ProvideAndRegister:
    """A read ITI-41 request: its registry objects and where each document's bytes are, by entry id."""

    objects: RegistryObjects
    documents: Mapping[str, DocumentLocation]


def _location(document: etree._Element) -> DocumentLocation:
    include = document.find(_T_INCLUDE)
    if include is not None:
        return DocumentLocation(href=include.get("href", ""))
    try:
        return DocumentLocation(inline=base64.b64decode(document.text or "", validate=False))
    except (binascii.Error, ValueError):
        raise DmpProtocolError("ITI-41: an xds-b:Document is neither an xop:Include nor base64") from None


def read_provide_and_register(body: etree._Element) -> ProvideAndRegister:
    """Read an ITI-41 body (lenient on the objects, see :mod:`dmpclient.xds.ebrim`).

    Raises:
        DmpProtocolError: not a ProvideAndRegisterDocumentSetRequest, no SubmitObjectsRequest, a document
            without ``id`` or given twice.
    """
    if body.tag != _T_REQUEST:
        raise DmpProtocolError("ITI-41: expected an xds-b:ProvideAndRegisterDocumentSetRequest")
    submit = body.find(_T_SUBMIT)
    if submit is None:
        raise DmpProtocolError("ITI-41: the request has no lcm:SubmitObjectsRequest")
    documents: dict[str, DocumentLocation] = {}
    for document in body.iterchildren(_T_DOCUMENT):
        identifier = document.get("id", "")
        if not identifier or identifier in documents:
            raise DmpProtocolError("ITI-41: an xds-b:Document has no id, or the same id as another")
        documents[identifier] = _location(document)
    return ProvideAndRegister(read_registry_objects(submit), documents)


class RegistryAnswer(BaseModel):
    """A non-Failure ``rs:RegistryResponse`` (ITI-41, ITI-57): its status and warnings."""

    model_config = ConfigDict(frozen=True)

    status: ResponseStatus
    warnings: tuple[RegistryErrorItem, ...] = ()


def build_registry_response(
    status: ResponseStatus = ResponseStatus.SUCCESS, errors: Sequence[RegistryErrorItem] = ()
) -> etree._Element:
    """``rs:RegistryResponse`` with its ``RegistryErrorList`` when there are errors or warnings."""
    root = etree.Element(_T_RESPONSE, status=status.value, nsmap={"rs": NS["rs"]})
    if errors:
        root.append(build_error_list(errors))
    return root


def read_registry_response(root: etree._Element, *, td: str) -> RegistryAnswer:
    """Read an ITI-41 / ITI-57 answer.

    Raises:
        DmpProtocolError: not an ``rs:RegistryResponse``, or no readable status.
        DmpRegistryError: the status is Failure (the errors name the documents in ``location``).
    """
    if root.tag != _T_RESPONSE:
        raise DmpProtocolError(f"{td}: expected an rs:RegistryResponse answer", td=td)
    status = read_status(root, what=td)
    errors = read_errors(root)
    raise_for_failure(status, errors, td=td)
    return RegistryAnswer(status=status, warnings=errors)


# --- manifest digests (XAdES "signature du lot", §5.4) ---------------------------------------------


class _HashSink:
    """A file-like object feeding what is written to a hash (the canonical form is never held whole)."""

    def __init__(self, algorithm: str) -> None:
        self.hash = hashlib.new(algorithm)

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)


def _has_processing_instruction(data: bytes) -> bool:
    """Whether ``data`` may hold a PI other than the XML declaration (a cheap scan, false positives only)."""
    start = data.find(b"?>") + 2 if _DECLARATION.match(data) else 0
    return data.find(_PI, start) >= 0


def document_digest(
    content: bytes | Path, *, xml: bool, algorithm: str = "sha256", parsed: etree._Element | None = None
) -> bytes:
    """The manifest digest of one document: of its canonical form with comments (XML), else of its bytes.

    Args:
        content: the document, in memory or as a file (read in chunks when not XML).
        xml: canonicalise (``text/xml`` documents: CDA, the signature).
        algorithm: a :mod:`hashlib` name (``sha256``, ``sha1`` for the DMP examples' profile).
        parsed: the document already parsed by the hardened parser (saves a parse of large CDAs).

    Raises:
        DmpUnsafeXmlError: the XML is not well-formed, too large or declares a DTD.
    """
    if not xml:
        digest = hashlib.new(algorithm)
        if isinstance(content, Path):
            with content.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        else:
            digest.update(content)
        return digest.digest()
    data = content.read_bytes() if isinstance(content, Path) else content
    # the canonical form includes PIs (``<?xml-stylesheet?>`` heads many CDAs), which ``parsed`` dropped
    keep_pis = _has_processing_instruction(data)
    if parsed is not None and not keep_pis:
        root = parsed
    else:
        root = parse_untrusted(data, max_bytes=max(len(data), 1), budget=CDA_BUDGET, keep_pis=keep_pis)
    sink = _HashSink(algorithm)
    root.getroottree().write_c14n(cast(IO[bytes], sink), with_comments=True)
    return sink.hash.digest()
