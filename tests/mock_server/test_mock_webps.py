"""TD0.9 URLs and the TD0.10 entry of the mock web PS, over HTTPS with a plain HTTP client (no browser).

The browser test (``tests/e2e/test_webps_browser.py``) clicks through the same pages in Chromium.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from dmpclient._client import AsyncDmpClient, DmpClient
from dmpclient._prepare import issuer_from_config
from dmpclient.config import DmpConfig
from dmpclient.errors import DmpConfigError, DmpRightsPrecheckError, DmpValidationError
from dmpclient.security.issuer import VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context
from dmpclient.security.vihf import Actor, AuthMode, NonPsRole, PurposeOfUse
from dmpclient.transactions.webps import AIR_ENTRY, LaunchRequest, WebPsPage
from mock_server.server import RunningServer
from mock_server.store.records import Authorisation, AuthorisationStatus, Outcome, SubjectKind
from mock_server.webps.server import start_webps_in_thread
from tests.mock_server.conftest import DOCTOR, PATB_QUATRE, TEST_OID, FreshMock, identity

BLOCKS_TEST_PS = "279035121518989"
OPPOSES_BRIS_DE_GLACE = "188102B17295264"
NEVER_AUTHORISED = "255069999999934"  # DESMAUX Nathalie (demo OID): the test doctor has no authorisation


@dataclass(frozen=True)
class Site:
    fresh: FreshMock
    server: RunningServer
    config: DmpConfig
    http: httpx.Client

    @property
    def base(self) -> str:
        return f"https://localhost:{self.server.port}"


@pytest.fixture
def site(fresh_mock: FreshMock, pki: TestPki) -> Iterator[Site]:
    server = start_webps_in_thread(
        fresh_mock.runtime.webps.app(), server_cert=pki.server.cert, server_key=pki.server.key
    )
    base = f"https://localhost:{server.port}"
    config = fresh_mock.config.model_copy(update={"webps_url": base})
    try:
        with httpx.Client(verify=client_context(None, pki.ca_bundle), timeout=10) as http:  # no client certificate
            yield Site(fresh_mock, server, config, http)
    finally:
        server.stop()


def _post(site: Site, page: WebPsPage, ins: str | None = None, **options: object) -> httpx.Response:
    with DmpClient(site.config) as dmp:
        launch = dmp.webps_launch(page, identity(**options), ins=ins, ins_oid=TEST_OID)  # type: ignore[arg-type]
    return site.http.post(launch.url, data=dict(launch.form_fields))


def test_td09_urls(mock_config: DmpConfig) -> None:
    with DmpClient(mock_config.model_copy(update={"webps_url": "https://webps.example"})) as dmp:
        assert dmp.webps_url(WebPsPage.TABLEAU_DE_BORD) == "https://webps.example/AccesDirect/TableauDeBord"
        assert dmp.webps_url("Documents", "188102b17295264") == (
            "https://webps.example/AccesDirect/Documents/188102B17295264"
        )
        with pytest.raises(DmpValidationError, match="INS"):
            dmp.webps_url(WebPsPage.DOSSIER_PATIENT)
        with pytest.raises(DmpValidationError, match="control key"):
            dmp.webps_url(WebPsPage.DOSSIER_PATIENT, PATB_QUATRE[:-1] + "0")
        with pytest.raises(DmpValidationError, match="not a web PS page"):
            dmp.webps_url("Admin")


def test_the_webps_host_of_a_real_platform_must_be_configured(mock_config: DmpConfig) -> None:
    real_platform = mock_config.model_copy(update={"environment": "dev1", "base_url": None})
    with DmpClient(real_platform) as dmp, pytest.raises(DmpConfigError, match="webps_url"):
        dmp.webps_url(WebPsPage.TABLEAU_DE_BORD)


def test_launch_request_keeps_the_token_out_of_logs_and_dumps(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG"), DmpClient(site.config) as dmp:
        launch = dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity(), ins=PATB_QUATRE, ins_oid=TEST_OID)
    token = launch.form_fields["VIHF"]
    assert base64.b64decode(token).startswith(b"<saml2:Assertion")
    assert launch.url == f"{site.base}/AccesDirectAIR/DossierPatient/{PATB_QUATRE}"
    for text in (repr(launch), str(launch), launch.model_dump_json(), caplog.text):
        assert token not in text
    assert PATB_QUATRE not in repr(launch) + caplog.text
    html = launch.auto_submit_html()
    assert 'method="post"' in html
    assert f'value="{token}"' in html


def test_td010_entry_opens_a_session_on_the_patient(site: Site) -> None:
    response = _post(site, WebPsPage.DOSSIER_PATIENT, PATB_QUATRE)
    assert response.status_code == 200
    assert "PATB-QUATRE" in response.text
    assert "VALIDE (médecin traitant)" in response.text
    cookie = response.headers["set-cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=strict", "Path=/AccesDirect"):
        assert flag.lower() in cookie.lower()
    assert "default-src 'none'" in response.headers["content-security-policy"]
    trace = site.fresh.runtime.store.access_trace(patient=PATB_QUATRE, limit=1)[0]
    assert (trace.td, trace.outcome, trace.detail) == ("TD0.10", Outcome.ALLOWED, "web PS DossierPatient")

    documents = site.http.get(f"{site.base}/AccesDirect/Documents/{PATB_QUATRE}")
    assert documents.status_code == 200
    links = re.findall(r'href="(/AccesDirect/Documents/[^"]+/[^"]+)"', documents.text)
    assert links
    download = site.http.get(site.base + links[0])
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    entry = unquote(links[0].rsplit("/", 1)[1])
    row = site.fresh.runtime.store.get_document(entry)
    assert row is not None
    assert download.content == site.fresh.runtime.store.get_content(row.unique_id)


def test_a_replayed_token_shows_an_error_page(site: Site) -> None:
    with DmpClient(site.config) as dmp:
        launch = dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity(), ins=PATB_QUATRE, ins_oid=TEST_OID)
    first = site.http.post(launch.url, data=dict(launch.form_fields))
    assert first.status_code == 200
    site.http.cookies.clear()
    replay = site.http.post(launch.url, data=dict(launch.form_fields))
    assert replay.status_code == 403
    assert 'id="error-code">DMPVihfReplayed<' in replay.text
    assert "Le VIHF a déjà été utilisé" in replay.text
    assert "set-cookie" not in replay.headers


def test_a_stale_token_shows_an_error_page(site: Site) -> None:
    stale = site.config
    with DmpClient(stale, clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=45)) as dmp:
        launch = dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity(), ins=PATB_QUATRE, ins_oid=TEST_OID)
    response = site.http.post(launch.url, data=dict(launch.form_fields))
    assert response.status_code == 403
    assert 'id="error-code">DMPVihfExpired<' in response.text


def test_pages_need_a_session(site: Site) -> None:
    response = site.http.get(f"{site.base}/AccesDirect/Documents/{PATB_QUATRE}")
    assert response.status_code == 401
    assert "DMPInvalidSession" in response.text


def test_the_token_must_name_the_page_patient(site: Site) -> None:
    with DmpClient(site.config) as dmp:
        launch = dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity(), ins=PATB_QUATRE, ins_oid=TEST_OID)
    other = launch.url.replace(PATB_QUATRE, OPPOSES_BRIS_DE_GLACE)
    response = site.http.post(other, data=dict(launch.form_fields))
    assert response.status_code == 403
    assert "DMPInvalidVihf" in response.text


def test_patient_refusals(site: Site) -> None:
    blocked = _post(site, WebPsPage.DOSSIER_PATIENT, BLOCKS_TEST_PS)
    assert (blocked.status_code, "DMPProfessionalBlocked" in blocked.text) == (403, True)
    opposed = _post(site, WebPsPage.DOSSIER_PATIENT, OPPOSES_BRIS_DE_GLACE, purpose=PurposeOfUse.BRIS_DE_GLACE)
    assert (opposed.status_code, "DMPPatientOpposedBreakGlass" in opposed.text) == (403, True)


def test_an_unauthorised_professional_is_asked_to_declare_himself(site: Site) -> None:
    response = _post(site, WebPsPage.DOSSIER_PATIENT, NEVER_AUTHORISED)
    assert response.status_code == 403
    assert "DMPAuthorizationNotFound" in response.text
    assert "set-cookie" in response.headers  # the entry was accepted: the professional may go elsewhere
    dashboard = site.http.get(f"{site.base}/AccesDirect/TableauDeBord")
    assert dashboard.status_code == 200
    assert PATB_QUATRE in dashboard.text


def test_staff_in_air_see_no_documents(site: Site) -> None:
    secretary = Actor.device("899900063480", name="ACCUEIL Marie", kind=NonPsRole.SECRETARIAT_MEDICAL)
    with DmpClient(site.config) as dmp:
        dmp.set_authorization(PATB_QUATRE, identity(secretary), ins_oid=TEST_OID)
    summary = _post(site, WebPsPage.GESTION_DMP_PATIENT, PATB_QUATRE, actor=secretary)
    assert summary.status_code == 200
    documents = site.http.get(f"{site.base}/AccesDirect/Documents/{PATB_QUATRE}")
    assert documents.status_code == 403
    assert "DMPAccessDeniedByRightsService" in documents.text


def test_td010_is_air_only_and_checked_against_606_first(site: Site) -> None:
    with DmpClient(site.config) as dmp:
        with pytest.raises(DmpValidationError, match=r"TD0\.9"):
            dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity(mode=AuthMode.INDIRECTE), ins=PATB_QUATRE)
        occupational = identity(
            Actor.professional("899900063480", name="TRAVAIL Max", profession="10", specialty="SM25")
        )
        with pytest.raises(DmpRightsPrecheckError, match="MEDECIN_DU_TRAVAIL"):  # 606 has no such column
            dmp.webps_launch(WebPsPage.TABLEAU_DE_BORD, occupational)
        launch = dmp.webps_launch(WebPsPage.TABLEAU_DE_BORD, occupational, precheck=False)
    refused = site.http.post(launch.url, data=dict(launch.form_fields))
    assert refused.status_code == 403
    assert "DMPAccessDeniedByRightsService" in refused.text
    assert "606 v1.3" in refused.text


class _CountingIssuer(VihfIssuer):
    """Counts signatures: with a card signer each one may ask the professional for his PIN."""

    issued = 0

    def issue(self, *args: Any, **kwargs: Any) -> bytes:
        self.issued += 1
        return super().issue(*args, **kwargs)


def test_td010_checks_the_page_and_ins_before_signing(site: Site) -> None:
    org = issuer_from_config(site.config)
    issuer = _CountingIssuer(org.signer, structure=org.structure, lps=org.lps)
    with DmpClient(site.config, vihf_issuer=issuer) as dmp:
        with pytest.raises(DmpValidationError, match="give his INS"):
            dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity())
        with pytest.raises(DmpValidationError, match="not a web PS page"):
            dmp.webps_launch("Nowhere", identity(), ins=PATB_QUATRE, ins_oid=TEST_OID)
        assert issuer.issued == 0
        dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity(), ins=PATB_QUATRE, ins_oid=TEST_OID)
        assert issuer.issued == 1


def test_pages_escape_what_they_show(site: Site) -> None:
    store = site.fresh.runtime.store
    patient = store.get_patient(PATB_QUATRE)
    assert patient is not None
    store.upsert_patient(dataclasses.replace(patient, family_name='<script>alert("x")</script>'))
    response = _post(site, WebPsPage.DOSSIER_PATIENT, PATB_QUATRE)
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.text


def test_all_pages_of_a_session(site: Site) -> None:
    assert _post(site, WebPsPage.TABLEAU_DE_BORD).status_code == 200
    for page in WebPsPage:
        suffix = "" if page in (WebPsPage.TABLEAU_DE_BORD, WebPsPage.PARAMETRAGES) else f"/{PATB_QUATRE}"
        response = site.http.get(f"{site.base}/AccesDirect/{page.value}{suffix}")
        assert response.status_code == 200, page
    history = site.http.get(f"{site.base}/AccesDirect/HistoriqueAcces/{PATB_QUATRE}")
    assert "Tous les accès" in history.text  # the test doctor is PATB-QUATRE's médecin traitant
    assert DOCTOR.national_id in history.text


def test_the_async_client_launches_too(site: Site) -> None:
    async def launch() -> LaunchRequest:
        async with AsyncDmpClient(site.config) as dmp:
            return await dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity(), ins=PATB_QUATRE, ins_oid=TEST_OID)

    request = asyncio.run(launch())
    assert site.http.post(request.url, data=dict(request.form_fields)).status_code == 200


def test_the_management_page_lists_authorisations_as_td16_does(site: Site) -> None:
    """An expired authorisation is not listed (TD1.6 lists valid and blocked ones), never shown ACTIVE."""
    store, now = site.fresh.runtime.store, dt.datetime.now(dt.UTC)
    lapsed = Authorisation(
        patient_ins=PATB_QUATRE,
        subject_kind=SubjectKind.PROFESSIONAL,
        subject_id="899900077777",
        status=AuthorisationStatus.VALIDE,
        granted_at=now - dt.timedelta(days=400),
        last_action_at=now - dt.timedelta(days=400),
        expires_at=now - dt.timedelta(days=35),
        family_name="EXPIRE",
        given_name="Paul",
    )
    store.set_authorisation(lapsed)
    page = _post(site, WebPsPage.GESTION_DMP_PATIENT, PATB_QUATRE)
    assert page.status_code == 200
    assert 'id="authorisations"' in page.text
    assert DOCTOR.national_id in page.text
    assert "899900077777" not in page.text
    with DmpClient(site.config) as dmp:
        listed = dmp.list_authorizations(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    assert "899900077777" not in {p.national_id for p in listed.parties}


def test_the_management_page_applies_the_td16_row(site: Site) -> None:
    """TD1.6: normal access only (526/606), not for PE: the page shows the administrative data, not the list."""
    break_glass = _post(site, WebPsPage.GESTION_DMP_PATIENT, PATB_QUATRE, purpose=PurposeOfUse.BRIS_DE_GLACE)
    assert break_glass.status_code == 200
    assert "authorisations-refused" in break_glass.text
    assert 'id="authorisations"' not in break_glass.text
    secretary = Actor.device("899900063480", name="ACCUEIL Marie", kind=NonPsRole.SECRETARIAT_MEDICAL)
    with DmpClient(site.config) as dmp:
        dmp.set_authorization(PATB_QUATRE, identity(secretary), ins_oid=TEST_OID)
    staff = _post(site, WebPsPage.GESTION_DMP_PATIENT, PATB_QUATRE, actor=secretary)
    assert staff.status_code == 200
    assert "authorisations-refused" in staff.text


def test_an_emergency_session_stays_on_the_patient_of_its_token(site: Site) -> None:
    """A break-glass TD0.10 token names one patient: the session it opens shows no other one."""
    entry = _post(site, WebPsPage.DOSSIER_PATIENT, PATB_QUATRE, purpose=PurposeOfUse.BRIS_DE_GLACE)
    assert entry.status_code == 200
    same = site.http.get(f"{site.base}/AccesDirect/Documents/{PATB_QUATRE}")
    assert same.status_code == 200
    other = site.http.get(f"{site.base}/AccesDirect/DossierPatient/{NEVER_AUTHORISED}")
    assert other.status_code == 403
    assert "DMPAccessDeniedByRightsService" in other.text
    refused = site.fresh.runtime.store.access_trace(patient=NEVER_AUTHORISED, limit=1)[0]
    assert (refused.td, refused.outcome, refused.detail) == ("TD0.10", Outcome.REFUSED, "web PS DossierPatient")


def test_every_patient_page_shown_is_traced(site: Site) -> None:
    assert _post(site, WebPsPage.TABLEAU_DE_BORD).status_code == 200
    store = site.fresh.runtime.store
    before = len(store.access_trace(patient=PATB_QUATRE, limit=100))
    for page in (WebPsPage.DOCUMENTS, WebPsPage.PARCOURS_DE_SOINS):
        assert site.http.get(f"{site.base}/AccesDirect/{page.value}/{PATB_QUATRE}").status_code == 200
    traced = store.access_trace(patient=PATB_QUATRE, limit=100)
    assert len(traced) == before + 2
    assert [(t.td, t.outcome, t.detail) for t in traced[:2]] == [
        ("TD0.10", Outcome.ALLOWED, "web PS ParcoursDeSoins"),
        ("TD0.10", Outcome.ALLOWED, "web PS Documents"),
    ]
    assert all(t.ps_id == DOCTOR.national_id for t in traced[:2])


@pytest.mark.parametrize("declared", ["²", "9" * 4301])
def test_a_hostile_content_length_gets_an_answer_not_a_crash(fresh_mock: FreshMock, declared: str) -> None:
    """``str.isdigit`` accepts '²' and ``int`` refuses both: the form reader must not raise on them."""
    app = fresh_mock.runtime.webps.app()
    sent: list[dict[str, object]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": f"/{AIR_ENTRY}/{WebPsPage.TABLEAU_DE_BORD.value}",
        "raw_path": b"",
        "query_string": b"",
        "headers": [(b"content-length", declared.encode("latin-1"))],
        "server": ("localhost", 443),
        "client": ("127.0.0.1", 50000),
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 400
