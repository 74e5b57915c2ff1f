"""Legacy DMP transactions the mock recognises only to refuse them: TD1.1 creation, TD1.2 reactivation.

Neither is in the current matrices (526 v1.8, 606 v1.3: "TD1.1, TD1.2 … have no rows"); DMPs are created
with Mon espace santé, and creating one through the web PS answers ``DMPAccessDeniedByRightsService`` (527,
reference §3.0, §9.3). §3.7 sets the mock's answer to TD1.1, "a rights fault" (project design); TD1.2, legacy
in the same way (§3.8), gets the same. The caller is authenticated first (mutual TLS, VIHF) like on any call;
the refusal is traced. These declarations are the mock's own: the client's catalogue
(:data:`dmpclient.transactions.catalog.SPECS`) does not offer them.

The removed TD1.5a/b/d (§3.12) keep the unknown-operation fault every unknown body gets, as §3.12 says.
"""

from __future__ import annotations

from typing import Final, NoReturn

from dmpclient._xml import qname
from dmpclient.soap.response import Response
from dmpclient.transactions.spec import PatientBlock, Service, TransactionSpec
from mock_server.context import Reply, RequestContext
from mock_server.errors import MockFault
from mock_server.gate import RIGHTS_SUBCODE
from mock_server.routing import Route

__all__ = ["LEGACY_CREATION", "LEGACY_REACTIVATION", "ROUTES"]

_CREATION: Final = "PRPA_IN201311UV02"
_UPDATE: Final = "PRPA_IN201314UV02"


def _never_decoded(response: Response) -> NoReturn:
    """The mock only ever answers these with a fault; nothing decodes an answer."""
    del response
    raise NotImplementedError("legacy transaction: the mock answers a rights fault")


def _legacy(td: str, title: str, root: str, reason: str | None) -> TransactionSpec[None]:
    return TransactionSpec(
        td=td,
        title=title,
        service=Service.PATIENTS,
        request_root=qname("hl7", root),
        reason_code=reason,
        request_action=f"urn:hl7-org:v3:{root}",
        response_action=f"urn:hl7-org:v3:{root.removesuffix('UV02')}ResponseUV02",
        decode=_never_decoded,
        rights=(),
        idempotent=False,
        patient=PatientBlock.NONE,
    )


#: TD1.1 (§3.7), whatever its reason code (``CREA_RD`` per PKG-KIT, absent from the official examples).
LEGACY_CREATION: Final = _legacy("TD1.1", "Création d'un DMP", _CREATION, None)
#: TD1.2 (§3.8): ``PRPA_IN201314UV02`` with reason code ``REAC`` (TD1.3b shares the root with ``MODIF_DATA``).
LEGACY_REACTIVATION: Final = _legacy("TD1.2", "Réactivation d'un DMP", _UPDATE, "REAC")


def _refuse(ctx: RequestContext) -> Reply:
    td = ctx.spec.td
    raise MockFault(
        RIGHTS_SUBCODE,
        f"Accès refusé par le service de gestion des droits : {td} ({ctx.spec.title}) n'est plus proposée, "
        "les DMP sont créés et réactivés avec Mon espace santé (matrices 526 v1.8 / 606 v1.3 : aucune ligne)",
    )


ROUTES: Final = (Route(LEGACY_CREATION, _refuse), Route(LEGACY_REACTIVATION, _refuse))
