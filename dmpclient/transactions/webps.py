"""Contextual web access: TD0.9 (web PS URL catalogue) and TD0.10 (the same in AIR, with a VIHF), pure.

TD0.9 (reference §10.1): the LPS opens ``{webps}/AccesDirect/{Page}[/{INS}]`` in a browser; the professional
authenticates there (card, e-CPS). TD0.10 (§10.3): the official wire format is **not public**. This module is
the one place that defines the project's form (**project design**, replace when DMPi is available):

* ``POST {webps}/AccesDirectAIR/{Page}[/{INS}]``, ``application/x-www-form-urlencoded``;
* field ``VIHF`` = base64 (standard alphabet) of the signed AIR assertion (fresh, ≤ 30 s, single use,
  ``resource-id`` = the INS when a patient page is asked); optional ``RelayState``, echoed.

The token only lives in the returned :class:`LaunchRequest` (never in its repr or its JSON dump): hand it to
the browser (:meth:`LaunchRequest.auto_submit_html`) and drop it.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from dmpclient.errors import DmpValidationError
from dmpclient.ids import mask_ins, validate_ins

__all__ = [
    "AIR_ENTRY",
    "DIRECT_ENTRY",
    "PATIENT_PAGES",
    "LaunchRequest",
    "WebPsPage",
    "air_launch",
    "check_page",
    "webps_url",
]

DIRECT_ENTRY: Final = "AccesDirect"
AIR_ENTRY: Final = "AccesDirectAIR"


class WebPsPage(StrEnum):
    """The pages of the web PS site (PDT-INF-527 v1.7, reference §10.1)."""

    TABLEAU_DE_BORD = "TableauDeBord"
    DOSSIER_PATIENT = "DossierPatient"
    GESTION_DMP_PATIENT = "GestionDMPPatient"
    DOCUMENTS = "Documents"
    PARCOURS_DE_SOINS = "ParcoursDeSoins"
    HISTORIQUE_ACCES = "HistoriqueAcces"
    PARAMETRAGES = "Parametrages"
    VOLONTES_ET_DROITS = "VolontesEtDroits"
    CARNET_VACCINATION = "CarnetVaccination"


#: Pages about one patient: the INS is required (TableauDeBord takes it optionally, Parametrages never).
PATIENT_PAGES: Final = frozenset(WebPsPage) - {WebPsPage.TABLEAU_DE_BORD, WebPsPage.PARAMETRAGES}


def check_page(page: WebPsPage | str, ins: str | None) -> str:
    """The ``{Page}[/{INS}]`` part of a web PS address, checked: a known page, an INS exactly where one is due.

    Raises:
        DmpValidationError: an unknown page, a patient page without INS, or an INS that is not valid.
    """
    try:
        page = WebPsPage(page)
    except ValueError:
        known = ", ".join(p.value for p in WebPsPage)
        raise DmpValidationError(f"page: {page!r} is not a web PS page ({known})", field="page") from None
    if ins is None and page in PATIENT_PAGES:
        raise DmpValidationError(f"page {page.value} is about a patient: give his INS", field="ins")
    if ins is not None and page is WebPsPage.PARAMETRAGES:
        raise DmpValidationError("page Parametrages takes no INS (it is the professional's settings)", field="ins")
    suffix = f"/{validate_ins(ins)}" if ins is not None else ""
    return f"{page.value}{suffix}"


def _path(entry: str, page: WebPsPage | str, ins: str | None) -> str:
    return f"/{entry}/{check_page(page, ins)}"


def webps_url(base: str, page: WebPsPage | str, ins: str | None = None) -> str:
    """TD0.9: ``{base}/AccesDirect/{Page}[/{INS}]`` (the INS is validated: key, 2A/2B)."""
    return base.rstrip("/") + _path(DIRECT_ENTRY, page, ins)


class LaunchRequest(BaseModel):
    """What a DPI needs to open the web PS in AIR (TD0.10): a browser POST of ``form_fields`` to ``url``.

    ``form_fields`` holds the signed VIHF: it is left out of the repr and of ``model_dump`` (never log or
    store it; it is single-use and lives 30 s).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["POST"] = "POST"
    url: str
    form_fields: Mapping[str, str] = Field(repr=False, exclude=True)

    def __repr__(self) -> str:  # neither the token nor the INS of the URL in logs and tracebacks
        return f"LaunchRequest(method={self.method!r}, url={mask_ins(self.url)!r})"

    __str__ = __repr__

    def auto_submit_html(self, *, title: str = "Ouverture du DMP du patient…") -> str:
        """A small HTML page whose form posts itself to the web PS (a button when scripts are off)."""
        inputs = "\n".join(
            f'    <input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in self.form_fields.items()
        )
        return (
            "<!DOCTYPE html>\n"
            '<html lang="fr">\n<head>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n'
            f"<title>{html.escape(title)}</title>\n</head>\n"
            '<body onload="document.forms[0].submit()">\n'
            f'  <form method="post" action="{html.escape(self.url)}">\n{inputs}\n'
            '    <noscript><button type="submit">Ouvrir le DMP</button></noscript>\n'
            "  </form>\n</body>\n</html>\n"
        )


def air_launch(
    base: str, page: WebPsPage | str, assertion: bytes, *, ins: str | None = None, relay_state: str | None = None
) -> LaunchRequest:
    """TD0.10 (project design): the browser POST carrying a signed AIR VIHF to ``{base}/AccesDirectAIR/…``."""
    fields = {"VIHF": base64.b64encode(assertion).decode("ascii")}
    if relay_state is not None:
        fields["RelayState"] = relay_state
    return LaunchRequest(url=base.rstrip("/") + _path(AIR_ENTRY, page, ins), form_fields=fields)
