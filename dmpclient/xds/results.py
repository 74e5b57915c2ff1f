"""``query:AdhocQueryResponse``: the answer to a stored query, written (mock) and read (client) (§4.8, §9.4).

:class:`QueryResult` is what the client returns: the registry objects by kind, the status, and the
registry errors of a PartialSuccess or the warnings of a Success. A Failure is raised, not returned
(:func:`dmpclient.xds.response.raise_for_failure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lxml import etree
from pydantic import BaseModel, ConfigDict

from dmpclient._xml import NS
from dmpclient.errors import DmpProtocolError, RegistryErrorItem
from dmpclient.ids import parse_decimal
from dmpclient.xds.ebrim import RegistryObject, read_registry_objects, registry_object_list
from dmpclient.xds.models import (
    Association,
    DocumentEntry,
    Folder,
    ObjectRef,
    RegistryObjects,
    ResponseStatus,
    SubmissionSet,
)
from dmpclient.xds.response import build_error_list, raise_for_failure, read_errors, read_status

__all__ = ["QueryResult", "build_query_response", "read_query_response"]

_T_RESPONSE: Final = f"{{{NS['query']}}}AdhocQueryResponse"


class QueryResult(BaseModel):
    """What a stored query returned (TD3.1).

    Attributes:
        status: Success or PartialSuccess (a Failure is raised as :class:`~dmpclient.errors.DmpRegistryError`).
        documents, submission_sets, folders, associations: the LeafClass objects.
        references: the ``ObjectRef`` ids of an ObjectRef query.
        errors: the registry errors of a PartialSuccess, and the warnings of a Success.
        total_result_count: ``@totalResultCount`` when the registry gives it.
        reader_warnings: deviations tolerated while reading (unknown elements…).
    """

    model_config = ConfigDict(frozen=True)

    status: ResponseStatus = ResponseStatus.SUCCESS
    documents: tuple[DocumentEntry, ...] = ()
    submission_sets: tuple[SubmissionSet, ...] = ()
    folders: tuple[Folder, ...] = ()
    associations: tuple[Association, ...] = ()
    references: tuple[ObjectRef, ...] = ()
    errors: tuple[RegistryErrorItem, ...] = ()
    total_result_count: int | None = None
    reader_warnings: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """The registry answered PartialSuccess: ``errors`` says what is missing."""
        return self.status is ResponseStatus.PARTIAL_SUCCESS

    @property
    def entry_uuids(self) -> tuple[str, ...]:
        """The entryUUIDs returned: the references of an ObjectRef query, else the documents'."""
        if self.references:
            return tuple(ref.id for ref in self.references)
        return tuple(doc.entry_uuid for doc in self.documents)


def build_query_response(
    objects: Sequence[RegistryObject],
    *,
    status: ResponseStatus = ResponseStatus.SUCCESS,
    errors: Sequence[RegistryErrorItem] = (),
) -> etree._Element:
    """``query:AdhocQueryResponse`` with ``objects`` (models, or ``ObjectRef`` for an ObjectRef query)."""
    root = etree.Element(_T_RESPONSE, status=status.value, nsmap={"query": NS["query"], "rim": NS["rim"]})
    if errors:
        root.append(build_error_list(errors))
    root.append(registry_object_list(objects))
    root.set("startIndex", "0")
    root.set("totalResultCount", str(len(objects)))
    return root


def read_query_response(root: etree._Element, *, td: str = "TD3.1") -> QueryResult:
    """Read an ``AdhocQueryResponse`` (lenient, see :mod:`dmpclient.xds.ebrim`).

    Raises:
        DmpProtocolError: not an ``AdhocQueryResponse``, or no readable status.
        DmpRegistryError: the status is Failure (:class:`~dmpclient.errors.DmpTooManyResultsError` for
            ``XDSTooManyResults``).
    """
    if root.tag != _T_RESPONSE:
        raise DmpProtocolError(f"{td}: expected a query:AdhocQueryResponse answer", td=td)
    status = read_status(root, what=td)
    errors = read_errors(root)
    raise_for_failure(status, errors, td=td)
    objects: RegistryObjects = read_registry_objects(root)
    count = root.get("totalResultCount", "")
    return QueryResult.model_construct(
        status=status,
        documents=objects.documents,
        submission_sets=objects.submission_sets,
        folders=objects.folders,
        associations=objects.associations,
        references=objects.references,
        errors=errors,
        total_result_count=parse_decimal(count),
        reader_warnings=objects.warnings,
    )
