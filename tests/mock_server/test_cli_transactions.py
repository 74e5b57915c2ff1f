"""The ``dmp`` transaction commands against the mock (the configuration the mock writes, --json and tables)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dmpclient.cli import app
from mock_server.runtime import write_client_config
from tests.mock_server.conftest import PATB_QUATRE, FreshMock

runner = CliRunner()
DOCTOR_OPTIONS = ["--ps-id", "899900063480", "--name", "LIBRE MAX", "--specialty", "SM26"]
NOT_ATTACHED = "287080883795737"


@pytest.fixture
def config_file(fresh_mock: FreshMock) -> Path:
    return write_client_config(fresh_mock.runtime, fresh_mock.server.services_url, webps_url="https://webps.example")


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


def test_exist_json_and_table(config_file: Path) -> None:
    code, output = _run(config_file, "exist", PATB_QUATRE, "--ins-oid", "test", "--json", *DOCTOR_OPTIONS)
    assert code == 0, output
    answer = json.loads(output)
    assert (answer["status"], answer["authorization"], answer["treating_physician"]) == ("active", "VALIDE", True)
    code, output = _run(config_file, "exist", PATB_QUATRE, "--ins-oid", "test", *DOCTOR_OPTIONS)
    assert code == 0
    assert "VALIDE" in output


def test_authorize_then_authorizations(config_file: Path) -> None:
    newcomer = ["--ps-id", "899900011118", "--name", "NOUVEAU Paul", "--specialty", "SM26"]
    code, output = _run(config_file, "authorize", "153078987658513", "--ins-oid", "test", "--json", *newcomer)
    assert (code, json.loads(output)["context"]) == (0, "Autorisation ajoutée")
    code, output = _run(
        config_file, "authorizations", "153078987658513", "--ins-oid", "test", "--mode", "active", "--json", *newcomer
    )
    assert code == 0, output
    assert "899900011118" in {party["national_id"] for party in json.loads(output)["parties"]}
    code, output = _run(config_file, "authorize", "153078987658513", "--ins-oid", "test", "--remove", *newcomer)
    assert code == 0
    assert "Autorisation supprimée" in output


def test_patients_since(config_file: Path) -> None:
    code, output = _run(config_file, "patients", "--since", "2000-01-01", "--json", *DOCTOR_OPTIONS)
    assert code == 0, output
    assert PATB_QUATRE in {patient["ins"] for patient in json.loads(output)["patients"]}
    code, output = _run(config_file, "patients", "--since", "2000-01-01", "--by", "lastdoc", *DOCTOR_OPTIONS)
    assert (code, "PATB-QUATRE" in output) == (0, True)
    code, output = _run(config_file, "patients", "--since", "31/01/2025", *DOCTOR_OPTIONS)
    assert code == 2
    assert "--since" in output


def test_admin_read_and_set(config_file: Path) -> None:
    code, output = _run(config_file, "admin", NOT_ATTACHED, "--ins-oid", "test", "--json", *DOCTOR_OPTIONS)
    assert code == 0, output
    before = json.loads(output)
    code, output = _run(
        config_file,
        "admin",
        NOT_ATTACHED,
        "--ins-oid",
        "test",
        "--set",
        "mobile=+33611112222",
        "--set",
        "opposition-acces-urgence=true",
        "--json",
        *DOCTOR_OPTIONS,
    )
    assert code == 0, output
    after = json.loads(output)
    assert {"kind": "mobile", "value": "+33611112222", "use": "MC"} in after["telecoms"]
    assert [t for t in after["telecoms"] if t["kind"] == "mobile"] == [
        {"kind": "mobile", "value": "+33611112222", "use": "MC"}
    ]
    assert after["opposition_acces_urgence"] is True
    assert after["family"] == before["family"]


def test_admin_refusals_exit_1_and_mask_the_ins(config_file: Path) -> None:
    code, output = _run(
        config_file, "admin", PATB_QUATRE, "--ins-oid", "test", "--set", "mail=x@exemple.fr", *DOCTOR_OPTIONS
    )
    assert code == 1
    assert "Mon espace santé" in output
    assert PATB_QUATRE not in output
    code, output = _run(config_file, "admin", PATB_QUATRE, "--ins-oid", "test", "--set", "colour=blue", *DOCTOR_OPTIONS)
    assert code == 2
    assert "KEY=VALUE" in output


def test_a_refusal_of_the_rights_precheck(config_file: Path) -> None:
    code, output = _run(
        config_file, "authorize", PATB_QUATRE, "--ins-oid", "test", "--purpose", "bris_de_glace", *DOCTOR_OPTIONS
    )
    assert code == 2  # refused locally: nothing was sent
    assert "606" in output


def test_webps_url(config_file: Path) -> None:
    code, output = _run(config_file, "webps-url", "Documents", PATB_QUATRE)
    assert (code, output.strip()) == (0, f"https://webps.example/AccesDirect/Documents/{PATB_QUATRE}")
    code, output = _run(config_file, "webps-url", "TableauDeBord", "--json")
    assert json.loads(output) == {"page": "TableauDeBord", "url": "https://webps.example/AccesDirect/TableauDeBord"}
    code, output = _run(config_file, "webps-url", "DossierPatient")
    assert code == 2
