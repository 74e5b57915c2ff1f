"""The authorization code flow in a real browser: headless Chromium signs a professional in through the mock
PSC provider into the example web application (examples/psc_webapp.py), which then calls TD0.2 in PSC mode
against the mock DMP over mutual TLS.

Skipped, with the reason, where Chromium or chromedriver is not installed (Debian: ``chromium``,
``chromium-driver``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from dmpclient import DmpClient, DmpConfig
from dmpclient.psc import PscClient
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki
from mock_server.psc import prepare_psc
from mock_server.runtime import prepare
from mock_server.server import start_in_thread
from tests.conftest import REPO
from tests.psc.conftest import TEST_PS, psc_config, serve_psc

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None, reason="headless Chromium and chromedriver are not installed"
)


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("psc_webapp", REPO / "examples" / "psc_webapp.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["psc_webapp"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def webapp(pki: TestPki, tmp_path: Path) -> Iterator[str]:
    """Mock DMP + mock PSC over TLS, and the example web application on plain loopback HTTP."""
    runtime = prepare(tmp_path / "dmp", pki_dir=pki.directory, now=dt.datetime.now(dt.UTC))
    dmp_server = start_in_thread(
        runtime.app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle
    )
    psc = prepare_psc(tmp_path / "psc", pki)
    psc_server = serve_psc(psc, pki)
    config = DmpConfig.for_test_pki(pki, base_url=dmp_server.services_url)
    tls = load_pem(pki.org_auth.cert, pki.org_auth.key)
    psc_client = PscClient(psc_config(psc, pki, auth_method="tls_client_auth", client_secret_env=None), tls=tls)
    example = _example()
    listening = socket.create_server(("127.0.0.1", 0))  # bound before the server starts: no port race
    base = f"http://127.0.0.1:{listening.getsockname()[1]}"
    with DmpClient(config) as dmp, listening:
        app = example.build_app(example.WebApp(psc_client, dmp, base))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the example web application stopped while starting"
            assert time.monotonic() < deadline, "the example web application did not start"
            time.sleep(0.02)
        yield base
        server.should_exit = True
        thread.join(10)
    psc_client.close()
    psc_server.stop()
    dmp_server.stop()
    runtime.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = str(CHROMIUM)
    arguments = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic")
    arguments += ("--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync")
    for argument in (*arguments, f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(argument)
    options.accept_insecure_certs = True  # the browser does not know the test CA; the SDK's own TLS is verified
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(15)  # a loaded machine: wait for elements rather than fail
    yield driver
    driver.quit()


def test_sign_in_in_the_browser_then_td02_and_td31_in_psc_mode(webapp: str, browser: WebDriver) -> None:
    driver = browser
    driver.get(webapp)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 15).until(lambda d: "Pro Santé Connect" in d.title)  # the provider's sign-in page
    driver.find_element(By.ID, f"ps-{TEST_PS}").click()
    who = driver.find_element(By.ID, "who").text
    assert TEST_PS in who
    assert "10C" in who
    td02 = driver.find_element(By.ID, "td02").text
    assert "TD0.2 : DMP" in td02
    assert "médecin traitant : oui" in td02  # the seed makes the test doctor her médecin traitant
    td31 = driver.find_element(By.ID, "td31").text
    assert int(td31.removeprefix("TD3.1 : ").split()[0]) > 0  # her documents, searched in PSC mode
    assert driver.find_elements(By.CSS_SELECTOR, "#documents li")
    driver.find_element(By.ID, "logout").click()
    assert driver.find_element(By.ID, "bye").text == "Déconnecté."
