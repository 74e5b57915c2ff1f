"""``dmp psc login / whoami / logout`` and ``dmp mock psc pending / approve`` against the mock provider."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from dmpclient.cli import app as dmp
from dmpclient.security.pki import TestPki
from mock_server.psc import MockPsc
from mock_server.server import RunningServer
from tests.psc.conftest import TEST_PS

runner = CliRunner()


def _config(tmp_path: Path, pki: TestPki, issuer: str) -> Path:
    path = tmp_path / "dmpclient.toml"
    path.write_text(
        f"""
ca_bundle = "{pki.ca_bundle}"
[credentials.tls]
cert = "{pki.org_auth.cert}"
key = "{pki.org_auth.key}"
[lps]
nom = "LPS"
version = "1"
id_homologation_dmp = "H"
[structure]
id = "{pki.structure_id}"
secteur_activite = "SA01"
[psc]
issuer = "{issuer}"
client_id = "dmpclient-mock"
auth_method = "tls_client_auth"
ca_bundle = "{pki.ca_bundle}"
""",
        encoding="utf-8",
    )
    return path


def test_login_with_ciba_whoami_logout(mock_psc: tuple[MockPsc, RunningServer], pki: TestPki, tmp_path: Path) -> None:
    psc, server = mock_psc
    config, session = _config(tmp_path, pki, psc.provider.issuer), tmp_path / "cache" / "psc-session.json"
    data = tmp_path / "psc-data"  # where prepare_psc wrote the admin token (conftest)

    def phone() -> None:  # the professional approves from the command line, as a tester would
        while not psc.provider.pending_ciba():
            time.sleep(0.05)
        listed = runner.invoke(
            dmp, ["mock", "psc", "pending", "--data", str(data), "--pki", str(pki.directory), "--url", server.base_url]
        )
        assert TEST_PS in listed.output
        auth_req_id = psc.provider.pending_ciba()[0].auth_req_id
        approved = runner.invoke(
            dmp,
            [
                "mock",
                "psc",
                "approve",
                auth_req_id,
                "--data",
                str(data),
                "--pki",
                str(pki.directory),
                "--url",
                server.base_url,
            ],
        )
        assert "approved" in approved.output, approved.output

    thread = threading.Thread(target=phone)
    thread.start()
    login = runner.invoke(
        dmp, ["psc", "login", "-c", str(config), "--session", str(session), "--ciba", "--login-hint", TEST_PS]
    )
    thread.join(10)
    assert login.exit_code == 0, login.output
    assert "signed in" in login.output
    assert session.stat().st_mode & 0o777 == 0o600

    whoami = runner.invoke(dmp, ["psc", "whoami", "-c", str(config), "--session", str(session), "--json"])
    assert whoami.exit_code == 0, whoami.output
    document = json.loads(whoami.output)
    assert document["national_id"] == TEST_PS
    assert document["work_situations"][0]["work_situation"] == "10C"
    assert [r["code"] for r in document["work_situations"][0]["vihf_roles"]] == ["10", "SM26"]
    saved = json.loads(session.read_text())
    assert saved["refresh_token"] not in whoami.output

    logout = runner.invoke(dmp, ["psc", "logout", "-c", str(config), "--session", str(session)])
    assert logout.exit_code == 0, logout.output
    assert not session.exists()
    again = runner.invoke(dmp, ["psc", "whoami", "-c", str(config), "--session", str(session)])
    assert again.exit_code == 1
    assert "not signed in" in again.output
