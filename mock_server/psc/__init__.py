"""A mock Pro Santé Connect provider for tests, demos and ``dmp mock serve`` (reference §11).

:func:`prepare_psc` builds it from a data directory and the test PKI: signing key (created once),
the seeded professionals, one registered client (:data:`MOCK_CLIENT_ID`, every authentication
method: secret, ``private_key_jwt`` when keys are registered, mutual TLS with the test PKI's ORG
AUTH_CLI certificate), and the admin token of ``dmp mock psc approve``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from starlette.applications import Starlette

from dmpclient.files import write_private
from dmpclient.security.pki import TestPki
from mock_server.psc.app import REALM_PATH, psc_app
from mock_server.psc.directory import seeded_directory
from mock_server.psc.keys import ProviderKey
from mock_server.psc.models import MockClient
from mock_server.psc.provider import MockPscProvider, ProviderSettings

__all__ = ["ADMIN_TOKEN_FILE", "MOCK_CLIENT_ID", "MOCK_CLIENT_SECRET", "MockPsc", "mock_client", "prepare_psc"]

MOCK_CLIENT_ID: Final = "dmpclient-mock"
MOCK_CLIENT_SECRET: Final = "mock-psc-secret-for-tests-only"  # noqa: S105 - the mock's published test secret
ADMIN_TOKEN_FILE: Final = "psc-admin.token"  # noqa: S105 - a file name
_ADMIN_TOKEN_MIN: Final = 16
_LOOPBACK_CALLBACKS: Final = ("http://127.0.0.1/callback", "http://127.0.0.1/psc/callback")


@dataclass(slots=True)
class MockPsc:
    """A ready provider: its logic, its ASGI app and the admin token of its ``/mock/psc/`` controls."""

    provider: MockPscProvider
    app: Starlette
    admin_token: str

    def serve_at(self, origin: str) -> None:
        """Set the public origin (``https://host:port``) once the port is known; the issuer derives from it."""
        self.provider.set_issuer(origin.rstrip("/") + REALM_PATH)


def mock_client(pki: TestPki, **changes: object) -> MockClient:
    """The default client registration (secret, mutual TLS with ORG AUTH_CLI, loopback callbacks on any port)."""
    subject = x509.load_pem_x509_certificate(pki.org_auth.cert.read_bytes()).subject.rfc4514_string()
    fields: dict[str, object] = {
        "client_id": MOCK_CLIENT_ID,
        "auth_methods": ("client_secret_basic", "client_secret_post", "tls_client_auth"),
        "secret": MOCK_CLIENT_SECRET,
        "tls_subject": subject,
        "redirect_uris": _LOOPBACK_CALLBACKS,
        "post_logout_redirect_uris": ("http://127.0.0.1/",),
    }
    fields.update(changes)
    return MockClient(**fields)  # type: ignore[arg-type]


def _admin_token(data_dir: Path) -> str:
    """The token of ``dmp mock psc`` (created on first use; a file left empty or short by a crash is replaced)."""
    path = data_dir / ADMIN_TOKEN_FILE
    token = path.read_text().strip() if path.exists() else ""
    if len(token) < _ADMIN_TOKEN_MIN:
        data_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        write_private(path, token.encode())
    return token


def prepare_psc(
    data_dir: Path,
    pki: TestPki,
    origin: str = "https://127.0.0.1:8444",
    *,
    settings: ProviderSettings | None = None,
    random_seed: int = 1234,
    clock: Callable[[], float] = time.time,
) -> MockPsc:
    """The mock provider of a data directory (key and admin token created there on first use)."""
    key = ProviderKey.in_directory(data_dir)
    provider = MockPscProvider(
        origin.rstrip("/") + REALM_PATH, key, seeded_directory(random_seed), settings=settings, clock=clock
    )
    provider.register_client(mock_client(pki))
    token = _admin_token(data_dir)
    return MockPsc(provider, psc_app(provider, admin_token=token), token)
