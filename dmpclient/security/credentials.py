"""Loading certificates and keys (PEM or PKCS#12), and the checks ``dmp config check`` reports.

Keys are loaded once (per client) and kept as ``cryptography`` objects; they are never logged and
never written back anywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dmpclient.errors import DmpConfigError

__all__ = [
    "Credential",
    "allows_tls_client",
    "load_certificates",
    "load_pem",
    "load_pkcs12",
]


@dataclass(frozen=True, slots=True, repr=False)
class Credential:
    """A certificate, its RSA private key and the intermediate chain that came with it."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    def __repr__(self) -> str:  # never show key material
        return f"Credential(subject={self.subject!r})"

    @property
    def subject(self) -> str:
        """RFC 4514 rendering of the certificate subject (most specific RDN first)."""
        return self.certificate.subject.rfc4514_string()

    @property
    def organizational_unit(self) -> str | None:
        """The subject ``OU`` (the structure national id for IGC-Santé ORG certificates)."""
        values = self.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        return str(values[0].value) if values else None

    def key_matches(self) -> bool:
        """True when the private key is the one certified by the certificate."""
        public = self.certificate.public_key()
        return isinstance(public, rsa.RSAPublicKey) and public.public_numbers() == (
            self.private_key.public_key().public_numbers()
        )

    def days_left(self, now: dt.datetime | None = None) -> float:
        """Days until the certificate expires (negative once expired)."""
        now = now or dt.datetime.now(dt.UTC)
        return (self.certificate.not_valid_after_utc - now).total_seconds() / 86400

    def is_organisation_certificate(self) -> bool:
        """Heuristic: an IGC-Santé ORG certificate has an OU (structure id) and is not a CA."""
        try:
            basic = self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
            if basic.ca:
                return False
        except x509.ExtensionNotFound:
            pass
        return self.organizational_unit is not None

    def has_client_auth(self) -> bool:
        """True when the certificate may authenticate a TLS client (see :func:`allows_tls_client`)."""
        return allows_tls_client(self.certificate)


def allows_tls_client(certificate: x509.Certificate) -> bool:
    """True when the certificate carries the clientAuth extended key usage (IGC-Santé ORG AUTH_CLI, the card's
    authentication certificate). Unlike OpenSSL, a certificate *without* EKU is refused: a card signature
    certificate or an ORG SIGN certificate must not open the mutual-TLS channel (reference §1.4, §12.6)."""
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in eku


def _require_rsa(key: object, source: str) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DmpConfigError(f"{source}: the DMP only accepts RSA keys (ECDHE-RSA suites); got {type(key).__name__}")
    return key


def _read(path: Path | str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DmpConfigError(f"cannot read the {what} file {path}: {exc.strerror}") from None


def load_certificates(path: Path | str) -> list[x509.Certificate]:
    """All certificates of a PEM file (a CA bundle, or a certificate followed by its chain)."""
    data = _read(path, "certificate")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise DmpConfigError(f"{path} is not a PEM certificate file (expected '-----BEGIN CERTIFICATE-----')") from None
    return certs


def load_pem(cert_path: Path | str, key_path: Path | str, password: bytes | None = None) -> Credential:
    """Load a certificate (optionally followed by its chain) and its private key from PEM files."""
    certs = load_certificates(cert_path)
    try:
        key = serialization.load_pem_private_key(_read(key_path, "private key"), password=password)
    except TypeError:
        raise DmpConfigError(
            f"{key_path} is encrypted: give its password through the configured environment variable"
        ) from None
    except ValueError:
        raise DmpConfigError(f"{key_path}: not a PEM private key, or wrong password") from None
    credential = Credential(certs[0], _require_rsa(key, str(key_path)), tuple(certs[1:]))
    if not credential.key_matches():
        raise DmpConfigError(f"the private key {key_path} does not belong to the certificate {cert_path}")
    return credential


def load_pkcs12(path: Path | str, password: bytes | None) -> Credential:
    """Load a password-protected PKCS#12 (.p12) file as delivered by IGC-Santé."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(_read(path, "PKCS#12"), password)
    except ValueError:
        raise DmpConfigError(
            f"cannot open the PKCS#12 file {path}: wrong password or not a PKCS#12 file "
            "(check the environment variable that holds its password)"
        ) from None
    if cert is None or key is None:
        raise DmpConfigError(f"the PKCS#12 file {path} holds no certificate with its private key")
    return Credential(cert, _require_rsa(key, str(path)), tuple(extra))
