"""WSDLs of the mock's custom services, written from the reference (habilitations, patientsSpecific).

Served at ``{services}/{service}?wsdl`` with the ``soap12:address`` of the server that answers, so that a
generic WSDL-driven SOAP client (zeep, CXF, .NET…) can call the mock (issue 10, item 7).
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dmpclient.config import SERVICES_PATH
from dmpclient.transactions.spec import Service

__all__ = ["WSDL_SERVICES", "routes", "wsdl_text"]

#: The services that have a WSDL here.
WSDL_SERVICES: Final = frozenset({Service.HABILITATIONS.value, Service.PATIENTS_SPECIFIC.value})


def wsdl_text(service: str, address: str) -> str:
    """The WSDL of ``service`` with its endpoint ``address``."""
    text = resources.files("mock_server.wsdl").joinpath(f"{service}.wsdl").read_text(encoding="utf-8")
    return text.replace("{ADDRESS}", address.replace("&", "&amp;").replace('"', "&quot;"))


async def _wsdl(request: Request) -> Response:
    service = request.path_params["service"]
    if service not in WSDL_SERVICES or "wsdl" not in {key.lower() for key in request.query_params}:
        return Response("no WSDL here", status_code=404, media_type="text/plain")
    address = str(request.url.replace(query=None))
    return Response(wsdl_text(service, address), media_type="text/xml; charset=utf-8")


def routes() -> list[BaseRoute]:
    """``GET {services}/{service}?wsdl``."""
    return [Route(SERVICES_PATH + "/{service}", _wsdl, methods=["GET"])]
