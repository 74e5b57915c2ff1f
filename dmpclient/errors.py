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
    │   ├── DmpTimeoutError           connect/read/write/pool timeout
    │   └── DmpSubmissionUnknownError a TD2.1 may or may not have been registered, and the registry cannot tell yet
    ├── DmpProtocolError              the peer sent something we cannot read
    │   ├── DmpUnsafeXmlError         the XML was refused by the hardened parser (DTD, entity, size)
    │   └── DmpIntegrityError         a retrieved document differs from its registry size / hash (TD3.2)
    ├── DmpHttpError                  HTTP error status without a SOAP envelope
    ├── DmpSoapFault                  SOAP 1.2 fault (code, DMP subcode, French reason)
    │   └── DmpRightsError            fault meaning "refused by the rights service"
    │       ├── DmpPatientOppositionError   the patient opposed break-glass / régulation access
    │       └── DmpProfessionalBlockedError the patient blocked this professional
    ├── DmpRegistryError              XDS RegistryResponse with status Failure and a RegistryErrorList
    │   └── DmpTooManyResultsError    XDSTooManyResults: the query must be narrowed
    ├── DmpBusinessError              business status: custom `status` ≠ DMPOk, HL7v3 ack ≠ AA
    │   ├── DmpNotFoundError          no DMP where one is required (TD0.2 reports it as DmpStatus.NONE instead)
    │   ├── DmpClosedError            the DMP is closed
    │   ├── DmpAuthorizationError     the caller's authorisation on the DMP is missing or expired
    │   └── DmpSecretConnectionError  a minor's secret connection forbids the change
    └── DmpSecurityError              a security check failed (VIHF signature, chain, replay, …)

Every error carries the TD (``td``) and the WS-Addressing message id (``message_id``) when known.
Messages say what happened and what to check; they never contain an INS, a name or document content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DmpAuthorizationError",
    "DmpBusinessError",
    "DmpClosedError",
    "DmpConfigError",
    "DmpConnectError",
    "DmpError",
    "DmpHttpError",
    "DmpIntegrityError",
    "DmpNotFoundError",
    "DmpPatientOppositionError",
    "DmpProfessionalBlockedError",
    "DmpProtocolError",
    "DmpRegistryError",
    "DmpRightsError",
    "DmpRightsPrecheckError",
    "DmpSecretConnectionError",
    "DmpSecurityError",
    "DmpSoapFault",
    "DmpSubmissionUnknownError",
    "DmpTimeoutError",
    "DmpTlsError",
    "DmpTooManyResultsError",
    "DmpTransportError",
    "DmpUnsafeXmlError",
    "DmpUsageError",
    "DmpValidationError",
    "RegistryErrorItem",
    "business_error",
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
    """A connect, read, write or pool timeout expired, or the call's total deadline ran out (``timeouts.total``,
    ``deadline=``): the message says which."""


class DmpSubmissionUnknownError(DmpTransportError):
    """A TD2.1 may have been registered, and the registry could not be asked: resume it later (never lost,
    never duplicated: the same ids are sent again only once the registry says they are absent).

    Attributes:
        unique_ids: the uniqueIds of the submission's documents.
    """

    def __init__(
        self, message: str, *, unique_ids: Sequence[str], td: str | None = None, message_id: str | None = None
    ) -> None:
        super().__init__(message, td=td, message_id=message_id)
        self.unique_ids: tuple[str, ...] = tuple(unique_ids)


# --- the peer sent something we cannot use ------------------------------------------------------


class DmpProtocolError(DmpError):
    """The peer answered with something unreadable (not XML, not SOAP, broken MIME…)."""


class DmpUnsafeXmlError(DmpProtocolError):
    """Received XML refused by the hardened parser (DTD, entity declaration, too large, malformed)."""


class DmpIntegrityError(DmpProtocolError):
    """A retrieved document's size or SHA-1 differs from the registry metadata; nothing was kept (TD3.2)."""


class DmpHttpError(DmpError):
    """The server answered an HTTP error status without a SOAP fault (an HTML page, nothing, or an envelope that is
    not a fault).

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
        refusal: local name of the nested ``soap:Subcode/soap:Subcode/soap:Value``, when the fault says why
            more precisely (the mock's refusals, project design: ``DMPPatientOpposedBreakGlass``…).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        subcode: str | None = None,
        reason: str = "",
        detail: bytes | None = None,
        refusal: str | None = None,
        td: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(message, td=td, message_id=message_id)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.detail = detail
        self.refusal = refusal


class DmpRightsError(DmpSoapFault):
    """The DMP rights service refused the call (``DMPAccessDeniedByRightsService``)."""


class DmpPatientOppositionError(DmpRightsError):
    """The patient opposed this access mode (``OPPOSITION_BRIS_DE_GLACE`` / ``OPPOSITION_ACCES_URGENCE``).

    What to do: access the DMP in normal mode, once authorised by the patient (TD0.3).
    """


class DmpProfessionalBlockedError(DmpRightsError):
    """The patient blocked this professional on his DMP (authorisation ``INTERDIT``).

    What to do: nothing from the software; only the patient (or his médecin traitant) can lift the block.
    """


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


class DmpClosedError(DmpBusinessError):
    """The patient's DMP is closed: it can be read (TD1.3a) but nothing can be changed or declared on it."""


class DmpAuthorizationError(DmpBusinessError):
    """The caller is not (or no longer) authorised on this DMP.

    What to do: declare the authorisation (TD0.3 ``AJOUT``), with the patient's consent.
    """


class DmpSecretConnectionError(DmpBusinessError):
    """The patient is a minor who asked for a secret connection: the change would reveal it to his
    legal representatives, so the DMP refuses it."""


#: Business codes of refusals (custom ``status``, HL7 ``acknowledgementDetail/code``): the error and what
#: the user can do. ``DMPClosed`` is attested (reference §9.3); the other codes are project design.
_BUSINESS_REFUSALS: dict[str, tuple[type[DmpBusinessError], str]] = {
    "DMPPatientNotFound": (
        DmpNotFoundError,
        "no DMP exists for this patient: check the INS (test_existence, TD0.2, tells whether a DMP exists); "
        "the patient opens his DMP in Mon espace santé",
    ),
    "DMPClosed": (DmpClosedError, "the DMP is closed: it can still be read (TD1.3a) but not changed"),
    "DMPAuthorizationExpired": (
        DmpAuthorizationError,
        "your authorisation on this DMP has expired: declare it again (authorize, TD0.3) with the patient's consent",
    ),
    "DMPAuthorizationNotFound": (
        DmpAuthorizationError,
        "you are not authorised on this DMP: declare the authorisation first (authorize, TD0.3) with the patient's "
        "consent",
    ),
    "DMPSecretConnection": (
        DmpSecretConnectionError,
        "the patient is a minor with a secret connection: his administrative data cannot be changed from the "
        "software; see with the patient",
    ),
}


def business_error(
    code: str | None, context: str, *, what: str, td: str | None = None, message_id: str | None = None
) -> DmpBusinessError:
    """The typed error for a business refusal code, whose message says what the user can do.

    Args:
        code: the DMP business code (custom ``status``, HL7 ``acknowledgementDetail/code``).
        context: the DMP's own text, already masked of patient identifiers (kept in ``context``).
        what: what was refused, for the message (``"TD0.3: setAuthorization answered DMPClosed"``).
    """
    kind, hint = _BUSINESS_REFUSALS.get(code or "", (DmpBusinessError, ""))
    text = " ".join(context.split())[:300]
    parts = [what, f"«{text}»" if text else "", hint]
    return kind("; ".join(part for part in parts if part), code=code, context=context, td=td, message_id=message_id)


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
