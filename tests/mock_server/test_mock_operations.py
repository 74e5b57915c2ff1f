"""Operating the mock: fault injection, the structured access log, routing faults, the CLI, and kill -9.

Fault injection is set on the session mock and always cleared afterwards (``faults`` fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, TypeVar

import httpx
import pytest
from lxml import etree
from typer.testing import CliRunner

from dmpclient import AsyncDmpClient, DmpClient, issuer_from_config
from dmpclient._xml import NS
from dmpclient.config import SERVICES_PATH, DmpConfig
from dmpclient.errors import (
    DmpConfigError,
    DmpError,
    DmpHttpError,
    DmpProtocolError,
    DmpSoapFault,
    DmpTimeoutError,
)
from dmpclient.hl7v3.patient_query import DmpStatus, ExistenceAnswer
from dmpclient.security.credentials import load_pem
from dmpclient.security.issuer import VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context
from dmpclient.security.vihf import PatientId
from dmpclient.soap.envelope import SoapMessage, build_request, read_soap
from dmpclient.transport import HttpTransport
from mock_server import cli as cli_module
from mock_server.app import MockDmp
from mock_server.cli import app as mock_cli
from mock_server.cli import module_args
from mock_server.errors import MockFault
from mock_server.handlers import default_router
from mock_server.injection import FaultCode, FaultInjection, FaultInjector
from mock_server.runtime import MockRuntime, prepare, write_client_config
from mock_server.seed import seed
from mock_server.server import RunningServer, ServerLimits
from mock_server.store import Store, database_path
from mock_server.store.records import Outcome, StatusConflictError
from tests.conftest import REPO
from tests.mock_server.conftest import DOCTOR, PATB_QUATRE, TEST_OID, identity, serve, td02
from tests.served import ServedMock

T = TypeVar("T")
SOAP_CONTENT_TYPE: Final = "application/soap+xml; charset=UTF-8"
ASSERTION_ID: Final = re.compile(rb'<(?:\w+:)?Assertion\b[^>]*\sID="([^"]+)"')


def _config(base: DmpConfig, **changes: Any) -> DmpConfig:
    return DmpConfig.model_validate(base.model_dump() | changes)


def _trace_ids(store: Store) -> set[str | None]:
    return {entry.message_id for entry in store.access_trace(limit=1_000_000)}


def _until(deadline_s: float, probe: Callable[[], T | None], *, every: float = 0.1) -> T:
    """Poll ``probe`` until it returns a value (bounded wait)."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {deadline_s} s")
        time.sleep(every)


# --- fault injection ----------------------------------------------------------------------------


@pytest.fixture
def faults(mock_runtime: MockRuntime) -> Iterator[FaultInjector]:
    """The session mock's injector, empty before and after the test."""
    injector = mock_runtime.app.faults
    injector.clear()
    yield injector
    injector.clear()


def test_injected_delay_makes_the_client_time_out(
    faults: FaultInjector, mock_config: DmpConfig, mock_runtime: MockRuntime
) -> None:
    faults.set("patients", FaultInjection(delay_seconds=1.0, count=1))
    impatient = _config(mock_config, timeouts={"connect": 5, "read": 0.3, "write": 5, "pool": 5})
    with DmpClient(impatient) as client, pytest.raises(DmpTimeoutError) as caught:
        client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    assert "timeouts.read = 0.3 s" in caught.value.message
    message_id = caught.value.message_id
    # the delayed request is then answered normally (and traced) once the delay is over
    _until(10, lambda: True if message_id in _trace_ids(mock_runtime.store) else None)


def test_injected_http_error_without_soap(faults: FaultInjector, client: DmpClient) -> None:
    faults.set("patients", FaultInjection(http_status=503))
    with pytest.raises(DmpHttpError) as caught:
        client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    assert caught.value.status_code == 503
    assert "without a SOAP envelope" in caught.value.message


def test_retry_after_an_injected_503_sends_a_fresh_vihf(
    faults: FaultInjector, mock_config: DmpConfig, pki: TestPki
) -> None:
    faults.set("patients", FaultInjection(http_status=503, count=1))
    sent: list[bytes] = []
    http = httpx.Client(
        verify=client_context(load_pem(pki.org_auth.cert, pki.org_auth.key), pki.ca_bundle),
        timeout=10,
        event_hooks={"request": [lambda request: sent.append(request.content)]},
    )
    patient = _config(mock_config, retry={"max_attempts": 2, "backoff_initial": 0.01, "backoff_max": 0.01})
    with http, DmpClient(patient, transport=HttpTransport(patient, client=http), sleep=lambda _seconds: None) as client:
        answer = client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    assert answer.status is DmpStatus.ACTIVE
    assert len(sent) == 2
    first, second = (ASSERTION_ID.search(body) for body in sent)
    assert first is not None
    assert second is not None
    assert first[1] != second[1]  # a new single-use AIR token for the second attempt


def test_injected_malformed_xml(faults: FaultInjector, client: DmpClient) -> None:
    faults.set("patients", FaultInjection(malformed_xml=True))
    with pytest.raises(DmpProtocolError) as caught:
        client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    assert caught.value.td == "TD0.2"


@pytest.mark.parametrize("code", ["Sender", "Receiver"])
def test_injected_dmp_fault(faults: FaultInjector, client: DmpClient, code: FaultCode) -> None:
    reason = "Le certificat ayant signé le VIHF est invalide : Not a valid signature certificate"
    faults.set("patients", FaultInjection(dmp_subcode="DMPInvalidCertificate", dmp_reason=reason, dmp_code=code))
    with pytest.raises(DmpSoapFault) as caught:
        client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    assert (caught.value.code, caught.value.subcode, caught.value.reason) == (code, "DMPInvalidCertificate", reason)


def test_injection_count_is_honoured_per_service(faults: FaultInjector, client: DmpClient) -> None:
    faults.set("patients", FaultInjection(http_status=500, count=2))
    faults.set("registry", FaultInjection(http_status=503))
    for _ in range(2):
        with pytest.raises(DmpHttpError) as caught:
            client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
        assert caught.value.status_code == 500
    assert client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID).status is DmpStatus.ACTIVE
    assert faults.take("registry") is not None  # the other service keeps its own injection


def test_fault_file_loads_per_service_tables(tmp_path: Path) -> None:
    path = tmp_path / "faults.toml"
    path.write_text(
        "[registry]\ndelay_seconds = 2.5\n\n"
        '[repository]\ndmp_fault = { subcode = "DMPInvalidCertificate", reason = "Certificat invalide" }\ncount = 1\n',
        encoding="utf-8",
    )
    injector = FaultInjector.from_toml(path)
    assert injector.take("registry") == FaultInjection(delay_seconds=2.5)
    repository = injector.take("repository")
    assert repository is not None
    assert (repository.dmp_subcode, repository.dmp_reason, repository.count) == (
        "DMPInvalidCertificate",
        "Certificat invalide",
        1,
    )
    assert injector.take("repository") is None  # count = 1 consumed
    assert injector.take("patients") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[registry]\ndelay = 2\n", "valid keys are"),
        ("[nowhere]\ndelay_seconds = 1\n", "unknown service 'nowhere'"),
        ("[registry\n", "cannot read the fault-injection file"),
        ('[registry]\ndelay_seconds = "slow"\n', "wrong value type (delay_seconds: float expected)"),
        ("[registry]\ncount = true\n", "wrong value type (count: int expected)"),
        ("count = 1\n", "faults.count: expected a [count] table"),
        ('[registry]\ndmp_fault = "DMPInvalidCertificate"\n', "faults.registry.dmp_fault: expected a table"),
        ("[registry]\nhttp_status = 200\n", "http_status must be an HTTP error status (400-599), not 200"),
        ("[registry]\nhttp_status = 99\n", "http_status must be an HTTP error status (400-599), not 99"),
        ("[registry]\nhttp_status = 600\n", "http_status must be an HTTP error status (400-599), not 600"),
        ('[registry]\ndmp_fault = { code = "Client" }\n', "dmp_code must be one of ['Sender', 'Receiver']"),
        ("[registry]\ndelay_seconds = nan\n", "delay_seconds must be between 0 and 600 seconds"),
        ("[registry]\ndelay_seconds = inf\n", "delay_seconds must be between 0 and 600 seconds"),
        ("[registry]\ndelay_seconds = -1\n", "delay_seconds must be between 0 and 600 seconds"),
        ("[registry]\ndelay_seconds = 601\n", "delay_seconds must be between 0 and 600 seconds"),
    ],
)
def test_bad_fault_files_are_refused_clearly(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "faults.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DmpConfigError) as caught:
        FaultInjector.from_toml(path)
    assert expected in caught.value.message


def test_injections_built_in_python_are_checked_too() -> None:
    with pytest.raises(DmpConfigError) as caught:
        FaultInjection(http_status=302)
    assert caught.value.field == "http_status"
    assert FaultInjection(http_status=599, delay_seconds=600, dmp_code="Receiver").http_status == 599


# --- access log ---------------------------------------------------------------------------------


def test_structured_access_log_line_without_patient_data(
    client: DmpClient, caplog: pytest.LogCaptureFixture, pki: TestPki
) -> None:
    caplog.set_level(logging.INFO, logger="mock_server.access")
    client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    op = td02()
    with pytest.raises(DmpSoapFault):
        client.call(op.spec.service, op.body, action=op.spec.request_action, td=op.td, assertion=None, idempotent=False)
    records = [r for r in caplog.records if r.name == "mock_server.access"]
    assert len(records) == 2
    allowed, refused = (json.loads(r.getMessage()) for r in records)
    assert allowed["td"] == "TD0.2"
    assert allowed["caller"] == f"{DOCTOR.national_id}@{pki.structure_id}"
    assert (allowed["outcome"], allowed["status"], allowed["service"]) == ("allowed", 200, "patients")
    assert isinstance(allowed["ms"], float)
    assert allowed["ms"] > 0
    assert (refused["td"], refused["caller"], refused["outcome"]) == ("TD0.2", "-", "refused")
    assert (refused["status"], refused["subcode"]) == (500, "DMPInvalidVihf")
    for record in records:
        assert PATB_QUATRE not in record.getMessage()
        assert "PATB" not in record.getMessage()


# --- routing faults on the wire -----------------------------------------------------------------


def _post(http: httpx.Client, url: str, envelope: bytes) -> tuple[int, SoapMessage]:
    response = http.post(url, content=envelope, headers={"Content-Type": SOAP_CONTENT_TYPE})
    return response.status_code, read_soap(response.content)


def _fault(message: SoapMessage) -> tuple[str | None, str | None, str | None]:
    body = message.body
    assert body is not None
    assert body.tag == f"{{{NS['soap']}}}Fault"
    return (
        body.findtext("soap:Code/soap:Value", namespaces=NS),
        body.findtext("soap:Code/soap:Subcode/soap:Value", namespaces=NS),
        body.findtext("soap:Reason/soap:Text", namespaces=NS),
    )


def test_unknown_service_is_a_404_sender_fault(mtls_http: httpx.Client, mock_dmp: RunningServer) -> None:
    op = td02()
    message_id = f"urn:uuid:{uuid.uuid4()}"
    envelope = build_request(op.body, action=op.spec.request_action, message_id=message_id)
    status, message = _post(mtls_http, f"{mock_dmp.services_url}/nowhere", envelope)
    assert status == 404
    assert message.relates_to is None  # refused before the body (and its MessageID) is read
    assert _fault(message) == ("soap:Sender", None, "Service inconnu : nowhere")


def test_unknown_body_root_is_a_sender_fault(client: DmpClient) -> None:
    body = etree.Element("{urn:dmpclient:test}Unknown")
    with pytest.raises(DmpSoapFault) as caught:
        client.call("patients", body, action="urn:x", td="TD?", assertion=None, idempotent=False)
    assert (caught.value.code, caught.value.subcode) == ("Sender", None)
    assert caught.value.reason == "Requête non prise en charge par le service patients : Unknown"


def test_a_wsa_action_that_does_not_match_the_body_is_refused(client: DmpClient) -> None:
    op = td02()
    td05_action = "urn:hl7-org:v3:PRPA_IN201305UV02"  # a TD0.2 body announced as TD0.5
    with pytest.raises(DmpSoapFault) as caught:
        client.call(op.spec.service, op.body, action=td05_action, td="TD0.2", assertion=None, idempotent=False)
    assert (caught.value.code, caught.value.subcode) == ("Sender", None)
    assert "PRPA_IN201305UV02" in caught.value.reason
    assert "TD0.2 attend urn:hl7-org:v3:PRPA_IN201307UV02" in caught.value.reason


def test_the_action_check_can_be_switched_off() -> None:
    router = default_router()
    body = td02().body
    with pytest.raises(MockFault):
        router.resolve("patients", body, "urn:other")
    router.accept_any_action = True
    assert router.resolve("patients", body, "urn:other").td == "TD0.2"


@pytest.mark.parametrize("with_message_id", [False, True])
def test_missing_addressing_headers_get_the_cxf_fault(
    mtls_http: httpx.Client, mock_config: DmpConfig, with_message_id: bool
) -> None:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    header = f'<wsa:MessageID xmlns:wsa="{NS["wsa"]}">{message_id}</wsa:MessageID>' if with_message_id else ""
    envelope = (
        f'<soap:Envelope xmlns:soap="{NS["soap"]}"><soap:Header>{header}</soap:Header>'
        f"<soap:Body>{etree.tostring(td02().body).decode()}</soap:Body></soap:Envelope>"
    ).encode()
    status, message = _post(mtls_http, mock_config.service_url("patients"), envelope)
    assert status == 500
    assert message.relates_to == (message_id if with_message_id else None)
    code, subcode, reason = _fault(message)
    assert (code, subcode) == ("soap:Sender", None)
    assert reason == "A required header representing a Message Addressing Property is not present"


# --- concurrency ---------------------------------------------------------------------------------


async def _concurrent_td02(config: DmpConfig, count: int) -> list[ExistenceAnswer]:
    async with AsyncDmpClient(config) as dmp:
        calls = (dmp.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID) for _ in range(count))
        return list(await asyncio.gather(*calls))


@pytest.mark.parametrize("workers", [1, 4])
def test_concurrent_calls_are_all_answered_and_traced(mock_runtime: MockRuntime, pki: TestPki, workers: int) -> None:
    app = MockDmp(mock_runtime.store, mock_runtime.app.gate, default_router(), workers=workers)
    before = len(mock_runtime.store.access_trace(limit=1_000_000))
    with serve(dataclasses.replace(mock_runtime, app=app), pki) as server:
        answers = asyncio.run(_concurrent_td02(DmpConfig.for_test_pki(pki, base_url=server.services_url), 16))
    assert [a.treating_physician for a in answers] == [True] * 16
    entries = mock_runtime.store.access_trace(limit=1_000_000)
    assert len(entries) == before + 16
    assert {(e.td, e.outcome) for e in entries[:16]} == {("TD0.2", Outcome.ALLOWED)}


# --- CLI ----------------------------------------------------------------------------------------


def _cli(*args: str) -> str:
    result = CliRunner().invoke(mock_cli, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_seed_trace_reset(tmp_path: Path, pki: TestPki) -> None:
    data = tmp_path / "data"
    output = _cli("seed", "--data", str(data), "--patients", "20", "--documents", "200", "--seed", "7")
    assert "seeded" in output
    assert "patients" in output
    runtime = prepare(data, pki_dir=pki.directory, seed_if_empty=False)
    try:
        with serve(runtime, pki) as server:
            config = DmpConfig.for_test_pki(pki, base_url=server.services_url)
            with DmpClient(config) as client:
                client.test_existence(PATB_QUATRE, identity(), ins_oid=TEST_OID)
                client.administrative_data(PATB_QUATRE, identity(), ins_oid=TEST_OID)
    finally:
        runtime.close()
    shown = _cli("trace", "--data", str(data))
    assert "TD0.2" in shown
    assert "TD1.3a" in shown
    assert "allowed" in shown
    assert "TD0.2" not in _cli("trace", "--data", str(data), "--patient", "153078987658513")
    _cli("reset", "--data", str(data), "--yes")
    with Store.open(database_path(data)) as store:
        assert set(store.counts().values()) == {0}
    assert "TD0.2" not in _cli("trace", "--data", str(data))


def _cli_fails(*args: str, exit_code: int = 2, stdin: str | None = None) -> str:
    result = CliRunner().invoke(mock_cli, list(args), input=stdin, env={"COLUMNS": "200"})
    assert result.exit_code == exit_code, result.output
    return result.output


@pytest.mark.parametrize("command", ["trace", "reset"])
def test_cli_inspecting_a_missing_database_fails_clearly_without_creating_it(tmp_path: Path, command: str) -> None:
    output = _cli_fails(command, "--data", str(tmp_path / "none"), "--yes" if command == "reset" else "--limit=1")
    assert "no mock database at" in output
    assert "dmp mock seed" in output
    assert not (tmp_path / "none").exists()


def test_cli_database_errors_are_one_clear_line(tmp_path: Path) -> None:
    database_path(tmp_path).write_bytes(b"this is not an SQLite database, just some bytes" * 100)
    output = _cli_fails("trace", "--data", str(tmp_path))
    assert output.startswith("database error: file is not a database")
    assert "Traceback" not in output


def test_cli_store_errors_are_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def inconsistent(*_args: object, **_kwargs: object) -> None:
        raise StatusConflictError("document status is Deprecated, expected Approved")

    monkeypatch.setattr(cli_module, "seed_store", inconsistent)
    output = _cli_fails("seed", "--data", str(tmp_path))
    assert output == "error: document status is Deprecated, expected Approved\n"


@pytest.mark.parametrize(("option", "value"), [("--patients", "19"), ("--documents", "199")])
def test_cli_seed_asks_at_least_20_patients_and_200_documents(tmp_path: Path, option: str, value: str) -> None:
    output = _cli_fails("seed", "--data", str(tmp_path), option, value)
    assert "Invalid value" in output
    assert not database_path(tmp_path).exists()


def test_cli_reset_asks_for_confirmation(tmp_path: Path) -> None:
    with Store.open(database_path(tmp_path)) as store:
        seed(store, now=dt.datetime.now(dt.UTC))
        before = store.counts()
    assert "Aborted" in _cli_fails("reset", "--data", str(tmp_path), stdin="n\n", exit_code=1)
    with Store.open(database_path(tmp_path)) as store:
        assert store.counts() == before
    CliRunner().invoke(mock_cli, ["reset", "--data", str(tmp_path)], input="y\n")
    with Store.open(database_path(tmp_path)) as store:
        assert set(store.counts().values()) == {0}


def test_cli_serve_switches_and_banner(tmp_path: Path, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> None:
    prepared: dict[str, object] = {}
    served: list[int] = []

    def fake_prepare(data: Path, **options: object) -> MockRuntime:
        prepared.update(options)
        return prepare(data, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_module, "prepare", fake_prepare)
    limits: list[ServerLimits] = []

    def fake_serve_forever(*_args: object, **options: Any) -> None:
        served.append(options["port"])
        limits.append(options["limits"])

    monkeypatch.setattr(cli_module, "serve_forever", fake_serve_forever)
    data: tuple[str, ...] = ("--data", str(tmp_path), "--pki", str(pki.directory), "--no-seed", "--port", "9444")
    data += ("--webps-port", "0", "--psc-port", "0")  # the side servers are not under test here
    output = _cli("serve", *data, "--no-check-ins-key")
    assert prepared["check_ins_key"] is False
    assert served == [9444]
    assert limits == [ServerLimits()]
    assert f"starting on https://127.0.0.1:9444{SERVICES_PATH}" in output
    assert "listening" not in output
    _cli("serve", *data, "--max-connections", "64", "--max-requests", "16", "--header-timeout", "2.5")
    assert prepared["check_ins_key"] is True
    assert limits[-1] == ServerLimits(max_connections=64, max_requests=16, header_timeout=2.5, keep_alive_timeout=2.5)


@pytest.mark.parametrize(
    ("option", "value"), [("--max-connections", "0"), ("--max-requests", "-1"), ("--header-timeout", "0")]
)
def test_cli_serve_refuses_limits_that_would_serve_nobody(tmp_path: Path, option: str, value: str) -> None:
    output = _cli_fails("serve", "--data", str(tmp_path / "data"), option, value)
    assert option in output
    assert not (tmp_path / "data").exists()  # refused before anything was generated


def test_python_m_mock_server_implies_serve() -> None:
    assert module_args(["--port", "9444"]) == ["serve", "--port", "9444"]
    assert module_args([]) == ["serve"]
    assert module_args(["trace", "--limit", "3"]) == ["trace", "--limit", "3"]
    assert module_args(["--help"]) == ["--help"]
    shown = subprocess.run(
        [sys.executable, "-m", "mock_server", "--port", "9444", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "--no-check-ins-key" in shown.stdout  # the serve command's help


def test_client_config_quotes_paths_safely(tmp_path: Path, pki: TestPki) -> None:
    odd = tmp_path / 'dir "quoted" \\ été'
    shutil.copytree(pki.directory, odd / "pki")
    runtime = prepare(odd / "data", pki_dir=odd / "pki", seed_if_empty=False)
    try:
        written = tomllib.loads(write_client_config(runtime, "https://127.0.0.1:8443/x").read_text(encoding="utf-8"))
    finally:
        runtime.close()
    assert written["ca_bundle"] == str((odd / "pki").resolve() / pki.ca_bundle.name)
    assert written["credentials"]["tls"]["key"] == str((odd / "pki").resolve() / pki.org_auth.key.name)
    assert written["credentials"]["signing"]["cert"] == str((odd / "pki").resolve() / pki.org_sign.cert.name)
    assert written["base_url"] == "https://127.0.0.1:8443/x"


# --- kill -9 and restart ------------------------------------------------------------------------


def _traced_call(client: DmpClient, issuer: VihfIssuer) -> str:
    """One TD0.2 with a known MessageID; returns it once the mock has answered."""
    op = td02()
    message_id = f"urn:uuid:{uuid.uuid4()}"
    patient = PatientId(ins=PATB_QUATRE, oid=TEST_OID)
    assertion = issuer.issue(identity(), patient, now=dt.datetime.now(dt.UTC))
    with client.call(
        op.spec.service,
        op.body,
        action=op.spec.request_action,
        td=op.td,
        assertion=assertion,
        idempotent=True,
        message_id=message_id,
    ):
        return message_id


def test_traced_calls_survive_kill_9_and_restart(tmp_path: Path, pki: TestPki) -> None:
    data = tmp_path / "data"
    with Store.open(database_path(data)) as store:
        seed(store, now=dt.datetime.now(dt.UTC))
    first = ServedMock(data, pki, tmp_path)
    acknowledged: list[str] = []
    try:
        issuer = issuer_from_config(first.config)
        with DmpClient(first.config) as client:
            acknowledged += [_traced_call(client, issuer) for _ in range(5)]
            burst = threading.Thread(target=_burst, args=(first.config, issuer, acknowledged), daemon=True)
            burst.start()
            _until(10, lambda: True if len(acknowledged) >= 8 else None, every=0.02)
            first.process.kill()  # SIGKILL while the burst is in flight
            burst.join(timeout=30)
            assert not burst.is_alive()
    finally:
        first.stop()
    assert first.process.returncode == -9
    with contextlib.closing(sqlite3.connect(database_path(data))) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    second = ServedMock(data, pki, tmp_path)
    try:
        with DmpClient(second.config) as client:
            after = _traced_call(client, issuer_from_config(second.config))
        with Store.open(database_path(data)) as store:
            traced = {e.message_id: e for e in store.access_trace(limit=1_000_000)}
        assert set(acknowledged) <= set(traced)  # every answered call was durably traced before its answer
        assert all(traced[m].outcome is Outcome.ALLOWED and traced[m].td == "TD0.2" for m in acknowledged)
        assert after in traced
    finally:
        second.stop()


def _burst(config: DmpConfig, issuer: VihfIssuer, acknowledged: list[str]) -> None:
    """Call until the server dies (bounded); record each answered MessageID."""
    with DmpClient(config) as client:
        for _ in range(500):
            try:
                acknowledged.append(_traced_call(client, issuer))
            except DmpError:
                return
