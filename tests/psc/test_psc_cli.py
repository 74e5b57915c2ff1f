"""``dmp psc login / whoami / logout`` and ``dmp mock psc pending / approve`` against the mock provider."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dmpclient.cli import app as dmp
from dmpclient.security.pki import TestPki
from mock_server.psc import MockPsc
from mock_server.runtime import prepare, write_client_config
from mock_server.server import RunningServer, start_in_thread
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

    failures: list[BaseException] = []

    def phone() -> None:  # the professional approves from the command line, as a tester would
        try:
            deadline = time.monotonic() + 30
            while not psc.provider.pending_ciba():
                assert time.monotonic() < deadline, "no CIBA request reached the provider"
                time.sleep(0.05)
            mock = ["--data", str(data), "--pki", str(pki.directory), "--url", server.base_url]
            listed = runner.invoke(dmp, ["mock", "psc", "pending", *mock])
            assert TEST_PS in listed.output
            auth_req_id = psc.provider.pending_ciba()[0].auth_req_id
            approved = runner.invoke(dmp, ["mock", "psc", "approve", auth_req_id, *mock])
            assert "approved" in approved.output, approved.output
        except BaseException as exc:  # re-raised by the test: an assertion in a thread is otherwise lost
            failures.append(exc)

    thread = threading.Thread(target=phone, daemon=True)
    thread.start()
    login = runner.invoke(
        dmp, ["psc", "login", "-c", str(config), "--session", str(session), "--ciba", "--login-hint", TEST_PS]
    )
    thread.join(30)
    if failures:
        raise failures[0]
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


def test_dmp_commands_act_as_the_signed_in_professional_with_psc(
    mock_psc: tuple[MockPsc, RunningServer], pki: TestPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``dmp psc login`` once, then ``--psc`` on a DMP command: the VIHF comes from the PSC identity."""
    psc, _ = mock_psc
    psc.provider.settings = dataclasses.replace(psc.provider.settings, ciba_auto_approve_after=0.2)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # where `dmp psc login` keeps the session
    runtime = prepare(tmp_path / "dmp", pki_dir=pki.directory)
    with start_in_thread(
        runtime.app, server_cert=pki.server.cert, server_key=pki.server.key, client_ca=pki.ca_bundle
    ) as server:
        config = write_client_config(runtime, server.services_url, psc.provider.issuer)
        login = runner.invoke(dmp, ["psc", "login", "-c", str(config), "--ciba", "--login-hint", TEST_PS])
        assert login.exit_code == 0, login.output
        exist = runner.invoke(
            dmp, ["exist", "207058575627097", "--ins-oid", "test", "-c", str(config), "--psc", "--json"]
        )
        assert exist.exit_code == 0, exist.output
        assert json.loads(exist.output)["treating_physician"] is True  # the seed's test doctor, signed in with PSC
        found = runner.invoke(
            dmp, ["find", "207058575627097", "--ins-oid", "1.2.250.1.213.1.4.10", "-c", str(config), "--psc", "--json"]
        )
        assert found.exit_code == 0, found.output
        assert json.loads(found.output)["documents"]
    trace = runtime.store.access_trace(limit=2)
    assert {entry.ps_id for entry in trace} == {TEST_PS}
    runtime.close()
