"""The one exception the mock raises to answer a SOAP fault, from anywhere in a request's handling."""

from __future__ import annotations

__all__ = ["MockFault"]


class MockFault(Exception):
    """Raised anywhere in the mock to answer a SOAP 1.2 fault (reference §9.2).

    Args:
        subcode: DMP-style subcode (``DMPInvalidCertificate``…), or None.
        reason: the human text, French for DMP errors (English for CXF-level errors, as the real server).
        code: ``Sender`` for client errors, ``Receiver`` for simulated outages.
        http_status: the HTTP status of the fault (500 for SOAP faults, 404 for unknown services…).
        refusal: a nested subcode saying why a rights refusal happened (``DMPPatientOpposedBreakGlass``…,
            :data:`dmpclient.soap.faults.REFUSALS`; project design).
    """

    def __init__(
        self,
        subcode: str | None,
        reason: str,
        *,
        code: str = "Sender",
        http_status: int = 500,
        refusal: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.subcode = subcode
        self.reason = reason
        self.code = code
        self.http_status = http_status
        self.refusal = refusal
