"""ITI-43 Retrieve Document Set: request and response bodies, both directions (TD3.2, reference §3.16).

Pure: the response reader returns where each document's bytes are — an ``xop:Include`` Content-ID (MTOM,
what the DMP sends) or inline base64 (what a non-MTOM peer may send) — and
:mod:`dmpclient.transactions.repository` resolves them against the MTOM parts. ``DocumentUniqueId`` is the
document's uniqueId, never its entryUUID (the DMP answers ``XDSDocumentUniqueIdError`` for an entryUUID).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient._xml import NS
from dmpclient.errors import DmpProtocolError, DmpValidationError, RegistryErrorItem
from dmpclient.ids import DMP_REPOSITORY_OID
from dmpclient.xds.models import ResponseStatus
from dmpclient.xds.response import build_error_list, read_errors, read_status

__all__ = [
    "DocumentLocation",
    "DocumentPart",
    "DocumentRequest",
    "RetrieveAnswer",
    "build_retrieve_request",
    "build_retrieve_response",
    "read_retrieve_request",
    "read_retrieve_response",
]

_XDS: Final = NS["xdsb"]
_T_REQUEST: Final = f"{{{_XDS}}}RetrieveDocumentSetRequest"
_T_RESPONSE: Final = f"{{{_XDS}}}RetrieveDocumentSetResponse"
_T_DOC_REQUEST: Final = f"{{{_XDS}}}DocumentRequest"
_T_DOC_RESPONSE: Final = f"{{{_XDS}}}DocumentResponse"
_T_HOME: Final = f"{{{_XDS}}}HomeCommunityId"
_T_REPOSITORY: Final = f"{{{_XDS}}}RepositoryUniqueId"
_T_DOCUMENT_ID: Final = f"{{{_XDS}}}DocumentUniqueId"
_T_MIME: Final = f"{{{_XDS}}}mimeType"
_T_DOCUMENT: Final = f"{{{_XDS}}}Document"
_T_REGISTRY_RESPONSE: Final = f"{{{NS['rs']}}}RegistryResponse"
_T_INCLUDE: Final = f"{{{NS['xop']}}}Include"


class DocumentRequest(BaseModel):
    """One document to retrieve: its uniqueId in a repository (the DMP has one, ``1.2.250.1.213.4.1.1.1.2``)."""

    model_config = ConfigDict(frozen=True)

    document_unique_id: str
    repository_unique_id: str = DMP_REPOSITORY_OID
    home_community_id: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentLocation:
    """Where a returned document's bytes are: an MTOM part (``href``) or inline base64 (``inline``)."""

    href: str | None = None
    inline: bytes | None = None


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """One ``DocumentResponse``: the identifiers, the mime type and where the bytes are."""

    request: DocumentRequest
    mime_type: str
    location: DocumentLocation


@dataclass(frozen=True, slots=True)
class RetrieveAnswer:
    """A read ``RetrieveDocumentSetResponse``."""

    status: ResponseStatus
    errors: tuple[RegistryErrorItem, ...]
    documents: tuple[DocumentPart, ...]


def _text(parent: etree._Element, tag: str, field: str, value: str) -> None:
    try:
        etree.SubElement(parent, tag).text = value
    except ValueError:
        raise DmpValidationError(f"{field}: the value holds characters XML cannot carry", field=field) from None


def _ids(parent: etree._Element, request: DocumentRequest) -> None:
    if request.home_community_id:
        _text(parent, _T_HOME, "home_community_id", request.home_community_id)
    _text(parent, _T_REPOSITORY, "repository_unique_id", request.repository_unique_id)
    _text(parent, _T_DOCUMENT_ID, "document_unique_id", request.document_unique_id)


def build_retrieve_request(requests: Sequence[DocumentRequest]) -> etree._Element:
    """``xds-b:RetrieveDocumentSetRequest`` for one or several documents.

    Raises:
        DmpValidationError: no document, or an empty / non-XML identifier.
    """
    if not requests:
        raise DmpValidationError("retrieve: give at least one document", field="documents")
    root = etree.Element(_T_REQUEST, nsmap={"xds-b": _XDS})
    for request in requests:
        if not request.document_unique_id or not request.repository_unique_id:
            raise DmpValidationError(
                "retrieve: a document needs its uniqueId and repositoryUniqueId", field="documents"
            )
        _ids(etree.SubElement(root, _T_DOC_REQUEST), request)
    return root


def _read_ids(element: etree._Element, what: str) -> DocumentRequest:
    document = (element.findtext(_T_DOCUMENT_ID) or "").strip()
    repository = (element.findtext(_T_REPOSITORY) or "").strip()
    if not document:
        raise DmpProtocolError(f"{what} without a DocumentUniqueId")
    home = element.findtext(_T_HOME)
    return DocumentRequest.model_construct(
        document_unique_id=document,
        repository_unique_id=repository,
        home_community_id=home.strip() if home else None,
    )


def read_retrieve_request(root: etree._Element) -> tuple[DocumentRequest, ...]:
    """The documents a ``RetrieveDocumentSetRequest`` asks for (the mock, ``dmp inspect``).

    Raises:
        DmpProtocolError: not a retrieve request, no DocumentRequest, or one without a DocumentUniqueId.
    """
    if root.tag != _T_REQUEST:
        raise DmpProtocolError("expected an xds-b:RetrieveDocumentSetRequest")
    requests = tuple(_read_ids(item, "a DocumentRequest") for item in root.iterchildren(_T_DOC_REQUEST))
    if not requests:
        raise DmpProtocolError("the RetrieveDocumentSetRequest asks for no document")
    return requests


def build_retrieve_response(
    documents: Sequence[DocumentPart],
    *,
    status: ResponseStatus = ResponseStatus.SUCCESS,
    errors: Sequence[RegistryErrorItem] = (),
) -> etree._Element:
    """``xds-b:RetrieveDocumentSetResponse``: each document as an ``xop:Include`` (MTOM) or inline base64."""
    root = etree.Element(_T_RESPONSE, nsmap={"xds-b": _XDS, "rs": NS["rs"]})
    registry = etree.SubElement(root, _T_REGISTRY_RESPONSE, status=status.value)
    if errors:
        registry.append(build_error_list(errors))
    for document in documents:
        item = etree.SubElement(root, _T_DOC_RESPONSE)
        _ids(item, document.request)
        _text(item, _T_MIME, "mime_type", document.mime_type)
        content = etree.SubElement(item, _T_DOCUMENT)
        location = document.location
        if location.href is not None:
            etree.SubElement(content, _T_INCLUDE, nsmap={"xop": NS["xop"]}).set("href", location.href)
        else:
            content.text = base64.b64encode(location.inline or b"").decode("ascii")
    return root


def _location(document: etree._Element | None, what: str) -> DocumentLocation:
    if document is None:
        raise DmpProtocolError(f"{what} has no xds-b:Document")
    include = document.find(_T_INCLUDE)
    if include is not None:
        href = include.get("href")
        if not href:
            raise DmpProtocolError(f"{what}: its xop:Include has no href")
        return DocumentLocation(href=href)
    text = "".join(part for part in document.itertext() if isinstance(part, str))
    try:
        return DocumentLocation(inline=base64.b64decode(text.encode("ascii"), validate=False))
    except (binascii.Error, UnicodeEncodeError):
        raise DmpProtocolError(f"{what}: the inline document is not base64") from None


def read_retrieve_response(root: etree._Element, *, td: str = "TD3.2") -> RetrieveAnswer:
    """Read a ``RetrieveDocumentSetResponse`` (status, errors, where each document's bytes are).

    A Failure is returned, not raised: the caller decides (it raises it, with the answer's errors).

    Raises:
        DmpProtocolError: not a retrieve response, no RegistryResponse, or a DocumentResponse without ids.
    """
    if root.tag != _T_RESPONSE:
        raise DmpProtocolError(f"{td}: expected an xds-b:RetrieveDocumentSetResponse answer", td=td)
    registry = root.find(_T_REGISTRY_RESPONSE)
    if registry is None:
        raise DmpProtocolError(f"{td}: the answer has no rs:RegistryResponse", td=td)
    documents = []
    for number, item in enumerate(root.iterchildren(_T_DOC_RESPONSE), start=1):
        what = f"{td}: DocumentResponse {number}"
        request = _read_ids(item, what)
        mime = (item.findtext(_T_MIME) or "").strip() or "application/octet-stream"
        documents.append(DocumentPart(request, mime, _location(item.find(_T_DOCUMENT), what)))
    return RetrieveAnswer(read_status(registry, what=td), read_errors(registry), tuple(documents))
