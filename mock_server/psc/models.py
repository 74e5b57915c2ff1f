"""The mock provider's records (clients, codes, refresh tokens, CIBA requests), as authlib's mixins want them.

In memory, behind one lock: a provider restart signs everybody out, as a real one would after its
sessions expire. Times come from the provider's clock (tests move it).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oidc.core import AuthorizationCodeMixin

from mock_server.psc.directory import PscUser

__all__ = ["AuthCode", "CibaRequest", "MockClient", "ProviderStore", "RefreshRecord"]

#: Loopback literals a native client may listen on (RFC 8252 §7.3: IP literals, not ``localhost``).
_LOOPBACK_HOSTS: Final = ("127.0.0.1", "::1")


@dataclass(slots=True)
class MockClient(ClientMixin):  # type: ignore[misc]
    """A registered client.

    Attributes:
        auth_methods: token-endpoint authentication methods it may use.
        secret: for ``client_secret_*``; ``jwks``: public keys for ``private_key_jwt``;
        tls_subject: the RFC 4514 subject of its certificate for ``tls_client_auth`` (RFC 8705).
        redirect_uris: exact URIs; a loopback one (``http://127.0.0.1/callback``) matches any port (RFC 8252).
        userinfo_jwt: answer UserInfo as a signed JWT (``userinfo_signed_response_alg`` RS256).
    """

    client_id: str
    auth_methods: tuple[str, ...]
    secret: str | None = None
    jwks: dict[str, Any] | None = None
    tls_subject: str | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    userinfo_jwt: bool = False
    client_metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.userinfo_jwt:
            self.client_metadata["userinfo_signed_response_alg"] = "RS256"
        self.client_metadata["post_logout_redirect_uris"] = list(self.post_logout_redirect_uris)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact match; for a registered loopback URI (``http://127.0.0.1/…``, ``http://[::1]/…``) any port, and
        only the port (RFC 8252 §7.3): scheme, host, path, query and fragment are compared as registered."""
        if redirect_uri in self.redirect_uris:
            return True
        try:
            asked = urlsplit(redirect_uri)
            port = asked.port
        except ValueError:
            return False
        if asked.scheme != "http" or asked.hostname not in _LOOPBACK_HOSTS or port is None:
            return False
        portless = asked._replace(netloc=asked.netloc.rsplit(":", 1)[0]).geturl()
        return portless in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret is not None and hmac.compare_digest(self.secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        method = "private_key_jwt" if method == "client_assertion_jwt" else method
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return True


@dataclass(slots=True)
class AuthCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    user: PscUser
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return "eidas1"

    def get_amr(self) -> list[str]:
        return ["mobile"]


@dataclass(slots=True)
class RefreshRecord:
    token: str
    client_id: str
    user: PscUser
    scope: str
    expires_at: float
    sid: str
    revoked: bool = False

    def get_scope(self) -> str:
        return self.scope

    def check_client(self, client: MockClient) -> bool:
        return client.client_id == self.client_id


@dataclass(slots=True)
class CibaRequest:
    auth_req_id: str
    client_id: str
    user: PscUser
    scope: str
    binding_message: str
    channel: str
    expires_at: float
    interval: int
    status: Literal["pending", "approved", "denied", "used"] = "pending"
    last_poll: float = 0.0


class ProviderStore:
    """Every record of the provider, behind one lock: the app's handlers run on the server's event-loop thread
    while tests and embedding code call the provider (``decide_ciba``…) from their own threads."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.clients: dict[str, MockClient] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh: dict[str, RefreshRecord] = {}
        self.ciba: dict[str, CibaRequest] = {}

    def purge_expired(self, now: float) -> None:
        """Forget the codes, CIBA requests and refresh tokens past their expiry (and redeemed CIBA requests), so
        that the records do not grow with every sign-in. Called on each write, under the lock."""
        with self.lock:
            for table, expired in (
                (self.codes, [k for k, c in self.codes.items() if c.expires_at <= now]),
                (self.ciba, [k for k, r in self.ciba.items() if r.expires_at <= now or r.status == "used"]),
                (self.refresh, [k for k, r in self.refresh.items() if r.expires_at <= now]),
            ):
                for key in expired:
                    del table[key]

    def end_sessions_of(self, sub: str, client_id: str | None) -> None:
        """RP-initiated logout: revoke the user's refresh tokens (of one client, or all)."""
        with self.lock:
            for record in self.refresh.values():
                if record.user.sub == sub and (client_id is None or record.client_id == client_id):
                    record.revoked = True
