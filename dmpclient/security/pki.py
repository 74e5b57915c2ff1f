"""Generator of an IGC-Santé-like *test* PKI (never for production).

It reproduces the shapes of the ANS test hierarchy (see the reference, §12.6): a root CA, an
"ORGANISATIONS" CA issuing, for one healthcare structure, an ORG AUTH_CLI certificate (TLS client)
and an ORG SIGN certificate (VIHF/XAdES signature) with the same subject DN (``OU`` = the
structure's national id), a "PERSONNES" CA issuing the two certificates of a health professional's
card (authentication for TLS, signature for DIRECTE VIHFs, same DN), and a server certificate for the
mock DMP (SAN localhost, 127.0.0.1).

Certificates carry complete, realistic extensions (KU, EKU, BasicConstraints, SKI/AKI, policy) so
that strict verifiers accept them as they accept real IGC-Santé certificates, with the usages of their
real counterparts (§1.4): ORG AUTH_CLI digitalSignature + clientAuth, ORG SIGN digitalSignature +
nonRepudiation + emailProtection, card authentication digitalSignature + clientAuth, card signature
digitalSignature + nonRepudiation (no EKU), server digitalSignature + keyEncipherment + serverAuth. Only the
certificates meant for TLS clients carry clientAuth: the mock refuses the others as TLS client certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dmpclient.errors import DmpConfigError
from dmpclient.files import write_private
from dmpclient.security.vihf_dn import certificate_dn

__all__ = ["MANIFEST_NAME", "ORG_TEST_POLICY_OID", "CertificateFiles", "TestPki", "init_test_pki", "load_test_pki"]

#: Certificate policy OID of the ANS ORG test certificates seen in official VIHF examples.
ORG_TEST_POLICY_OID: Final = "1.2.250.1.213.1.7.2.1.1.1.1"
#: Certificate policy OID of CPS test cards.
CPS_TEST_POLICY_OID: Final = "1.2.250.1.71.3.7.9.1.1.2.1"
MANIFEST_NAME: Final = "manifest.json"
PASSWORD_FILE: Final = "p12-password.txt"  # noqa: S105 - a file name, not a password

_CA_OUS: Final = ("IGC-SANTE TEST", "0002 187512751")


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    """Where one end-entity certificate and its key were written."""

    cert: Path
    key: Path
    p12: Path
    subject: str


@dataclass(frozen=True, slots=True)
class TestPki:
    """The files of a generated test PKI (what :func:`init_test_pki` wrote)."""

    __test__ = False  # not a pytest test class despite its name

    directory: Path
    root_ca: Path
    org_ca: Path
    personnes_ca: Path
    ca_bundle: Path
    org_auth: CertificateFiles
    org_sign: CertificateFiles
    server: CertificateFiles
    ps_sign: CertificateFiles
    p12_password_file: Path
    structure_id: str
    ps_id: str
    ps_auth: CertificateFiles | None = None  # None only for a PKI written before the card had one

    @property
    def p12_password(self) -> str:
        """The password protecting every PKCS#12 file of this test PKI."""
        return self.p12_password_file.read_text(encoding="utf-8").strip()


@dataclass(frozen=True, slots=True)
class _Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey


def _name(*, cn: str, ous: Sequence[str] = (), o: str | None = None, st: str | None = None) -> x509.Name:
    """An X.509 name in IGC-Santé order; rfc4514_string() prints it CN first."""
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]
    if st:
        attrs.append(x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, st))
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    attrs.extend(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou) for ou in reversed(ous))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _ps_name(ps_id: str, last: str, first: str, profession: str) -> x509.Name:
    """A PS certificate name: ``CN=idNat+SN=…+GN=…,title=…,C=FR`` (multi-valued first RDN)."""
    return x509.Name(
        [
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.TITLE, profession)]),
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, ps_id),
                    x509.NameAttribute(NameOID.SURNAME, last),
                    x509.NameAttribute(NameOID.GIVEN_NAME, first),
                ]
            ),
        ]
    )


def _new_key(key_size: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def _key_usage(**flags: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


def _issue(
    *,
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: _Issued | None,
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca_path_length: int | bool | None,
    key_usage: x509.KeyUsage,
    eku: Sequence[x509.ObjectIdentifier] = (),
    san: Sequence[x509.GeneralName] = (),
    policy: str | None = None,
) -> _Issued:
    """Sign one certificate. ``ca_path_length=False`` means an end-entity certificate."""
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(key_usage, critical=True)
    )
    is_ca = ca_path_length is not False
    path_length = None if ca_path_length is True or not is_ca else ca_path_length
    builder = builder.add_extension(
        x509.BasicConstraints(ca=is_ca, path_length=path_length if is_ca else None), critical=True
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    if policy:
        builder = builder.add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(policy), None)]),
            critical=False,
        )
    return _Issued(builder.sign(signer_key, hashes.SHA256()), key)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_end_entity(
    directory: Path, stem: str, issued: _Issued, chain: Sequence[x509.Certificate], password: bytes
) -> CertificateFiles:
    cert_path, key_path, p12_path = (directory / f"{stem}{ext}" for ext in (".pem", ".key.pem", ".p12"))
    cert_path.write_bytes(_pem(issued.cert) + b"".join(_pem(c) for c in chain))
    write_private(
        key_path,
        issued.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write_private(
        p12_path,
        pkcs12.serialize_key_and_certificates(
            stem.encode(),
            issued.key,
            issued.cert,
            list(chain),
            serialization.BestAvailableEncryption(password),
        ),
    )
    return CertificateFiles(cert_path, key_path, p12_path, certificate_dn(issued.cert))


def init_test_pki(
    out: Path | str,
    *,
    structure_id: str = "10B0127189",
    structure_name: str = "CENTRE HOSPITALIER DE TEST DMPCLIENT",
    region: str = "Auvergne-Rhône-Alpes (69)",
    ps_id: str = "899900063480",
    ps_names: tuple[str, str] = ("LIBRE", "MAX"),
    server_names: Sequence[str] = ("localhost",),
    server_ips: Sequence[str] = ("127.0.0.1", "::1"),
    ca_prefix: str = "TEST",
    now: dt.datetime | None = None,
    end_entity_days: int = 3 * 365,
    end_entity_not_before: dt.datetime | None = None,
    key_size: int = 2048,
    overwrite: bool = False,
) -> TestPki:
    """Generate a complete IGC-Santé-like test hierarchy into ``out``.

    Args:
        out: target directory (created). Refuses to overwrite an existing PKI unless ``overwrite``.
        structure_id: Struct_IdNat of the test structure (goes into the certificates' ``OU``).
        ca_prefix: prefix of the CA names; use another one to build an *untrusted* hierarchy.
        now: reference time (tests pass a fixed or past time to build expired certificates).
        end_entity_days: validity of end-entity certificates.
        end_entity_not_before: start of end-entity validity (defaults to ``now`` − 1 day).

    Returns:
        The paths written, also recorded in ``manifest.json``.
    """
    directory = Path(out)
    if (directory / MANIFEST_NAME).exists() and not overwrite:
        raise DmpConfigError(
            f"{directory} already holds a test PKI; pass overwrite=True (CLI: --force) to replace it",
            field="pki.out",
        )
    directory.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    ca_start, ca_end = now - dt.timedelta(days=1), now + dt.timedelta(days=10 * 365)
    ee_start = end_entity_not_before or (now - dt.timedelta(days=1))
    ee_end = ee_start + dt.timedelta(days=end_entity_days)
    password = secrets.token_urlsafe(18)
    password_file = directory / PASSWORD_FILE
    write_private(password_file, password.encode() + b"\n")

    root = _issue(
        subject=_name(cn=f"{ca_prefix} AC RACINE IGC-SANTE ELEMENTAIRE", ous=_CA_OUS, o="ASIP-SANTE"),
        key=_new_key(key_size),
        issuer=None,
        not_before=ca_start,
        not_after=ca_end,
        ca_path_length=True,
        key_usage=_key_usage(key_cert_sign=True, crl_sign=True),
    )
    cas = {
        label: _issue(
            subject=_name(cn=f"{ca_prefix} AC IGC-SANTE ELEMENTAIRE {label}", ous=_CA_OUS, o="ASIP-SANTE"),
            key=_new_key(key_size),
            issuer=root,
            not_before=ca_start,
            not_after=ca_end,
            ca_path_length=0,
            key_usage=_key_usage(key_cert_sign=True, crl_sign=True),
        )
        for label in ("ORGANISATIONS", "PERSONNES")
    }
    org_ca, pers_ca = cas["ORGANISATIONS"], cas["PERSONNES"]
    org_subject = _name(cn=structure_name, ous=(structure_id,), o=structure_name, st=region)

    def end_entity(
        subject: x509.Name,
        issuer: _Issued,
        key_usage: x509.KeyUsage,
        eku: Sequence[x509.ObjectIdentifier] = (),
        san: Sequence[x509.GeneralName] = (),
        policy: str | None = None,
    ) -> _Issued:
        return _issue(
            subject=subject,
            key=_new_key(key_size),
            issuer=issuer,
            not_before=ee_start,
            not_after=ee_end,
            ca_path_length=False,
            key_usage=key_usage,
            eku=eku,
            san=san,
            policy=policy,
        )

    org_auth = end_entity(
        org_subject,
        org_ca,
        _key_usage(digital_signature=True),
        eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
        policy=ORG_TEST_POLICY_OID,
    )
    org_sign = end_entity(
        org_subject,
        org_ca,
        _key_usage(digital_signature=True, content_commitment=True),
        eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
        policy=ORG_TEST_POLICY_OID,
    )
    server = end_entity(
        _name(cn="localhost", ous=("DMP MOCK",), o="DMPCLIENT MOCK DMP"),
        org_ca,
        _key_usage(digital_signature=True, key_encipherment=True),
        eku=[ExtendedKeyUsageOID.SERVER_AUTH],
        san=[x509.DNSName(n) for n in server_names] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips],
    )
    ps_subject = _ps_name(ps_id, *ps_names, profession="Médecin")
    ps_sign = end_entity(
        ps_subject,
        pers_ca,
        _key_usage(digital_signature=True, content_commitment=True),
        policy=CPS_TEST_POLICY_OID,
    )
    ps_auth = end_entity(
        ps_subject,
        pers_ca,
        _key_usage(digital_signature=True),
        eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
        policy=CPS_TEST_POLICY_OID,
    )

    root_path, org_ca_path, pers_ca_path, bundle_path = (
        directory / name for name in ("root-ca.pem", "org-ca.pem", "personnes-ca.pem", "ca-bundle.pem")
    )
    root_path.write_bytes(_pem(root.cert))
    org_ca_path.write_bytes(_pem(org_ca.cert))
    pers_ca_path.write_bytes(_pem(pers_ca.cert))
    bundle_path.write_bytes(_pem(root.cert) + _pem(org_ca.cert) + _pem(pers_ca.cert))
    pw = password.encode()
    pki = TestPki(
        directory=directory,
        root_ca=root_path,
        org_ca=org_ca_path,
        personnes_ca=pers_ca_path,
        ca_bundle=bundle_path,
        org_auth=_write_end_entity(directory, "org-auth-cli", org_auth, [org_ca.cert], pw),
        org_sign=_write_end_entity(directory, "org-sign", org_sign, [org_ca.cert], pw),
        server=_write_end_entity(directory, "server", server, [org_ca.cert], pw),
        ps_sign=_write_end_entity(directory, "ps-sign", ps_sign, [pers_ca.cert], pw),
        p12_password_file=password_file,
        structure_id=structure_id,
        ps_id=ps_id,
        ps_auth=_write_end_entity(directory, "ps-auth", ps_auth, [pers_ca.cert], pw),
    )
    _write_manifest(pki)
    return pki


def _write_manifest(pki: TestPki) -> None:
    def rel(path: Path) -> str:
        return path.name

    def ee(files: CertificateFiles, what: str) -> dict[str, str]:
        return {
            "what": what,
            "cert": rel(files.cert),
            "key": rel(files.key),
            "p12": rel(files.p12),
            "subject": files.subject,
        }

    manifest = {
        "kind": "dmpclient test PKI (IGC-Santé-like; NOT for production)",
        "structure_id": pki.structure_id,
        "ps_id": pki.ps_id,
        "root_ca": rel(pki.root_ca),
        "org_ca": rel(pki.org_ca),
        "personnes_ca": rel(pki.personnes_ca),
        "ca_bundle": rel(pki.ca_bundle),
        "p12_password_file": rel(pki.p12_password_file),
        "org_auth": ee(pki.org_auth, "ORG AUTH_CLI: TLS client certificate of the structure (mTLS)"),
        "org_sign": ee(pki.org_sign, "ORG SIGN: signs the VIHF and the XAdES submission signature"),
        "server": ee(pki.server, "mock DMP server certificate (serverAuth; localhost, 127.0.0.1, ::1)"),
        "ps_sign": ee(pki.ps_sign, "card-like PS signature certificate (signs DIRECTE VIHFs; not for TLS)"),
    }
    if pki.ps_auth is not None:
        manifest["ps_auth"] = ee(pki.ps_auth, "card-like PS authentication certificate (TLS client in DIRECTE mode)")
    (pki.directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def load_test_pki(directory: Path | str) -> TestPki:
    """Read back a test PKI written by :func:`init_test_pki` (from its ``manifest.json``)."""
    base = Path(directory)
    try:
        data = json.loads((base / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DmpConfigError(f"no test PKI in {base}: run `dmp pki init --out {base}` first", field="pki.dir") from None

    def ee(key: str) -> CertificateFiles:
        item = data[key]
        return CertificateFiles(base / item["cert"], base / item["key"], base / item["p12"], item["subject"])

    return TestPki(
        directory=base,
        root_ca=base / data["root_ca"],
        org_ca=base / data["org_ca"],
        personnes_ca=base / data["personnes_ca"],
        ca_bundle=base / data["ca_bundle"],
        org_auth=ee("org_auth"),
        org_sign=ee("org_sign"),
        server=ee("server"),
        ps_sign=ee("ps_sign"),
        p12_password_file=base / data["p12_password_file"],
        structure_id=data["structure_id"],
        ps_id=data["ps_id"],
        ps_auth=ee("ps_auth") if "ps_auth" in data else None,
    )
