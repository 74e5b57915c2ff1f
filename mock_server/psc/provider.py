"""The mock Pro Santé Connect provider, on authlib's server components (reference §11).

authlib supplies the OAuth 2 / OpenID Connect machinery: the authorization code grant with PKCE
(``CodeChallenge``) and OpenID (``OpenIDCode``: ID tokens with nonce, ``acr``), the refresh grant,
client authentication (``client_secret_basic`` / ``_post``, ``private_key_jwt`` through
``JWTBearerClientAssertion``), JWT access tokens (RFC 9068 generator), introspection (RFC 7662) and
RP-initiated logout. Written here, because authlib has no server side for them: the CIBA grant (poll
mode, with ``authorization_pending`` / ``slow_down`` / ``expired_token`` / ``access_denied``), the RFC 8693
token-exchange grant, ``tls_client_auth`` (RFC 8705) and the Starlette binding of the server.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import grants as oauth_grants
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import OpenIDCode, OpenIDToken
from authlib.oidc.rpinitiated import EndSessionEndpoint
from cryptography import x509
from joserfc import jwt
from joserfc.jwk import KeySet

from dmpclient.psc.errors import PscTokenError
from dmpclient.psc.profile import JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT
from dmpclient.psc.protocol import CIBA_GRANT
from dmpclient.psc.tokens import ProviderKeys, validate_access_token
from mock_server.psc.directory import PscUser
from mock_server.psc.keys import ProviderKey
from mock_server.psc.models import AuthCode, CibaRequest, MockClient, ProviderStore, RefreshRecord

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "MAX_ASSERTION_LIFETIME",
    "SERVER_METHODS",
    "MockPscProvider",
    "ProviderSettings",
    "StarletteOAuth2Request",
]

ACCESS_TOKEN_TYPE: Final = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN
#: Longest life accepted for a ``private_key_jwt`` client assertion (seconds, project design: authlib's client,
#: the SDK's, signs assertions valid for one hour).
MAX_ASSERTION_LIFETIME: Final = 3600
_LEEWAY: Final = 30
_SCOPES: Final = ["openid", "scope_all", "rpps", "identity", "profile", "email", "roles", "eidas1", "offline_access"]
_AUTH_METHODS: Final = ["client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth"]
_JWT_METHOD: Final = JWTBearerClientAssertion.CLIENT_AUTH_METHOD
#: The same methods under authlib's registration names (private_key_jwt is its JWT client assertion).
SERVER_METHODS: Final = ["client_secret_basic", "client_secret_post", "tls_client_auth", _JWT_METHOD]


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """Lifetimes (seconds, reference §11.4) and the token-exchange audience of the mock."""

    access_lifetime: int = 120
    refresh_lifetime: int = 1800
    code_lifetime: int = 60
    ciba_lifetime: int = 120
    ciba_interval: int = 1
    exchanged_lifetime: int = 3600
    dmp_audience: str = "urn:dmpclient:mock-dmp"
    #: Approve CIBA requests by themselves after this many seconds (``None``: wait for :meth:`approve`).
    ciba_auto_approve_after: float | None = None
    #: Keycloak answers ``refresh_expires_in`` (not in RFC 6749) and a new ID token on refresh (OpenID
    #: Connect Core §12.2: "MAY"); other providers omit either: switch them off to act like one.
    send_refresh_expires_in: bool = True
    id_token_on_refresh: bool = True


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """authlib's request view of an already read HTTP request (form, query, headers, TLS client certificate)."""

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        form: Mapping[str, str],
        client_cert: x509.Certificate | None,
    ) -> None:
        super().__init__(method, url, headers=headers)  # case-insensitive (Starlette Headers)
        self.payload = BasicOAuth2Payload({**query, **form})
        self._args, self._form = dict(query), dict(form)
        self.client_cert = client_cert

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, provider: MockPscProvider) -> None:
        super().__init__(scopes_supported=_SCOPES)
        self.provider = provider

    def query_client(self, client_id: str) -> MockClient | None:
        return self.provider.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.provider.save_refresh(token, request)

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, dict[str, str]]:
        return status, body, dict(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


class _AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    """Keycloak-like JWT access tokens carrying ``SubjectNameID`` (reference §11.3)."""

    def __init__(self, provider: MockPscProvider) -> None:
        super().__init__(
            provider.issuer,
            refresh_token_generator=lambda *_a, **_k: generate_token(48),
            expires_generator=lambda _client, _grant_type: provider.settings.access_lifetime,
        )
        self.provider = provider

    def get_jwks(self) -> Any:
        return self.provider.key.signing_set

    def get_acr(self, user: PscUser | None) -> str:
        return "eidas1"

    def get_extra_claims(self, client: MockClient, grant_type: str, user: PscUser | None, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {"azp": client.client_id, "typ": "Bearer"}
        if user is not None:
            claims.update(SubjectNameID=user.ps_id, preferred_username=user.ps_id)
        return claims

    def __call__(self, grant_type: str, client: MockClient, user: Any = None, scope: Any = None, **kw: Any) -> Any:
        token = super().__call__(grant_type=grant_type, client=client, user=user, scope=scope, **kw)
        if "refresh_token" in token and self.provider.settings.send_refresh_expires_in:
            token["refresh_expires_in"] = self.provider.settings.refresh_lifetime
        return token


class _OpenID(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: MockPscProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        with self.provider.store.lock:
            return any(code.nonce == nonce for code in self.provider.store.codes.values())

    def resolve_client_private_key(self, client: MockClient) -> Any:
        return self.provider.key.signing_set

    def get_client_algorithm(self, client: MockClient) -> str:
        return "RS256"

    def get_client_claims(self, client: MockClient) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.provider.issuer, "aud": [client.client_id], "azp": client.client_id, "exp": now + 120}

    def generate_user_info(self, user: PscUser, scope: str) -> dict[str, Any]:
        return {"sub": user.sub, "SubjectNameID": user.ps_id, "preferred_username": user.ps_id, "acr": "eidas1"}


class _OpenIDToken(_OpenID, OpenIDToken):  # type: ignore[misc]
    """ID tokens for the grants without a nonce (refresh, CIBA)."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.process_token)

    def process_token(self, grant: Any, response: Any) -> Any:
        if isinstance(grant, _RefreshGrant) and not self.provider.settings.id_token_on_refresh:
            return response[1]
        return super().process_token(grant, response)


class _S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, confidential ones included, and S256 only (the metadata says so, reference §11.2):
    an authorization request without ``code_challenge``, or with ``plain``, is refused."""

    DEFAULT_CODE_CHALLENGE_METHOD: Final = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: Final = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("code_challenge is required (PKCE S256, for every client)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class _CodeGrant(oauth_grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: Final = SERVER_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        provider: MockPscProvider = self.server.provider
        data = request.payload.data
        record = AuthCode(
            code=code,
            client_id=request.client.client_id,
            user=request.user,
            redirect_uri=request.payload.redirect_uri,
            scope=request.payload.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(provider.clock()),
            expires_at=provider.clock() + provider.settings.code_lifetime,
        )
        with provider.store.lock:
            provider.store.purge_expired(provider.clock())
            provider.store.codes[code] = record

    def query_authorization_code(self, code: str, client: MockClient) -> AuthCode | None:
        provider: MockPscProvider = self.server.provider
        with provider.store.lock:
            record = provider.store.codes.get(code)
        if record and record.client_id == client.client_id and provider.clock() < record.expires_at:
            return record
        return None

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        with self.server.provider.store.lock:
            self.server.provider.store.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthCode) -> PscUser:
        return authorization_code.user


class _RefreshGrant(oauth_grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: Final = SERVER_METHODS
    INCLUDE_NEW_REFRESH_TOKEN: Final = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshRecord | None:
        provider: MockPscProvider = self.server.provider
        with provider.store.lock:
            record = provider.store.refresh.get(refresh_token)
        if record is None or record.revoked or provider.clock() >= record.expires_at:
            return None
        self.request.sid = record.sid
        return record

    def authenticate_user(self, refresh_token: RefreshRecord) -> PscUser:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: RefreshRecord) -> None:
        refresh_token.revoked = True


class _CibaGrant(oauth_grants.BaseGrant, oauth_grants.TokenEndpointMixin):  # type: ignore[misc]
    """CIBA poll mode (OpenID CIBA Core §10, §11)."""

    GRANT_TYPE: Final = CIBA_GRANT
    TOKEN_ENDPOINT_AUTH_METHODS: Final = SERVER_METHODS

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        provider: MockPscProvider = self.server.provider
        auth_req_id = self.request.form.get("auth_req_id")
        with provider.store.lock:
            record = provider.store.ciba.get(auth_req_id or "")
            if record is None or record.client_id != client.client_id or record.status == "used":
                raise InvalidGrantError("unknown auth_req_id")
            now = provider.clock()
            provider.auto_approve(record, now)
            if now >= record.expires_at:
                raise _CibaError("expired_token", "the authentication request has expired")
            if record.status == "denied":
                raise _CibaError("access_denied", "the professional refused the authentication")
            if record.status == "pending":
                too_fast = now - record.last_poll < record.interval
                record.last_poll = now
                raise _CibaError(
                    "slow_down" if too_fast else "authorization_pending", "the professional has not approved yet"
                )
            record.status = "used"
        self.request.user = record.user
        self.request.payload = BasicOAuth2Payload({**self.request.payload.data, "scope": record.scope})
        self.request.client = client

    @hooked  # type: ignore[untyped-decorator]
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.generate_token(user=self.request.user, scope=self.request.payload.scope)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class _CibaError(OAuth2Error):  # type: ignore[misc]
    status_code = 400

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description=description)
        self.error = error


class _ExchangeGrant(oauth_grants.BaseGrant, oauth_grants.TokenEndpointMixin):  # type: ignore[misc]
    """RFC 8693 token exchange: a valid PSC access token in, a DMP-audience access token out (1 h, §11.4)."""

    GRANT_TYPE: Final = TOKEN_EXCHANGE_GRANT
    TOKEN_ENDPOINT_AUTH_METHODS: Final = SERVER_METHODS

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        form = self.request.form
        if form.get("subject_token_type") not in (JWT_TOKEN_TYPE, ACCESS_TOKEN_TYPE):
            raise InvalidRequestError("unsupported subject_token_type")
        provider: MockPscProvider = self.server.provider
        try:
            verified = provider.validate_psc_access_token(form.get("subject_token", ""))
        except PscTokenError:
            raise InvalidGrantError("the subject_token is not a valid PSC access token") from None
        self.request.client = client
        self.request.exchanged_claims = verified

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        provider: MockPscProvider = self.server.provider
        token = provider.exchanged_token(self.request.exchanged_claims, self.request.client)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def _tls_client_auth(query_client: Callable[[str], MockClient | None], request: StarletteOAuth2Request) -> Any:
    """RFC 8705 ``tls_client_auth``: the certificate presented on this connection has the registered subject."""
    client_id = request.form.get("client_id")
    client = query_client(client_id) if client_id else None
    cert = request.client_cert
    if client is None or cert is None or client.tls_subject is None:
        return None
    if cert.subject.rfc4514_string() != client.tls_subject:
        raise InvalidClientError(description="the TLS client certificate is not the one registered for this client")
    return client


class _ClientAssertion(JWTBearerClientAssertion):  # type: ignore[misc]
    """``private_key_jwt`` (RFC 7523): each assertion once. A ``jti`` is remembered until its assertion expires
    (authlib refuses expired ones), and an assertion may live at most :data:`MAX_ASSERTION_LIFETIME`, so the
    memory stays bounded by what clients send in that window."""

    def __init__(self, provider: MockPscProvider) -> None:
        super().__init__(leeway=_LEEWAY)
        self.provider = provider
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def get_audiences(self) -> list[str]:
        return [self.provider.token_endpoint, self.provider.issuer]

    def validate_jti(self, claims: Mapping[str, Any], jti: str) -> bool:
        now = time.time()  # the clock authlib checked ``exp`` with
        expires = float(claims["exp"])
        if expires - now > MAX_ASSERTION_LIFETIME + _LEEWAY:
            raise InvalidClientError(description=f"client assertion: exp more than {MAX_ASSERTION_LIFETIME} s ahead")
        key = (str(claims.get("sub")), jti)
        with self._lock:
            for old in [k for k, until in self._seen.items() if until + _LEEWAY < now]:
                del self._seen[old]
            if key in self._seen:
                return False
            self._seen[key] = expires
        return True

    def resolve_client_public_key(self, client: MockClient) -> Any:
        if not client.jwks:
            raise InvalidClientError(description="no key registered for private_key_jwt")
        return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]


class _Active(dict[str, Any]):
    """An active token's introspection claims, as authlib's endpoint wants a token object."""

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return False


class _Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: Final = SERVER_METHODS

    def query_token(self, token: str, hint: str | None) -> _Active | None:
        claims = self.server.provider.describe_token(token)
        return _Active(claims) if claims else None

    def check_permission(self, token: _Active, client: MockClient, request: OAuth2Request) -> bool:
        return True

    def introspect_token(self, token: _Active) -> dict[str, Any]:
        return {"active": True, **token}


class _EndSession(EndSessionEndpoint):  # type: ignore[misc]
    def get_server_jwks(self) -> Any:
        return self.server.provider.key.signing_set

    def end_session(self, request: Any) -> None:
        claims = request.id_token_claims or {}
        if claims.get("sub"):
            self.server.provider.store.end_sessions_of(str(claims["sub"]), None)


class MockPscProvider:
    """The provider's logic, independent of HTTP (the Starlette app calls it).

    Args:
        issuer: ``https://host:port/auth/realms/esante-wallet``.
        key: the signing key; users: who can sign in; settings: lifetimes.
        clock: seconds since the epoch for the provider's own records (codes, refresh tokens, CIBA).
    """

    def __init__(
        self,
        issuer: str,
        key: ProviderKey,
        users: Mapping[str, PscUser],
        *,
        settings: ProviderSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.key = key
        self.users = dict(users)
        self.settings = settings or ProviderSettings()
        self.clock = clock
        self.store = ProviderStore(clock)
        self.public_keys = ProviderKeys(key.jwks())
        self.server = _Server(self)
        self.server.register_token_generator("default", _AccessTokens(self))
        self.server.register_client_auth_method(_JWT_METHOD, _ClientAssertion(self))
        self.server.register_client_auth_method("tls_client_auth", _tls_client_auth)
        self.server.register_grant(_CodeGrant, [_S256Challenge(required=True), _OpenID(self)])
        self.server.register_grant(_RefreshGrant, [_OpenIDToken(self)])
        self.server.register_grant(_CibaGrant, [_OpenIDToken(self)])
        self.server.register_grant(_ExchangeGrant)
        self.server.register_endpoint(_Introspection)
        self.server.register_endpoint(_EndSession)

    # --- endpoints' URLs ---------------------------------------------------------------------------

    def set_issuer(self, issuer: str) -> None:
        """Change the issuer (once the server's port is known); tokens issued before no longer validate."""
        self.issuer = issuer
        for generator in self.server._token_generators.values():
            generator.issuer = issuer

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    def metadata(self) -> dict[str, Any]:
        base = f"{self.issuer}/protocol/openid-connect"
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": self.token_endpoint,
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/certs",
            "introspection_endpoint": f"{base}/token/introspect",
            "end_session_endpoint": f"{base}/logout",
            "backchannel_authentication_endpoint": f"{base}/ext/ciba/auth",
            "grant_types_supported": ["authorization_code", "refresh_token", CIBA_GRANT, TOKEN_EXCHANGE_GRANT],
            "response_types_supported": ["code"],
            "scopes_supported": _SCOPES,
            "acr_values_supported": ["eidas1"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": _AUTH_METHODS,
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["RS256"],
            "backchannel_token_delivery_modes_supported": ["poll"],
            "tls_client_certificate_bound_access_tokens": False,
            "subject_types_supported": ["public"],
        }

    # --- records -----------------------------------------------------------------------------------

    def register_client(self, client: MockClient) -> None:
        with self.store.lock:
            self.store.clients[client.client_id] = client

    def save_refresh(self, token: Mapping[str, Any], request: OAuth2Request) -> None:
        refresh = token.get("refresh_token")
        if not refresh or request.user is None:
            return
        record = RefreshRecord(
            refresh,
            request.client.client_id,
            request.user,
            str(token.get("scope", "")),
            self.clock() + self.settings.refresh_lifetime,
            getattr(request, "sid", None) or secrets.token_urlsafe(12),
        )
        with self.store.lock:
            self.store.purge_expired(self.clock())
            self.store.refresh[refresh] = record

    def validate_psc_access_token(self, token: str) -> Mapping[str, Any]:
        """A PSC access token as this provider issues it (subject token of an exchange, UserInfo Bearer): signed,
        of this issuer, unexpired, **an access token** (header ``typ`` ``at+jwt``, RFC 9068, and claim ``typ``
        ``Bearer``, as Keycloak writes it) — not an ID token — and not a token already exchanged for the DMP
        (its audience), which would otherwise renew itself forever.

        Raises:
            PscTokenError: rule ``token_type`` or ``audience``, or a rule of the signature and claims checks.
        """
        verified = validate_access_token(
            token, self.public_keys, issuer=self.issuer, audience=None, now=int(time.time())
        )
        claims = verified.claims
        if str(verified.header.get("typ", "")).lower() != "at+jwt" or claims.get("typ") != "Bearer":
            raise PscTokenError("not a PSC access token (an ID token, or another kind of JWT)", rule="token_type")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.settings.dmp_audience in audiences:
            raise PscTokenError("a token issued for the DMP is not a PSC access token", rule="audience")
        return claims

    def exchanged_token(self, claims: Mapping[str, Any], client: MockClient) -> dict[str, Any]:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.settings.dmp_audience,
            "sub": claims.get("sub"),
            "SubjectNameID": claims.get("SubjectNameID"),
            "azp": client.client_id,
            "iat": now,
            "exp": now + self.settings.exchanged_lifetime,
            "jti": generate_token(16),
            "act": {"sub": client.client_id},
        }
        token = jwt.encode({"alg": "RS256", "typ": "at+jwt"}, payload, self.key.signing_set)
        return {
            "access_token": token,
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": self.settings.exchanged_lifetime,
        }

    def describe_token(self, token: str) -> dict[str, Any] | None:
        """Introspection claims of an active access token (with ``SubjectNameID``) or refresh token."""
        with self.store.lock:
            record = self.store.refresh.get(token)
        if record is not None:
            if record.revoked or self.clock() >= record.expires_at:
                return None
            return {
                "typ": "Refresh",
                "client_id": record.client_id,
                "sub": record.user.sub,
                "exp": int(record.expires_at),
            }
        try:
            claims = dict(self.validate_psc_access_token(token))
        except PscTokenError:
            return None
        keep = ("exp", "iat", "auth_time", "jti", "iss", "sub", "azp", "scope", "client_id", "acr", "SubjectNameID")
        return {"typ": "Bearer", **{k: claims[k] for k in keep if k in claims}}

    def start_ciba(self, client: MockClient, form: Mapping[str, str]) -> dict[str, Any]:
        """Register a backchannel request for a known professional (``login_hint`` = national id)."""
        user = self.users.get(form.get("login_hint", ""))
        if user is None:
            raise _CibaError("unknown_user_id", "login_hint names no known professional")
        if form.get("channel") not in ("CARD", "MOBILE"):
            raise InvalidRequestError("channel must be CARD or MOBILE")
        if form.get("acr_values", "eidas1") != "eidas1":
            raise InvalidRequestError("only acr_values=eidas1 is accepted")
        auth_req_id = generate_token(40)
        record = CibaRequest(
            auth_req_id,
            client.client_id,
            user,
            form.get("scope", "openid scope_all"),
            form.get("binding_message", ""),
            form["channel"],
            self.clock() + self.settings.ciba_lifetime,
            self.settings.ciba_interval,
        )
        record.last_poll = self.clock() - self.settings.ciba_interval
        with self.store.lock:
            self.store.purge_expired(self.clock())
            self.store.ciba[auth_req_id] = record
        return {"auth_req_id": auth_req_id, "expires_in": self.settings.ciba_lifetime, "interval": record.interval}

    def auto_approve(self, record: CibaRequest, now: float) -> None:
        delay = self.settings.ciba_auto_approve_after
        started = record.expires_at - self.settings.ciba_lifetime
        if delay is not None and record.status == "pending" and now >= started + delay:
            record.status = "approved"

    def decide_ciba(self, auth_req_id: str, *, approve: bool) -> CibaRequest:
        """The professional's answer on his phone or card reader (tests, ``dmp mock psc approve``)."""
        with self.store.lock:
            record = self.store.ciba.get(auth_req_id)
            if record is None or record.status != "pending":
                raise KeyError("no pending CIBA request with this id")
            record.status = "approved" if approve else "denied"
            return record

    def pending_ciba(self) -> list[CibaRequest]:
        with self.store.lock:
            return [r for r in self.store.ciba.values() if r.status == "pending" and self.clock() < r.expires_at]
