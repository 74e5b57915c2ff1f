"""Mutual-TLS contexts for the DMP channel, and the diagnosis of TLS handshake failures.

This is the only module of dmpclient importing :mod:`ssl` (architecture rule). The DMP accepts
TLS 1.2 with four ECDHE-RSA suites (reference §1.4, document 579 v4). Our contexts:

* allow TLS 1.2 **and** 1.3 (the DMP negotiates 1.2; 1.3 stays available for loopback, the mock and a
  future platform); TLS 1.0/1.1 are refused;
* restrict TLS 1.2 suites to ECDHE-RSA with AES-GCM or CHACHA20-POLY1305 (the CBC suite still allowed by
  the DMP is deliberately not offered: the GCM suites are accepted by the same servers);
* trust **only** the configured CA bundle (IGC-Santé), never the system store, and always check the
  host name. There is no switch to disable verification: tests use the test PKI's CA bundle.

``ssl`` reads certificates and keys from files only. The key never touches the disk in clear: it is
re-encrypted with a one-time random password and handed to OpenSSL through an anonymous in-memory
file (``memfd``, Linux) or, elsewhere, a 0600 temporary file deleted right after loading.
"""

from __future__ import annotations

import contextlib
import enum
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization

from dmpclient.errors import DmpConfigError
from dmpclient.security.credentials import Credential, allows_tls_client

__all__ = [
    "TLS12_CIPHERS",
    "TlsDiagnosis",
    "TlsFailure",
    "browser_server_context",
    "client_context",
    "diagnose_tls_failure",
    "server_context",
    "web_client_context",
]

#: OpenSSL names of the TLS 1.2 suites we offer (subset of reference §1.4; TLS 1.3 suites are OpenSSL's defaults).
TLS12_CIPHERS: Final = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"

#: Alerts a client receives when the server rejects (or misses) its certificate.
_CLIENT_CERT_ALERTS: Final = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_ALERT_ACCESS_DENIED",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",  # OpenSSL's TLS 1.2 answer to a missing certificate (also: no common suite)
    }
)
_HOSTNAME_MISMATCH: Final = 62  # X509_V_ERR_HOSTNAME_MISMATCH
_IP_MISMATCH: Final = 64  # X509_V_ERR_IP_ADDRESS_MISMATCH


def _base_context(*, server: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    return context


def _load_verify(context: ssl.SSLContext, bundle: Path, what: str) -> None:
    try:
        context.load_verify_locations(cafile=str(bundle))
    except (OSError, ssl.SSLError) as exc:
        raise DmpConfigError(
            f"cannot load the {what} {bundle}: {getattr(exc, 'strerror', None) or exc}; "
            "it must be a readable PEM file of CA certificates",
            field="ca_bundle",
        ) from None


@contextlib.contextmanager
def _private_pem_file(data: bytes) -> Iterator[str]:
    """A path OpenSSL can read ``data`` from, gone when the block exits."""
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        fd = os.memfd_create("dmpclient-tls", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    fd, name = tempfile.mkstemp(prefix="dmpclient-", suffix=".pem")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield name
    finally:
        os.unlink(name)


def _load_credential(context: ssl.SSLContext, credential: Credential) -> None:
    """Load certificate, chain and key into ``context`` without writing the clear key anywhere."""
    one_time = secrets.token_bytes(32)
    pem = credential.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time),
    )
    pem += b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (credential.certificate, *credential.chain))
    with _private_pem_file(pem) as path:
        context.load_cert_chain(path, password=one_time)


def client_context(tls: Credential | None, ca_bundle: Path) -> ssl.SSLContext:
    """The client side of the DMP mutual-TLS channel.

    Args:
        tls: the ORG AUTH_CLI credential presented to the server. ``None`` only makes sense in tests
            (the DMP, and the mock, refuse a client without certificate).
        ca_bundle: PEM CAs the server certificate must chain to (IGC-Santé; the test PKI's bundle for the mock).

    Raises:
        DmpConfigError: the CA bundle cannot be read, or the certificate has no clientAuth extended key usage
            (an ORG SIGN or card signature certificate configured in place of ORG AUTH_CLI).
    """
    if tls is not None and not allows_tls_client(tls.certificate):
        raise DmpConfigError(
            "credentials.tls: this certificate has no clientAuth extended key usage, so it cannot open the "
            "mutual-TLS channel; configure the ORG AUTH_CLI certificate (ORG SIGN only signs the VIHF)",
            field="credentials.tls",
        )
    context = _base_context(server=False)  # CERT_REQUIRED + check_hostname by default
    _load_verify(context, ca_bundle, "ca_bundle")
    # An intermediate alone is a valid anchor (DRIMBOX trusts only "ACI-EL-ORG", reference §1.4).
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    if tls is not None:
        _load_credential(context, tls)
    return context


def web_client_context(tls: Credential | None, ca_bundle: Path | None = None) -> ssl.SSLContext:
    """A client context for HTTPS services other than the DMP (Pro Santé Connect, an authorisation server).

    Such services use public Web PKI certificates and modern suites: the system CA store (or ``ca_bundle``),
    OpenSSL's default suites, TLS 1.2 minimum; ``tls`` is presented for mutual TLS (``tls_client_auth``).
    """
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle is not None else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls is not None:
        _load_credential(context, tls)
    return context


def server_context(
    server: Credential, client_ca_bundle: Path, *, tls12_only: bool = False, require_client_cert: bool = True
) -> ssl.SSLContext:
    """A server context that requires a client certificate chaining to ``client_ca_bundle``.

    Args:
        server: the server certificate and key.
        client_ca_bundle: CAs allowed to issue client certificates.
        tls12_only: negotiate TLS 1.2 only, like the DMP (reference §1.4).
        require_client_cert: ``False`` asks for a certificate without requiring one (an OpenID provider
            serves browsers and mutual-TLS clients on the same port; the application decides).
    """
    context = _base_context(server=True)
    if tls12_only:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    _load_verify(context, client_ca_bundle, "client CA bundle")
    _load_credential(context, server)
    return context


def browser_server_context(server: Credential) -> ssl.SSLContext:
    """A server context for browsers (the web PS site, TD0.9/TD0.10): server authentication only.

    Browsers reach the web PS without the structure's certificate; in AIR the signed VIHF posted by the browser
    is the proof (reference §10.3). TLS 1.2+ with the suites of 579 (TLS 1.3 too, as "Web PS via PSC").
    """
    context = _base_context(server=True)
    context.verify_mode = ssl.CERT_NONE
    _load_credential(context, server)
    return context


class TlsFailure(enum.Enum):
    """Why a TLS handshake failed, from the client's point of view."""

    SERVER_UNTRUSTED = "server_untrusted"
    HOSTNAME_MISMATCH = "hostname_mismatch"
    CLIENT_CERT_REFUSED = "client_cert_refused"
    CLOSED_IN_HANDSHAKE = "closed_in_handshake"
    HANDSHAKE = "handshake"


@dataclass(frozen=True, slots=True)
class TlsDiagnosis:
    """A classified TLS failure and OpenSSL's own words for it (no secret in there)."""

    failure: TlsFailure
    detail: str


def _diagnose_ssl_error(exc: ssl.SSLError, in_handshake: bool) -> TlsDiagnosis | None:
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        # Servers built on Python's asyncio (the mock) drop the connection without sending their alert.
        return TlsDiagnosis(TlsFailure.CLOSED_IN_HANDSHAKE, exc.reason or "EOF") if in_handshake else None
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or "certificate verify failed"
        if exc.verify_code in (_HOSTNAME_MISMATCH, _IP_MISMATCH):
            return TlsDiagnosis(TlsFailure.HOSTNAME_MISMATCH, detail)
        return TlsDiagnosis(TlsFailure.SERVER_UNTRUSTED, detail)
    reason = exc.reason or ""
    if reason in _CLIENT_CERT_ALERTS:
        return TlsDiagnosis(TlsFailure.CLIENT_CERT_REFUSED, reason)
    return TlsDiagnosis(TlsFailure.HANDSHAKE, reason or str(exc)) if in_handshake else None


def diagnose_tls_failure(exc: BaseException, *, in_handshake: bool) -> TlsDiagnosis | None:
    """Find an :class:`ssl.SSLError` behind ``exc`` (``__cause__``/``__context__`` chain) and classify it.

    HTTP libraries wrap handshake errors in their own exception types; with TLS 1.3 a refused client
    certificate only surfaces on the first read, as an alert. Returns ``None`` when TLS is not involved.

    Args:
        exc: the exception raised by the HTTP library.
        in_handshake: whether it was raised while connecting; an EOF then means the server hung up
            in the middle of the handshake (typically: it refused our certificate without an alert).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return _diagnose_ssl_error(current, in_handshake)
        current = current.__cause__ or current.__context__
    text = str(exc)
    for alert in _CLIENT_CERT_ALERTS:
        if alert in text:
            return TlsDiagnosis(TlsFailure.CLIENT_CERT_REFUSED, alert)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return TlsDiagnosis(TlsFailure.SERVER_UNTRUSTED, "certificate verify failed")
    return None
