"""Routing of mock DMP requests: service path + body root element (+ HL7v3 reason code) → handler.

The mock does not route on ``wsa:Action`` (reference §1.3.1): the WSDL ``soapAction`` and the
examples' ``wsa:Action`` differ for custom services, so the body decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from lxml import etree

from dmpclient._xml import NS
from dmpclient.transactions.rights import RightsAction

if TYPE_CHECKING:
    from mock_server.context import Reply, RequestContext

__all__ = [
    "SERVICES",
    "Handler",
    "MockFault",
    "PatientExtractor",
    "Route",
    "Router",
    "check_service",
    "hl7_reason_code",
]

#: Service path suffixes of ``/si-dmp-server/v2/services/{service}`` (reference §1.2).
SERVICES: Final = frozenset({"patients", "patientsPDQ", "patientsSpecific", "habilitations", "registry", "repository"})

Handler = Callable[["RequestContext"], "Reply"]
#: Reads the patient a request body addresses: its INS, or ``(INS, OID)`` when the body carries the OID.
PatientExtractor = Callable[[etree._Element], str | tuple[str, str | None] | None]


class MockFault(Exception):
    """Raised anywhere in the mock to answer a SOAP 1.2 fault (reference §9.2).

    Args:
        subcode: DMP-style subcode (``DMPInvalidCertificate``…), or None.
        reason: the human text, French for DMP errors (English for CXF-level errors, as the real server).
        code: ``Sender`` for client errors, ``Receiver`` for simulated outages.
    """

    def __init__(self, subcode: str | None, reason: str, *, code: str = "Sender", http_status: int = 500) -> None:
        super().__init__(reason)
        self.subcode = subcode
        self.reason = reason
        self.code = code
        self.http_status = http_status


@dataclass(frozen=True, slots=True)
class Route:
    """One transaction the mock answers.

    Attributes:
        td: the transaction number (``"TD0.2"``) for logs, traces and rights.
        response_action: ``wsa:Action`` of the answer (reference §3.0).
        rights: the row of the rights matrices checked before the handler runs. The gate's verdict is
            handed to the handler as ``RequestContext.decision``: a conditional cell ``oui(N)`` leaves
            document-level notes (own documents, same structure, masked documents…) to the handler,
            which must enforce ``decision.conditions``.
        patient_ins: extracts the patient addressed by the body, if the body names one: the INS, or
            ``(INS, OID)`` when the body carries the OID (both compared with the VIHF ``resource-id``).
    """

    service: str
    root: str
    td: str
    handler: Handler
    response_action: str
    rights: RightsAction | None = None
    reason_code: str | None = None
    patient_ins: PatientExtractor | None = None
    mtom_response: bool = False


def check_service(service: str) -> None:
    """Refuse an unknown service path with a 404 Sender fault (before anything of the request is read)."""
    if service not in SERVICES:
        raise MockFault(None, f"Service inconnu : {service}", http_status=404)


def hl7_reason_code(body: etree._Element) -> str | None:
    """``controlActProcess/reasonCode/@code`` of an HL7v3 request (TD0.2 vs TD1.3a share a root)."""
    found = body.find(f"{{{NS['hl7']}}}controlActProcess/{{{NS['hl7']}}}reasonCode")
    return found.get("code") if found is not None else None


@dataclass
class Router:
    """Registry of routes, resolved per request."""

    routes: dict[tuple[str, str, str | None], Route] = field(default_factory=dict)

    def add(self, route: Route) -> None:
        key = (route.service, route.root, route.reason_code)
        if key in self.routes:
            raise ValueError(f"route already registered: {key}")
        self.routes[key] = route

    def extend(self, routes: Sequence[Route]) -> None:
        for route in routes:
            self.add(route)

    def resolve(self, service: str, body: etree._Element | None) -> Route:
        """The route for this body on this service, or a Sender fault saying what was not understood."""
        check_service(service)
        if body is None:
            raise MockFault(None, "Le corps de la requête SOAP est vide")
        root = body.tag if isinstance(body.tag, str) else ""
        reason = hl7_reason_code(body) if root.startswith(f"{{{NS['hl7']}}}") else None
        route = self.routes.get((service, root, reason)) or self.routes.get((service, root, None))
        if route is None:
            local = etree.QName(root).localname if root else "?"
            raise MockFault(None, f"Requête non prise en charge par le service {service} : {local}")
        return route
