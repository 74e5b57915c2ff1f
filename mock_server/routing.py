"""Routing of mock DMP requests: service path + body root element (+ HL7v3 reason code) → transaction.

Each route pairs a :class:`~dmpclient.transactions.spec.TransactionSpec` — the very declaration the
client uses (service, root, actions, rights rows, patient block) — with the handler that answers it. The
mock does not route on ``wsa:Action`` (reference §1.3.1): the body decides; the action is then checked
against the spec (a mismatch is refused unless the router is told to accept it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from dmpclient._xml import NS
from dmpclient.transactions.spec import Service, TransactionSpec
from mock_server.context import Reply, RequestContext
from mock_server.errors import MockFault

__all__ = ["Handler", "Route", "Router", "check_service", "hl7_reason_code"]

Handler = Callable[[RequestContext], Reply]


@dataclass(frozen=True, slots=True)
class Route:
    """One transaction the mock answers: its spec (shared with the client) and its handler.

    The gate checks ``spec.rights_row(body)`` before the handler runs and hands the verdict to it as
    ``RequestContext.decision``: a conditional cell ``oui(N)`` leaves document-level notes (own documents,
    same structure, masked documents…) to the handler, which must enforce ``decision.conditions``.
    """

    spec: TransactionSpec[Any]
    handler: Handler

    @property
    def td(self) -> str:
        return self.spec.td


def check_service(service: str) -> None:
    """Refuse an unknown service path with a 404 Sender fault (before anything of the request is read)."""
    if service not in Service.__members__.values():
        raise MockFault(None, f"Service inconnu : {service}", http_status=404)


def hl7_reason_code(body: etree._Element) -> str | None:
    """``controlActProcess/reasonCode/@code`` of an HL7v3 request (TD0.2 vs TD1.3a share a root)."""
    found = body.find(f"{{{NS['hl7']}}}controlActProcess/{{{NS['hl7']}}}reasonCode")
    return found.get("code") if found is not None else None


@dataclass
class Router:
    """Registry of routes, resolved per request.

    Attributes:
        accept_any_action: answer a body whatever its ``wsa:Action`` (off: a mismatch is a Sender fault).
    """

    routes: dict[tuple[str, str, str | None], Route] = field(default_factory=dict)
    accept_any_action: bool = False

    def add(self, route: Route) -> None:
        key = route.spec.route_key
        if key in self.routes:
            raise ValueError(f"route already registered: {key}")
        self.routes[key] = route

    def extend(self, routes: Sequence[Route]) -> None:
        for route in routes:
            self.add(route)

    @property
    def mtom_services(self) -> frozenset[str]:
        """Services that receive MTOM bodies (a transaction with attachments, TD2.1, reference §1.5)."""
        return frozenset(r.spec.service.value for r in self.routes.values() if r.spec.mtom_request)

    def resolve(self, service: str, body: etree._Element | None, action: str | None) -> Route:
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
        if not self.accept_any_action and action not in route.spec.accepted_actions:
            raise MockFault(
                None,
                f"L'action WS-Addressing {action!r} ne correspond pas au corps de la requête "
                f"({route.spec.td} attend {route.spec.request_action})",
            )
        return route
