"""``dmp vihf build | show | verify`` through the real command line app."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from dmpclient.cli import app
from dmpclient.security.pki import TestPki
from tests.unit.vihf_factory import INS, NS

runner = CliRunner()
PEM = ["--ins", INS, "--ins-oid", "1.2.250.1.213.1.4.10", "--ps-id", "899900063480", "--name", "LIBRE MAX"]


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env=env)
    return result.exit_code, result.output


def org_key(pki: TestPki) -> list[str | Path]:
    return ["--cert", pki.org_sign.cert, "--key", pki.org_sign.key]


@pytest.mark.parametrize(
    ("mode", "extra", "wire_mode"),
    [
        ("air", ["--specialty", "SM26", "--secteur", "SA01"], "INDIRECTE_RENFORCEE"),
        ("indirecte", ["--device", "AUTOMATE", "--secteur", "SA01"], "INDIRECTE"),
    ],
)
def test_build_show_verify(pki: TestPki, tmp_path: Path, mode: str, extra: list[str], wire_mode: str) -> None:
    out = tmp_path / "vihf.xml"
    code, output = invoke("vihf", "build", "--mode", mode, *org_key(pki), *PEM, *extra, "--out", out)
    assert code == 0, output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # a replayable assertion while valid: owner only
    root = etree.fromstring(out.read_bytes())
    assert root.xpath(
        "//saml2:Attribute[@Name='Authentification_mode']/saml2:AttributeValue/text()", namespaces=NS
    ) == [wire_mode]
    assert root.xpath(
        "//saml2:Attribute[@Name='Identifiant_Structure']/saml2:AttributeValue/text()", namespaces=NS
    ) == [
        "10B0127189"  # the certificate OU
    ]
    code, output = invoke("vihf", "show", out)
    assert code == 0, output
    assert wire_mode in output
    assert "***********7097" in output
    assert INS not in output
    signature_value = root.findtext("ds:Signature/ds:SignatureValue", namespaces=NS)
    assert signature_value[:16] not in output
    assert "rsa-sha256" in output
    code, output = invoke("vihf", "verify", out, "--ca", pki.ca_bundle, "--mode", mode)
    assert code == 0, output
    assert output.startswith("valid")


def test_build_directe_with_a_card_certificate(pki: TestPki, tmp_path: Path) -> None:
    out = tmp_path / "directe.xml"
    card = ["--cert", pki.ps_sign.cert, "--key", pki.ps_sign.key, "--structure-id", "499900063480001"]
    code, output = invoke(
        "vihf", "build", "--mode", "directe", *card, *PEM, "--specialty", "SM26", "--secteur", "SA07", "--out", out
    )
    assert code == 0, output
    assert invoke("vihf", "verify", out, "--ca", pki.ca_bundle, "--mode", "directe")[0] == 0


def test_build_from_a_psc_userinfo_document(pki: TestPki, tmp_path: Path) -> None:
    userinfo = tmp_path / "userinfo.json"
    userinfo.write_text(
        json.dumps(
            {
                "SubjectNameID": "899700366240",
                "given_name": "KIT",
                "family_name": "DOC0036624",
                "Secteur_Activite": "SA07^1.2.250.1.71.4.2.4",
                "SubjectRefPro": {
                    "exercices": [
                        {"codeProfession": "10", "codeCategorieProfessionnelle": "C", "codeSavoirFaire": "SM26"}
                    ]
                },
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "psc.xml"
    code, output = invoke(
        "vihf",
        "build",
        "--mode",
        "psc",
        *org_key(pki),
        "--userinfo",
        userinfo,
        "--work-situation",
        "10C",
        "--structure-id",
        "10B0127189",
        "--ins",
        INS,
        "--ins-oid",
        "1.2.250.1.213.1.4.10",
        "--out",
        out,
    )
    assert code == 0, output
    code, output = invoke("vihf", "verify", out, "--ca", pki.ca_bundle, "--mode", "air")
    assert code == 0, output
    assert "899700366240" in invoke("vihf", "show", out)[1]


def test_build_from_pkcs12_with_the_password_in_an_environment_variable(pki: TestPki, tmp_path: Path) -> None:
    out = tmp_path / "p12.xml"
    args = ["vihf", "build", "--mode", "air", "--p12", pki.org_sign.p12, "--p12-password-env", "VIHF_TEST_P12"]
    args += [*PEM, "--specialty", "SM26", "--secteur", "SA01", "--out", out]
    code, output = invoke(*args, env={"VIHF_TEST_P12": pki.p12_password})
    assert code == 0, output
    assert pki.p12_password not in output
    code, output = invoke(*args, env={})
    assert code == 2
    assert "--p12-password-env" in output


def test_verify_reports_the_failed_rule(pki: TestPki, rogue_pki: TestPki, tmp_path: Path) -> None:
    out = tmp_path / "rogue.xml"
    rogue = ["--cert", rogue_pki.org_sign.cert, "--key", rogue_pki.org_sign.key]
    assert (
        invoke(
            "vihf", "build", "--mode", "air", *rogue, *PEM, "--specialty", "SM26", "--secteur", "SA01", "--out", out
        )[0]
        == 0
    )
    code, output = invoke("vihf", "verify", out, "--ca", pki.ca_bundle)
    assert code == 1
    assert "certificate_untrusted" in output
    assert "DMPInvalidCertificate" in output


def test_verify_at_a_given_time(pki: TestPki, tmp_path: Path) -> None:
    out = tmp_path / "air.xml"
    build = ["vihf", "build", "--mode", "air", *org_key(pki), *PEM, "--specialty", "SM26", "--secteur", "SA01"]
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert invoke(*build, "--now", issued.isoformat(), "--out", out)[0] == 0
    later = (issued + dt.timedelta(seconds=45)).isoformat()
    code, output = invoke("vihf", "verify", out, "--ca", pki.ca_bundle, "--now", later)
    assert code == 1
    assert "air_token_expired" in output


def test_build_errors_say_what_to_fix(pki: TestPki, tmp_path: Path) -> None:
    code, output = invoke(
        "vihf", "build", "--mode", "air", *org_key(pki), *PEM, "--secteur", "SA01", "--out", tmp_path / "x"
    )
    assert code == 2
    assert "Spécialité obligatoire" in output
    code, output = invoke("vihf", "build", "--mode", "air", *PEM, "--out", tmp_path / "x")
    assert code == 2
    assert "--cert" in output
