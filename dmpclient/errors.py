"""The whole dmpclient error hierarchy, split by layer and by who is to blame.

::

    DmpError                          root: catch this to catch everything the SDK raises
    ├── DmpUsageError                 we refused to send (our side; nothing left the process)
    │   ├── DmpValidationError        a user input is invalid (INS key, OID, code, …)
    │   ├── DmpConfigError            the configuration is incomplete or wrong
    │   └── DmpRightsPrecheckError    the local rights pre-check says the DMP would refuse
    ├── DmpTransportError             the call did not complete (network side)
    │   ├── DmpConnectError           TCP connect / DNS failed
    │   ├── DmpTlsError               TLS handshake failed (certificate, CA, protocol)
    │   └── DmpTimeoutError           connect/read/write/pool timeout
    ├── DmpProtocolError              the peer sent something we cannot read
    │   ├── DmpUnsafeXmlError         the XML was refused by the hardened parser (DTD, entity, size)
    │   └── DmpIntegrityError         a retrieved document differs from its registry size / hash (TD3.2)
    ├── DmpHttpError                  HTTP error status without a SOAP envelope
    ├── DmpSoapFault                  SOAP 1.2 fault (code, DMP subcode, French reason)
    │   └── DmpRightsError            fault meaning "refused by the rights service"
    ├── DmpRegistryError              XDS RegistryResponse with status Failure and a RegistryErrorList
    │   └── DmpTooManyResultsError    XDSTooManyResults: the query must be narrowed
    ├── DmpBusinessError              business status: custom `status` ≠ DMPOk, HL7v3 ack ≠ AA
    │   └── DmpNotFoundError          no DMP where one is required (TD0.2 reports it as DmpStatus.NONE instead)
    └── DmpSecurityError              a security check failed (VIHF signature, chain, replay, …)

Every error carries the TD (``td``) and the WS-Addressing message id (``message_id``) when known.
Messages say what happened and what to check; they never contain an INS, a name or document content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DmpBusinessError",
    "DmpConfigError",
    "DmpConnectError",
    "DmpError",
    "DmpHttpError",
    "DmpIntegrityError",
    "DmpNotFoundError",
    "DmpProtocolError",
    "DmpRegistryError",
    "DmpRightsError",
    "DmpRightsPrecheckError",
    "DmpSecurityError",
    "DmpSoapFault",
    "DmpTimeoutError",
    "DmpTlsError",
    "DmpTooManyResultsError",
    "DmpTransportError",
    "DmpUnsafeXmlError",
    "DmpUsageError",
    "DmpValidationError",
    "RegistryErrorItem",
]


class DmpError(Exception):
    """Root of every error raised by dmpclient.

    Args:
        message: what happened and what to check (no patient data).
        td: the DMP transaction concerned (``"TD3.1"``…), when known.
        message_id: the WS-Addressing MessageID of the request, when known.
    """

    def __init__(self, message: str, *, td: str | None = None, message_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.td = td
        self.message_id = message_id

    def __str__(self) -> str:
        context = [part for part in (self.td, self.message_id) if part]
        return f"{self.message} [{' '.join(context)}]" if context else self.message

    def with_context(self, *, td: str | None = None, message_id: str | None = None) -> DmpError:
        """Fill in the TD / message id if they were not known where the error was raised."""
        self.td = self.td or td
        self.message_id = self.message_id or message_id
        return self


# --- we refused to send -------------------------------------------------------------------------


class DmpUsageError(DmpError):
    """The SDK refused to send: the request would be wrong. Nothing left the process."""


class DmpValidationError(DmpUsageError, ValueError):
    """A user-supplied value is invalid (INS key, OID, code…).

    Args:
        field: the name of the offending field (``"ins"``, ``"purpose"``…).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        td: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(message, td=td, message_id=message_id)
        self.field = field


class DmpConfigError(DmpUsageError):
    """The configuration is incomplete or inconsistent.

    Args:
        field: the dotted configuration path at fault (``"credentials.tls.cert"``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DmpRightsPrecheckError(DmpUsageError):
    """The local copy of the official rights matrices says the DMP would refuse this call."""


# --- transport ----------------------------------------------------------------------------------


class DmpTransportError(DmpError):
    """The exchange with the DMP did not complete (network, TLS, timeout)."""


class DmpConnectError(DmpTransportError):
    """The TCP connection could not be established (DNS, refused, unreachable)."""


class DmpTlsError(DmpTransportError):
    """The TLS handshake failed: untrusted server, client certificate refused, protocol mismatch."""


class DmpTimeoutError(DmpTransportError):
    """A connect, read, write or pool timeout expired."""


# --- the peer sent something we cannot use ------------------------------------------------------


class DmpProtocolError(DmpError):
    """The peer answered with something unreadable (not XML, not SOAP, broken MIME…)."""


class DmpUnsafeXmlError(DmpProtocolError):
    """Received XML refused by the hardened parser (DTD, entity declaration, too large, malformed)."""


class DmpIntegrityError(DmpProtocolError):
    """A retrieved document's size or SHA-1 differs from the registry metadata; nothing was kept (TD3.2)."""


class DmpHttpError(DmpError):
    """The server answered an HTTP error status without a SOAP envelope.

    Args:
        status_code: the HTTP status.
    """

    def __init__(self, message: str, *, status_code: int, td: str | None = None, message_id: str | None = None) -> None:
        super().__init__(message, td=td, message_id=message_id)
        self.status_code = status_code


class DmpSoapFault(DmpError):
    """A SOAP 1.2 fault.

    Args:
        code: ``"Sender"`` or ``"Receiver"`` (local name of ``soap:Code/soap:Value``).
        subcode: local name of the first ``soap:Subcode/soap:Value`` (``DMPInvalidCertificate``…).
        reason: the ``soap:Reason/soap:Text`` (French for the DMP).
        detail: the serialised ``soap:Detail`` element, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        subcode: str | None = None,
        reason: str = "",
        detail: bytes | None = None,
        td: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(message, td=td, message_id=message_id)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.detail = detail


class DmpRightsError(DmpSoapFault):
    """The DMP rights service refused the call (``DMPAccessDeniedByRightsService``)."""


@dataclass(frozen=True, slots=True)
class RegistryErrorItem:
    """One ``rs:RegistryError`` of an XDS response."""

    error_code: str
    code_context: str = ""
    location: str = ""
    severity: str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"


class DmpRegistryError(DmpError):
    """An XDS response with status Failure; ``errors`` lists each ``rs:RegistryError``."""

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[RegistryErrorItem] = (),
        td: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(message, td=td, message_id=message_id)
        self.errors: tuple[RegistryErrorItem, ...] = tuple(errors)


class DmpTooManyResultsError(DmpRegistryError):
    """The registry refused a query matching more entries than it returns (``XDSTooManyResults``, §4.8)."""


class DmpBusinessError(DmpError):
    """A well-formed answer that reports a business failure (custom status, HL7v3 ack)."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        context: str = "",
        td: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(message, td=td, message_id=message_id)
        self.code = code
        self.context = context


class DmpNotFoundError(DmpBusinessError):
    """No DMP exists for the patient addressed."""


# --- security -----------------------------------------------------------------------------------


class DmpSecurityError(DmpError):
    """A security check failed (VIHF signature, certificate chain, freshness, replay, profile).

    Args:
        rule: a stable identifier of the rule that failed (``"signature"``, ``"replay"``…), so that
            callers and the mock can map it to a fault without parsing the message.
        dmp_code: the DMP-style fault subcode the mock answers with for this rule.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        dmp_code: str = "DMPInvalidVihf",
        td: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(message, td=td, message_id=message_id)
        self.rule = rule
        self.dmp_code = dmp_code
