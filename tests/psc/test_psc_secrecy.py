"""Tokens never reach a repr, a log line or an error message; the core install works without the extra."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from dmpclient.psc import PscClient, PscSignInRequired
from mock_server.psc import MOCK_CLIENT_SECRET, MockPsc
from mock_server.server import RunningServer
from tests.conftest import REPO
from tests.psc.conftest import TEST_PS


def test_no_token_in_reprs_logs_or_errors(
    client: PscClient, mock_psc: tuple[MockPsc, RunningServer], caplog: pytest.LogCaptureFixture
) -> None:
    psc = mock_psc[0]
    caplog.set_level(logging.DEBUG)
    started = client.start_ciba(TEST_PS)
    psc.provider.decide_ciba(started.auth_req_id, approve=True)
    session = client.wait_ciba(started)
    access = session.access_token()
    saved = session.save()
    secrets = [access, saved.refresh_token, saved.id_token, started.auth_req_id, MOCK_CLIENT_SECRET]
    shown = [repr(session), repr(saved), repr(started), repr(client.provider.credentials), str(session.identity)]
    session.logout()
    try:
        session.access_token()
    except PscSignInRequired as exc:
        shown.append(str(exc))
    shown.append(caplog.text)
    for text in shown:
        for secret in secrets:
            assert secret not in text
    assert "national_id='899900063480'" in repr(session)


def test_core_install_without_the_psc_extra() -> None:
    """With authlib and joserfc hidden, the SDK and the [psc] settings import; PSC names say which extra."""
    script = """
import sys
sys.modules["authlib"] = None
sys.modules["joserfc"] = None
import importlib.util
real = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name in ("authlib", "joserfc") else real(name, *a)
import dmpclient
from dmpclient.config import DmpConfig
from dmpclient.psc import PscConfig
try:
    from dmpclient.psc import PscClient
except ImportError as exc:
    print(exc)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert "pip install 'dmpclient[psc]'" in out.stdout, out.stderr
