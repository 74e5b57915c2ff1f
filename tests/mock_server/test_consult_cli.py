"""``dmp find``, ``dmp get``, ``dmp versions`` against the mock over mutual TLS, tables and ``--json``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dmpclient.cli import app
from dmpclient.xds.codes import AvailabilityStatus
from mock_server.runtime import MockRuntime, write_client_config
from mock_server.server import RunningServer
from tests.mock_server.conftest import PATB_QUATRE, TEST_OID

runner = CliRunner()
AS_DOCTOR = ["--ps-id", "899900063480", "--name", "LIBRE MAX", "--specialty", "SM26", "--ins-oid", TEST_OID]


@pytest.fixture(scope="module")
def config_file(mock_runtime: MockRuntime, mock_dmp: RunningServer) -> Path:
    return write_client_config(mock_runtime, mock_dmp.services_url)


def _run(*args: str | Path) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_find_json_and_table(config_file: Path, mock_runtime: MockRuntime) -> None:
    rows = mock_runtime.store.find_documents(PATB_QUATRE)
    data = json.loads(_run("find", PATB_QUATRE, *AS_DOCTOR, "--config", config_file, "--json"))
    assert {d["entry_uuid"] for d in data["documents"]} == {r.entry_uuid for r in rows}
    class_code = rows[0].metadata.class_code.code
    filtered = json.loads(
        _run("find", PATB_QUATRE, *AS_DOCTOR, "-c", config_file, "--class-code", class_code, "--json")
    )
    assert {d["class_code"]["code"] for d in filtered["documents"]} == {class_code}
    table = _run("find", PATB_QUATRE, *AS_DOCTOR, "-c", config_file, "--status", "deprecated")
    assert "***********7097" in table
    assert PATB_QUATRE not in table
    refs = json.loads(_run("find", PATB_QUATRE, *AS_DOCTOR, "-c", config_file, "--references", "--json"))
    assert len(refs["references"]) == len(rows)


def test_get_checks_and_streams_to_the_file(config_file: Path, mock_runtime: MockRuntime, tmp_path: Path) -> None:
    row = mock_runtime.store.find_documents(PATB_QUATRE)[0]
    out = tmp_path / "document.xml"
    data = json.loads(
        _run("get", row.unique_id, "--ins", PATB_QUATRE, "--out", out, *AS_DOCTOR, "-c", config_file, "--json")
    )
    assert out.read_bytes() == mock_runtime.store.get_content(row.unique_id)
    assert data["hash"] == hashlib.sha1(out.read_bytes()).hexdigest() == row.hash
    assert data["content"] is None
    printed = _run("get", row.unique_id, "--ins", PATB_QUATRE, "--out", tmp_path / "b", *AS_DOCTOR, "-c", config_file)
    assert "checked" in printed


def test_get_of_an_unknown_document_fails_clearly(config_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "get",
            "1.2.250.1.999.404",
            "--ins",
            PATB_QUATRE,
            "--out",
            str(tmp_path / "x"),
            *AS_DOCTOR,
            "-c",
            str(config_file),
        ],
    )
    assert result.exit_code == 2
    assert "no document" in result.output
    assert not (tmp_path / "x").exists()


def test_versions_reports_replaced_documents(config_file: Path, mock_runtime: MockRuntime, tmp_path: Path) -> None:
    approved = mock_runtime.store.find_documents(PATB_QUATRE)
    deprecated = mock_runtime.store.find_documents(PATB_QUATRE, statuses=(AvailabilityStatus.DEPRECATED,))
    old = next(r for r in deprecated if r.unique_id not in {a.unique_id for a in approved})  # replaced, not re-tagged
    current = approved[0]
    known = tmp_path / "known.json"
    known.write_text(json.dumps([{"unique_id": old.unique_id, "entry_uuid": old.entry_uuid}, current.unique_id]))
    data = json.loads(_run("versions", PATB_QUATRE, "--known", known, *AS_DOCTOR, "-c", config_file, "--json"))
    assert data["round_trips"] == 2
    assert [c["state"] for c in data["checks"]] == ["replaced", "current"]
    table = _run("versions", PATB_QUATRE, "--known", known, *AS_DOCTOR, "-c", config_file)
    assert "round trip" in table


def test_a_bad_known_file_is_explained(config_file: Path, tmp_path: Path) -> None:
    known = tmp_path / "known.json"
    known.write_text("{not json")
    result = runner.invoke(app, ["versions", PATB_QUATRE, "--known", str(known), *AS_DOCTOR, "-c", str(config_file)])
    assert result.exit_code == 2
    assert "--known" in result.output
