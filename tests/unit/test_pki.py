"""The generated IGC-Santé-like test PKI: shapes, extensions, chains, files, CLI."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from dmpclient.cli import app
from dmpclient.errors import DmpConfigError
from dmpclient.security.credentials import load_certificates, load_pem, load_pkcs12
from dmpclient.security.pki import ORG_TEST_POLICY_OID, CertificateFiles, TestPki, init_test_pki, load_test_pki


def _cert(files: CertificateFiles) -> x509.Certificate:
    return load_certificates(files.cert)[0]


def _eku(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_org_certificates_share_the_structure_dn(pki: TestPki) -> None:
    auth, sign = _cert(pki.org_auth), _cert(pki.org_sign)
    assert auth.subject == sign.subject
    assert auth.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == pki.structure_id
    assert auth.subject.rfc4514_string().startswith("CN=")
    assert auth.subject.rfc4514_string().endswith(",C=FR")
    assert _eku(auth) == {ExtendedKeyUsageOID.CLIENT_AUTH}
    sign_usage = sign.extensions.get_extension_for_class(x509.KeyUsage).value
    assert sign_usage.digital_signature
    assert sign_usage.content_commitment
    policies = auth.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert policies[0].policy_identifier.dotted_string == ORG_TEST_POLICY_OID


def test_ca_names_follow_igc_sante(pki: TestPki) -> None:
    root, org_ca = load_certificates(pki.root_ca)[0], load_certificates(pki.org_ca)[0]
    assert root.subject.rfc4514_string() == (
        "CN=TEST AC RACINE IGC-SANTE ELEMENTAIRE,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR"
    )
    assert org_ca.subject.rfc4514_string().startswith("CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS,")
    assert org_ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_server_certificate_names_loopback(pki: TestPki) -> None:
    server = _cert(pki.server)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert _eku(server) == {ExtendedKeyUsageOID.SERVER_AUTH}


@pytest.mark.parametrize("which", ["org_auth", "org_sign", "server", "ps_sign", "ps_auth"])
def test_every_end_entity_chains_to_the_root_under_a_strict_verifier(pki: TestPki, which: str) -> None:
    files: CertificateFiles = getattr(pki, which)
    leaf, *chain = load_certificates(files.cert)
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store(load_certificates(pki.root_ca)))
        .time(dt.datetime.now(dt.UTC))
        .extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=verification.ExtensionPolicy.permit_all(),
        )
        .build_client_verifier()
    )
    verified = verifier.verify(leaf, chain)
    assert verified.chain[-1].subject == load_certificates(pki.root_ca)[0].subject


def test_keys_and_pkcs12_files(pki: TestPki) -> None:
    assert pki.ps_auth is not None
    for files in (pki.org_auth, pki.org_sign, pki.server, pki.ps_sign, pki.ps_auth):
        assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
        pem = load_pem(files.cert, files.key)
        p12 = load_pkcs12(files.p12, pki.p12_password.encode())
        assert p12.certificate == pem.certificate
        assert pem.key_matches()
    with pytest.raises(DmpConfigError, match="wrong password"):
        load_pkcs12(pki.org_auth.p12, b"not the password")


def test_manifest_round_trip_and_no_overwrite(pki: TestPki) -> None:
    assert load_test_pki(pki.directory) == pki
    manifest = json.loads((pki.directory / "manifest.json").read_text())
    assert "password" not in json.dumps({k: v for k, v in manifest.items() if k != "p12_password_file"})
    with pytest.raises(DmpConfigError, match="already holds a test PKI"):
        init_test_pki(pki.directory)


_KEY_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "key_cert_sign", "crl_sign")


def _usages(files: CertificateFiles) -> tuple[set[str], set[x509.ObjectIdentifier]]:
    cert = _cert(files)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    try:
        eku = _eku(cert)
    except x509.ExtensionNotFound:
        eku = set()
    return {name for name in _KEY_USAGES if getattr(usage, name)}, eku


def test_each_certificate_has_the_usages_of_its_igc_sante_counterpart(pki: TestPki) -> None:
    """Reference §1.4/§12.6: AUTH_CLI digitalSignature + clientAuth (the official AIR example's signer), SIGN
    digitalSignature + nonRepudiation + emailProtection (the INDIRECTE example), card signature digitalSignature
    + nonRepudiation without EKU (the DIRECTE example); only the TLS client certificates carry clientAuth."""
    assert pki.ps_auth is not None
    client, email, server = (
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ExtendedKeyUsageOID.SERVER_AUTH,
    )
    assert _usages(pki.org_auth) == ({"digital_signature"}, {client})
    assert _usages(pki.org_sign) == ({"digital_signature", "content_commitment"}, {email})
    assert _usages(pki.ps_auth) == ({"digital_signature"}, {client})
    assert _usages(pki.ps_sign) == ({"digital_signature", "content_commitment"}, set())
    assert _usages(pki.server) == ({"digital_signature", "key_encipherment"}, {server})
    assert _cert(pki.ps_auth).subject == _cert(pki.ps_sign).subject  # the two certificates of one card


def test_a_pki_written_before_the_card_authentication_certificate_still_loads(pki: TestPki, tmp_path: Path) -> None:
    manifest = json.loads((pki.directory / "manifest.json").read_text())
    del manifest["ps_auth"]
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps(manifest))
    loaded = load_test_pki(old)
    assert loaded.ps_auth is None
    assert loaded.org_auth.subject == pki.org_auth.subject


def test_rogue_hierarchy_is_distinct(pki: TestPki, rogue_pki: TestPki) -> None:
    assert _cert(rogue_pki.org_auth).subject == _cert(pki.org_auth).subject  # same shape …
    assert _cert(rogue_pki.org_auth).issuer != _cert(pki.org_auth).issuer  # … other CA


def test_cli_pki_init(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["pki", "init", "--out", str(tmp_path / "p"), "--structure-id", "10B0167011"])
    assert result.exit_code == 0, result.output
    assert load_test_pki(tmp_path / "p").structure_id == "10B0167011"
    again = CliRunner().invoke(app, ["pki", "init", "--out", str(tmp_path / "p")])
    assert again.exit_code == 2
    assert "--force" in again.output
    assert "PRIVATE KEY" not in result.output + again.output


def test_regenerating_over_readable_keys_makes_them_owner_only(tmp_path: Path) -> None:
    first = init_test_pki(tmp_path / "p")
    first.org_sign.key.chmod(0o644)
    first.p12_password_file.chmod(0o644)
    again = init_test_pki(tmp_path / "p", overwrite=True)
    assert stat.S_IMODE(again.org_sign.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(again.p12_password_file.stat().st_mode) == 0o600
