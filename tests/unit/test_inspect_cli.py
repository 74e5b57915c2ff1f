"""``dmp inspect``: real captures, hand-written vectors, our own messages of every catalogued transaction
(full envelopes with a signed VIHF, MTOM answers as raw HTTP), odd encodings and garbage; ``dmp vihf show --json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dmpclient import Actor, CallerIdentity, DmpConfig
from dmpclient.cli import app
from dmpclient.inspection import inspect_message
from dmpclient.security.issuer import VihfIssuer
from dmpclient.security.pki import TestPki
from dmpclient.security.vihf import LpsIdentity, PatientId, SoftwareSigner, Structure
from dmpclient.soap import mtom
from dmpclient.soap.envelope import build_request, build_response
from dmpclient.transactions.catalog import SPECS
from dmpclient.xds.retrieve import DocumentLocation, DocumentPart, build_retrieve_response, read_retrieve_request
from tests.conftest import FIXTURES
from tests.golden import GOLDEN_NOW, frozen_context
from tests.golden_cases import CASES

runner = CliRunner()
SAMPLES = FIXTURES / "samples"
VECTORS = Path(__file__).parent.parent / "vectors" / "xds"
DOCTOR = CallerIdentity(Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"))


def _json(path: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_iti18_capture_request_and_response() -> None:
    request = _json(SAMPLES / "ITI-18_request_raw.xml")
    assert (request["kind"], request["transaction"]["td"]) == ("request", "TD3.1")
    assert request["request"]["name"] == "FindDocuments"
    assert request["request"]["return_type"] == "ObjectRef"
    assert request["request"]["query"]["status"] == ["urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"]
    assert request["vihf"]["attributes"]["urn:oasis:names:tc:xspa:1.0:subject:subject-id"] == ["Sarah Stone"]
    assert request["headers"]["message_id"] == "urn:uuid:31D7E4B5-C117-481E-9EE1-F32849E81BF8"
    response = _json(SAMPLES / "ITI-18_response_raw.xml")
    (document,) = response["result"]["documents"]
    assert document["unique_id"] == "2.25.306443472873218838784535217290635593269"
    assert document["class_code"] == {
        "code": "184216000",
        "system": "2.16.840.1.113883.6.96",
        "display": "Patient record type (record artifact)",
    }
    assert document["size"] == 5375


def test_iti43_capture_without_its_part_says_so() -> None:
    response = _json(SAMPLES / "ITI-43_response_raw.xml")
    assert response["transaction"]["td"] == "TD3.2"
    assert response["error"]["type"] == "DmpProtocolError"
    assert "not MTOM" in response["error"]["message"]
    request = _json(SAMPLES / "ITI-43_request_raw.xml")
    assert request["request"][0]["document_unique_id"] == "1.3.6.1.4.1.21367.2017.2.1.75.20200922130227623"


def test_raw_http_with_mtom_and_a_registry_error() -> None:
    data = _json(VECTORS / "retrieve_partial_mtom.http")
    assert data["framing"] == "http"
    assert data["http"]["start_line"] == "HTTP/1.1 200 OK"
    assert data["result"]["status"] == "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
    assert data["result"]["errors"][0]["error_code"] == "XDSDocumentUniqueIdError"
    (document,) = data["result"]["documents"]
    assert document["content"] == {"size": 4, "sha1": "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"}
    assert data["attachments"][0]["size"] == 4


def test_a_registry_failure_is_shown_as_the_typed_error() -> None:
    data = _json(VECTORS / "too_many_results.xml")
    assert data["error"]["type"] == "DmpTooManyResultsError"
    assert data["error"]["errors"][0]["error_code"] == "XDSTooManyResults"


def test_the_readable_view_masks_ins(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inspect", str(VECTORS / "find_documents_dmp_style.xml")])
    assert result.exit_code == 0, result.output
    assert "TD3.1" in result.output
    assert "Lettre de liaison à la sortie" in result.output
    assert "207058575627097" not in result.output
    assert "***********7097" in result.output


@pytest.fixture(scope="module")
def issuer(pki: TestPki) -> VihfIssuer:
    config = DmpConfig.for_test_pki(pki)
    return VihfIssuer(
        SoftwareSigner.from_credential(config.load_signing_credential()),
        structure=Structure.of(config.structure.id, "SA01"),
        lps=LpsIdentity(nom="DMPCLIENT", version="1", homologation="TEST"),
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_our_own_messages_of_every_catalogued_transaction(name: str, issuer: VihfIssuer, tmp_path: Path) -> None:
    case = CASES[name]
    op = case.request(frozen_context())
    patient = PatientId(ins=op.patient.ins, oid=op.patient.oid) if op.patient else None
    assertion = issuer.issue(DOCTOR, patient, now=GOLDEN_NOW)
    request = build_request(op.body, action=op.spec.request_action, message_id="urn:uuid:1", assertion=assertion)
    seen = inspect_message(request)
    assert (seen.kind, seen.transaction and seen.transaction["td"]) == ("request", case.spec.td)
    assert seen.vihf is not None
    assert seen.vihf["name_id"] == "899900063480"
    assert seen.request is not None
    answer = build_response(case.response(op), action=op.spec.response_action, relates_to="urn:uuid:1", message_id=None)
    seen = inspect_message(answer)
    assert (seen.kind, seen.error) == ("response", None)
    assert case.spec.td in seen.candidates
    assert seen.result is not None


def test_an_mtom_answer_as_raw_http() -> None:
    op = CASES["TD3.2"].request(frozen_context())
    request = read_retrieve_request(op.body)[0]
    part = DocumentPart(request, "application/pdf", DocumentLocation(href=mtom.xop_href("doc-1@test")))
    envelope = build_response(
        build_retrieve_response([part]), action=op.spec.response_action, relates_to=None, message_id=None
    )
    framed = mtom.encode(envelope, [mtom.OutgoingPart("doc-1@test", b"%PDF-1.7")], action="x")
    capture = f"HTTP/1.1 200 OK\r\nContent-Type: {framed.content_type}\r\n\r\n".encode() + framed.to_bytes()
    seen = inspect_message(capture)
    assert seen.framing == "http"
    assert seen.result["documents"][0]["content"]["size"] == 8
    assert seen.result["documents"][0]["mime_type"] == "application/pdf"


def test_every_transaction_of_the_catalogue_has_a_case_here() -> None:
    assert {spec.td for spec in SPECS} <= {case.spec.td for case in CASES.values()}


def test_latin1_without_declaration_is_read_with_a_warning(tmp_path: Path) -> None:
    text = (VECTORS / "find_documents_dmp_style.xml").read_text(encoding="utf-8")
    body = text.split("?>", 1)[1]  # drop the declaration (it says UTF-8)
    latin = tmp_path / "latin1.xml"
    latin.write_bytes(body.encode("latin-1"))
    data = _json(latin)
    assert any("Latin-1" in warning for warning in data["warnings"])
    assert data["result"]["documents"][0]["title"] == "Lettre de liaison à la sortie"
    declared = tmp_path / "declared.xml"
    declared.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?>' + body.encode("latin-1"))
    result = runner.invoke(app, ["inspect", str(declared)])
    assert result.exit_code == 2
    assert "do not match the encoding the document declares" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"1 <S:Envelope>\n2 </S:Envelope>", "line numbers"),
        (b"\x00\x01binary garbage", "not a DMP message"),
        (b'<!DOCTYPE x [<!ENTITY e "e">]><x/>', "DTD"),
        (b"<AuditMessage/>", "not a DMP message|recognises"),
    ],
)
def test_what_cannot_be_read_gets_a_clear_message(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "capture"
    path.write_bytes(content)
    result = runner.invoke(app, ["inspect", str(path)])
    output = " ".join(result.output.split())  # rich wraps long lines
    if result.exit_code == 0:
        assert "no transaction of the catalogue recognises" in output
    else:
        assert result.exit_code == 2
        assert any(part in output for part in message.split("|")), output
    assert "Traceback" not in output


def test_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inspect", str(tmp_path / "nope.xml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_vihf_show_json_masks_the_patient(issuer: VihfIssuer, tmp_path: Path) -> None:
    path = tmp_path / "vihf.xml"
    path.write_bytes(issuer.issue(DOCTOR, PatientId(ins="207058575627097", oid="1.2.250.1.213.1.4.10"), now=GOLDEN_NOW))
    result = runner.invoke(app, ["vihf", "show", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["name_id"] == "899900063480"
    assert data["attributes"]["Authentification_mode"] == ["INDIRECTE_RENFORCEE"]
    assert data["attributes"]["urn:oasis:names:tc:xacml:2.0:resource:resource-id"][0].startswith("***********7097")
    assert "207058575627097" not in result.output
    assert data["signature"]["signature_algorithm"].endswith("rsa-sha256")


@pytest.mark.parametrize(
    ("action", "td"),
    [
        ("urn:ihe:iti:2010:UpdateDocumentSet-Response", "TD3.3"),
        ("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse", "TD2.1"),
    ],
)
def test_a_registry_response_is_told_apart_by_its_action(action: str, td: str) -> None:
    """TD2.1 and TD3.3 both answer a bare rs:RegistryResponse: only the action (reference §3.0) says which."""
    answer = (
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header>'
        f"<wsa:Action>{action}</wsa:Action><wsa:RelatesTo>urn:uuid:1</wsa:RelatesTo></soap:Header><soap:Body>"
        '<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" '
        'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/></soap:Body></soap:Envelope>'
    )
    seen = inspect_message(answer.encode())
    assert (seen.kind, seen.candidates, seen.error) == ("response", (td,), None)
    assert seen.transaction is not None
    assert seen.transaction["td"] == td
