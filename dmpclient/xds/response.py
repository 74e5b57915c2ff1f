"""``rs:RegistryResponse`` status and ``rs:RegistryErrorList``, read and written (reference §9.4).

Shared by every XDS answer: ITI-18 (``query:AdhocQueryResponse`` extends it), ITI-43 (nested in
``RetrieveDocumentSetResponse``), ITI-41 and ITI-57 (``rs:RegistryResponse`` itself). A Failure becomes a
:class:`~dmpclient.errors.DmpRegistryError` (:class:`~dmpclient.errors.DmpTooManyResultsError` when the
registry says ``XDSTooManyResults``); PartialSuccess and Warning-severity errors are data on the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final

from lxml import etree

from dmpclient._xml import NS
from dmpclient.errors import DmpProtocolError, DmpRegistryError, DmpTooManyResultsError, RegistryErrorItem
from dmpclient.ids import mask_ins
from dmpclient.xds.models import ResponseStatus

__all__ = [
    "ERROR",
    "WARNING",
    "ErrorCode",
    "build_error_list",
    "raise_for_failure",
    "read_errors",
    "read_status",
]

ERROR: Final = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
WARNING: Final = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"
_RS: Final = NS["rs"]
_T_ERROR_LIST: Final = f"{{{_RS}}}RegistryErrorList"
_T_ERROR: Final = f"{{{_RS}}}RegistryError"
#: Status spellings seen in the wild for the same three outcomes.
_STATUS_ALIASES: Final = {
    "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:PartialSuccess": ResponseStatus.PARTIAL_SUCCESS,
    "Success": ResponseStatus.SUCCESS,
    "Failure": ResponseStatus.FAILURE,
    "PartialSuccess": ResponseStatus.PARTIAL_SUCCESS,
}


class ErrorCode(StrEnum):
    """The XDS error codes the SDK and the mock use (reference §9.4)."""

    REGISTRY_ERROR = "XDSRegistryError"
    REPOSITORY_ERROR = "XDSRepositoryError"
    UNKNOWN_STORED_QUERY = "XDSUnknownStoredQuery"
    MISSING_PARAM = "XDSStoredQueryMissingParam"
    PARAM_NUMBER = "XDSStoredQueryParamNumber"
    TOO_MANY_RESULTS = "XDSTooManyResults"
    DOCUMENT_UNIQUE_ID = "XDSDocumentUniqueIdError"
    UNKNOWN_REPOSITORY = "XDSUnknownRepositoryId"
    RESULT_NOT_SINGLE_PATIENT = "XDSResultNotSinglePatient"
    UNKNOWN_PATIENT = "XDSUnknownPatientId"
    POLICY = "LocalPolicyRestrictionError"


def read_status(element: etree._Element, *, what: str) -> ResponseStatus:
    """The ``@status`` of a registry response.

    Raises:
        DmpProtocolError: no status, or one that is none of Success, PartialSuccess, Failure.
    """
    raw = (element.get("status") or "").strip()
    try:
        return ResponseStatus(raw)
    except ValueError:
        status = _STATUS_ALIASES.get(raw) or _STATUS_ALIASES.get(raw.rsplit(":", 1)[-1])
    if status is None:
        raise DmpProtocolError(f"{what}: the response status {raw[:80]!r} is not Success, PartialSuccess or Failure")
    return status


def read_errors(element: etree._Element) -> tuple[RegistryErrorItem, ...]:
    """Every ``rs:RegistryError`` of the response's ``rs:RegistryErrorList`` (none when it has no list)."""
    found: list[RegistryErrorItem] = []
    for error_list in element.iterchildren(_T_ERROR_LIST):
        for error in error_list.iterchildren(_T_ERROR):
            context = error.get("codeContext") or (error.text or "").strip()
            found.append(
                RegistryErrorItem(
                    error_code=error.get("errorCode", ""),
                    code_context=context,
                    location=error.get("location", ""),
                    severity=error.get("severity", ERROR),
                )
            )
    return tuple(found)


def build_error_list(errors: Sequence[RegistryErrorItem]) -> etree._Element:
    """``rs:RegistryErrorList`` with ``highestSeverity`` (Error when any error is an Error)."""
    highest = ERROR if any(e.severity == ERROR for e in errors) else WARNING
    element = etree.Element(_T_ERROR_LIST, highestSeverity=highest, nsmap={"rs": _RS})
    for error in errors:
        item = etree.SubElement(element, _T_ERROR, codeContext=error.code_context, errorCode=error.error_code)
        if error.location:
            item.set("location", error.location)
        item.set("severity", error.severity)
    return element


#: How many registry errors a message names; ``DmpRegistryError.errors`` keeps every one.
_DESCRIBED: Final = 5


def _describe(errors: Sequence[RegistryErrorItem]) -> str:
    """The first errors, each bounded: a message stays one readable line when a hundred documents fail."""
    shown = errors[:_DESCRIBED]
    parts = [f"{e.error_code}" + (f" ({mask_ins(e.code_context)[:200]})" if e.code_context else "") for e in shown]
    if len(errors) > len(shown):
        parts.append(f"and {len(errors) - len(shown)} more (the error's .errors lists them all)")
    return "; ".join(parts) or "no RegistryError given"


def raise_for_failure(status: ResponseStatus, errors: Sequence[RegistryErrorItem], *, td: str) -> None:
    """Raise the typed error of a Failure; return for Success and PartialSuccess.

    Raises:
        DmpTooManyResultsError: the registry refused to answer a query this broad.
        DmpRegistryError: any other Failure.
    """
    if status is not ResponseStatus.FAILURE:
        return
    failing = [e for e in errors if e.severity != WARNING] or list(errors)
    if any(e.error_code == ErrorCode.TOO_MANY_RESULTS for e in failing):
        raise DmpTooManyResultsError(
            f"{td}: the registry found more documents than it returns at once (XDSTooManyResults); narrow the "
            "query: a creation or service date range (created_from / service_start_from…), class or type codes, "
            "or ask for ObjectRef first and fetch the entries with get_documents in batches",
            errors=errors,
            td=td,
        )
    raise DmpRegistryError(f"{td}: the registry answered Failure: {_describe(failing)}", errors=errors, td=td)
