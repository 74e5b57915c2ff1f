"""Client methods of TD0.9 and TD0.10, contextual web access (reference §10): sync and async side by side."""

from __future__ import annotations

from dmpclient._logging import logger
from dmpclient._shell import AsyncApi, SyncApi, to_thread
from dmpclient.ids import InsOid, validate_ins, validate_oid
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.vihf import PatientId
from dmpclient.transactions import webps
from dmpclient.transactions.webps import LaunchRequest, WebPsPage

__all__ = ["AsyncWebPsMethods", "WebPsMethods"]


class WebPsMethods(SyncApi):
    """TD0.9 and TD0.10, contextual web access."""

    def webps_launch(
        self,
        page: WebPsPage | str,
        identity: CallerIdentity,
        *,
        ins: str | None = None,
        ins_oid: str = InsOid.NIR,
        relay_state: str | None = None,
        precheck: bool = True,
    ) -> LaunchRequest:
        """TD0.10: open the web PS in AIR — a fresh single-use VIHF in a browser POST to
        ``{webps_url}/AccesDirectAIR/{Page}[/{INS}]`` (project design, reference §10.3). Give the result to the
        browser at once (``launch.auto_submit_html()``); the token is never logged nor stored."""
        return self._launch(page, identity, ins, ins_oid, relay_state, precheck)

    def webps_url(self, page: WebPsPage | str, ins: str | None = None) -> str:
        """TD0.9: the web PS page ``{webps_url}/AccesDirect/{Page}[/{INS}]`` to open in a browser, where the
        professional authenticates with his card or e-CPS (nothing is sent from here)."""
        return webps.webps_url(self.config.webps_base, page, ins)

    def _launch(
        self,
        page: WebPsPage | str,
        identity: CallerIdentity,
        ins: str | None,
        ins_oid: str,
        relay_state: str | None,
        precheck: bool,
    ) -> LaunchRequest:
        patient = PatientId(ins=validate_ins(ins), oid=validate_oid(ins_oid, field="ins_oid")) if ins else None
        launch = self._prep.web_launch(page, identity, patient=patient, relay_state=relay_state, precheck=precheck)
        logger.info("TD0.10 web PS launch prepared for page %s (AIR token not logged)", WebPsPage(page).value)
        return launch


class AsyncWebPsMethods(AsyncApi):
    """The awaited twins of :class:`WebPsMethods`."""

    async def webps_launch(
        self,
        page: WebPsPage | str,
        identity: CallerIdentity,
        *,
        ins: str | None = None,
        ins_oid: str = InsOid.NIR,
        relay_state: str | None = None,
        precheck: bool = True,
    ) -> LaunchRequest:
        """TD0.10: see :meth:`DmpClient.webps_launch` (signing runs in a worker thread: it may use a card)."""
        return await to_thread(self._launch, page, identity, ins, ins_oid, relay_state, precheck)

    def webps_url(self, page: WebPsPage | str, ins: str | None = None) -> str:
        """TD0.9: the web PS page ``{webps_url}/AccesDirect/{Page}[/{INS}]`` to open in a browser, where the
        professional authenticates with his card or e-CPS (nothing is sent from here)."""
        return webps.webps_url(self.config.webps_base, page, ins)

    def _launch(
        self,
        page: WebPsPage | str,
        identity: CallerIdentity,
        ins: str | None,
        ins_oid: str,
        relay_state: str | None,
        precheck: bool,
    ) -> LaunchRequest:
        patient = PatientId(ins=validate_ins(ins), oid=validate_oid(ins_oid, field="ins_oid")) if ins else None
        launch = self._prep.web_launch(page, identity, patient=patient, relay_state=relay_state, precheck=precheck)
        logger.info("TD0.10 web PS launch prepared for page %s (AIR token not logged)", WebPsPage(page).value)
        return launch
