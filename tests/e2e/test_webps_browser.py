"""TD0.10 in a real browser: headless Chromium (Debian ``chromium`` + ``chromium-driver``) driven by Selenium.

The DPI's part is what dmpclient gives it: the auto-submitting page of a ``LaunchRequest``. The browser posts the
fresh AIR VIHF to the mock web PS, lands on the patient, goes to the documents list and downloads one; the same
launch page opened again (a replay) and a launch signed 45 s ago (stale) both end on an error page.

The browser trusts exactly the mock's server key (``--ignore-certificate-errors-spki-list`` with its SPKI hash),
inside this test only. The test skips, saying why, where no Chromium or chromedriver is installed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from dmpclient._client import DmpClient
from dmpclient.config import DmpConfig
from dmpclient.security.pki import TestPki
from dmpclient.transactions.webps import LaunchRequest, WebPsPage
from mock_server.store.records import Outcome
from mock_server.webps.server import start_webps_in_thread
from tests.mock_server.conftest import PATB_QUATRE, TEST_OID, FreshMock, identity

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="no Chromium/chromedriver on this machine (Debian: apt-get install chromium chromium-driver; .ci/run does)",
)


def _spki_hash(certificate: Path) -> str:
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture
def browser(tmp_path: Path, pki: TestPki) -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--ignore-certificate-errors-spki-list={_spki_hash(pki.server.cert)}",
    ):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def webps(fresh_mock: FreshMock, pki: TestPki) -> Iterator[DmpConfig]:
    """The fresh mock's web PS on its browser origin; the client configuration pointing at it."""
    server = start_webps_in_thread(
        fresh_mock.runtime.webps.app(), server_cert=pki.server.cert, server_key=pki.server.key
    )
    try:
        yield fresh_mock.config.model_copy(update={"webps_url": f"https://localhost:{server.port}"})
    finally:
        server.stop()


def _open(driver: WebDriver, launch: LaunchRequest) -> None:
    """What a DPI does with a launch: show its auto-submitting page (here as a data: URL, never on disk)."""
    page = base64.b64encode(launch.auto_submit_html().encode()).decode()
    driver.get(f"data:text/html;charset=utf-8;base64,{page}")


def _wait_for(driver: WebDriver, element_id: str) -> str:
    element = WebDriverWait(driver, 20).until(expected_conditions.presence_of_element_located((By.ID, element_id)))
    return str(element.text)


def _launch(config: DmpConfig, *, age: float = 0.0) -> LaunchRequest:
    clock = lambda: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)  # noqa: E731
    with DmpClient(config, clock=clock) as dmp:
        return dmp.webps_launch(WebPsPage.DOSSIER_PATIENT, identity(), ins=PATB_QUATRE, ins_oid=TEST_OID)


def test_td010_lands_on_the_patient_then_documents_and_a_download(
    webps: DmpConfig, browser: WebDriver, fresh_mock: FreshMock, tmp_path: Path
) -> None:
    store = fresh_mock.runtime.store
    patient = store.get_patient(PATB_QUATRE)
    assert patient is not None
    _open(browser, _launch(webps))
    assert patient.family_name in _wait_for(browser, "patient-name")
    assert browser.current_url.endswith(f"/AccesDirectAIR/DossierPatient/{PATB_QUATRE}")

    browser.find_element(By.ID, "all-documents").click()
    _wait_for(browser, "documents")
    assert browser.current_url.endswith(f"/AccesDirect/Documents/{PATB_QUATRE}")  # the session cookie was sent
    link = browser.find_elements(By.CSS_SELECTOR, "a.download")[0]
    entry = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()

    downloads = tmp_path / "downloads"
    deadline = time.monotonic() + 20
    while not [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")] and time.monotonic() < deadline:
        time.sleep(0.1)
    (saved,) = [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]
    row = store.get_document(entry.replace("%3A", ":"))
    assert row is not None
    assert saved.read_bytes() == store.get_content(row.unique_id)
    details = {e.detail for e in store.access_trace(patient=PATB_QUATRE, limit=5) if e.outcome is Outcome.ALLOWED}
    assert {"web PS DossierPatient", "web PS téléchargement"} <= details


def test_a_replayed_or_stale_launch_ends_on_an_error_page(webps: DmpConfig, browser: WebDriver) -> None:
    launch = _launch(webps)
    _open(browser, launch)
    _wait_for(browser, "patient-name")
    _open(browser, launch)  # the same single-use token again
    assert _wait_for(browser, "error-code") == "DMPVihfReplayed"
    assert "déjà été utilisé" in _wait_for(browser, "error-message")

    _open(browser, _launch(webps, age=45))  # an AIR VIHF lives 30 s
    assert _wait_for(browser, "error-code") == "DMPVihfExpired"
