"""Pro Santé Connect on the wire, without I/O: requests to build, answers to read (reference §11).

The OAuth 2 / OpenID Connect parameter encoding, PKCE and client authentication come from authlib's
protocol layer (``prepare_grant_uri``, ``prepare_token_request``, ``create_s256_code_challenge``,
``ClientAuth``, ``PrivateKeyJWT``). What authlib lacks is here: the CIBA backchannel request and its
polling errors, RFC 8693 token exchange, PSC's discovery checks, and typed errors. authlib's httpx
integration is not used: it targets httpx2 (and warns on httpx 0.x), while the SDK has one HTTP
stack and drives these pure functions from a sync and an async shell (:mod:`dmpclient.psc.client`).
"""

from __future__ import annotations

import dmpclient.psc._require  # noqa: F401  (first: a clear error without the psc extra)

# isort: split

import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from dmpclient.psc.errors import (
    PscAccessDenied,
    PscCallbackError,
    PscError,
    PscProviderError,
    PscRequestExpired,
    PscSignInRequired,
    provider_text,
)
from dmpclient.psc.profile import TOKEN_EXCHANGE_GRANT, ClientAuthMethod, TokenExchangeSettings, https_url

__all__ = [
    "CIBA_GRANT",
    "Channel",
    "CibaStarted",
    "ClientCredentials",
    "HttpAnswer",
    "HttpRequest",
    "PendingAuthorization",
    "ProviderMetadata",
    "TokenSet",
    "authorization_request",
    "callback_code",
    "ciba_poll_request",
    "ciba_request",
    "code_token_request",
    "end_session_url",
    "exchange_request",
    "introspection_request",
    "parse_ciba_started",
    "parse_json",
    "parse_metadata",
    "parse_token_set",
    "raise_for_oauth_error",
    "refresh_request",
    "userinfo_request",
]

CIBA_GRANT: Final = "urn:openid:params:grant-type:ciba"
_FORM: Final = "application/x-www-form-urlencoded"
_MAX_ANSWER: Final = 1024 * 1024
Channel = Literal["CARD", "MOBILE"]


@dataclass(frozen=True, slots=True, repr=False)
class HttpRequest:
    """One HTTP exchange to perform (``data`` is a form body, already client-authenticated)."""

    method: Literal["GET", "POST"]
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None

    def __repr__(self) -> str:  # bodies and headers carry secrets
        return f"HttpRequest({self.method} {self.url})"


@dataclass(frozen=True, slots=True, repr=False)
class HttpAnswer:
    """What came back: status, content type, raw body."""

    status: int
    content_type: str
    body: bytes

    def __repr__(self) -> str:
        return f"HttpAnswer({self.status} {self.content_type})"


class ProviderMetadata(BaseModel):
    """The provider's discovery document (the endpoints the SDK uses; unknown members ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None
    introspection_endpoint: str | None = None
    revocation_endpoint: str | None = None
    backchannel_authentication_endpoint: str | None = None
    code_challenge_methods_supported: tuple[str, ...] = ()
    mtls_endpoint_aliases: dict[str, str] = {}

    @field_validator(
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "end_session_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "backchannel_authentication_endpoint",
    )
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return https_url(value, "every provider endpoint")

    def endpoint(self, name: str, *, mtls: bool) -> str:
        """An endpoint URL; with mutual TLS, its ``mtls_endpoint_aliases`` entry when published (RFC 8705)."""
        url = self.mtls_endpoint_aliases.get(name) if mtls else None
        value = url or getattr(self, name)
        if not value:
            raise PscError(f"the provider does not publish {name}; this flow is not available there")
        return str(https_url(value, name))


def parse_metadata(answer: HttpAnswer, expected_issuer: str) -> ProviderMetadata:
    """Read a discovery document; its ``issuer`` must be exactly the configured one (OIDC Discovery §4.3)."""
    document = parse_json(answer, "discovery document")
    try:
        metadata = ProviderMetadata.model_validate(document)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise PscError(f"the provider's discovery document is invalid at {where}") from None
    if metadata.issuer.rstrip("/") != expected_issuer.rstrip("/"):
        raise PscError(
            "the discovery document names another issuer than the configured one: check psc.issuer / environment"
        )
    return metadata


class ClientCredentials:
    """How this client authenticates to the provider: authlib's encoders, plus ``tls_client_auth``.

    ``tls_client_auth`` (RFC 8705) sends only ``client_id`` in the body; the TLS layer carries the
    structure's certificate (the transport is built with it). Secrets and keys are never shown.
    """

    def __init__(
        self,
        client_id: str,
        method: ClientAuthMethod,
        *,
        secret: str | None = None,
        private_key: Any = None,
        key_id: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.method = method
        self._secret = secret
        self._private_key = private_key
        self._headers = {"kid": key_id} if key_id else None

    def __repr__(self) -> str:
        return f"ClientCredentials({self.client_id!r}, {self.method})"

    @property
    def uses_tls(self) -> bool:
        return self.method == "tls_client_auth"

    def apply(self, url: str, form: Mapping[str, str], audience: str) -> HttpRequest:
        """A client-authenticated form POST to ``url`` (``audience``: the token endpoint, for JWT assertions)."""
        body = urlencode(list(form.items()))
        headers = {"Content-Type": _FORM, "Accept": "application/json"}
        if self.method == "private_key_jwt":
            auth = ClientAuth(self.client_id, self._private_key, PrivateKeyJWT(audience, headers=self._headers))
        elif self.method == "tls_client_auth":
            auth = ClientAuth(self.client_id, None, "none")
        else:
            auth = ClientAuth(self.client_id, self._secret, self.method)
        url, headers, body = auth.prepare("POST", url, headers, body)
        return HttpRequest("POST", url, headers, body)


@dataclass(frozen=True, slots=True, repr=False)
class PendingAuthorization:
    """What a client keeps between sending the user to PSC and the callback (in the user's web session).

    ``url`` is where to send the browser; ``state``, ``nonce`` and ``code_verifier`` must stay secret
    on the client side (never in a log or a URL of ours).
    """

    url: str
    redirect_uri: str
    state: str
    nonce: str
    code_verifier: str

    def __repr__(self) -> str:
        return f"PendingAuthorization(redirect_uri={self.redirect_uri!r})"

    def to_dict(self) -> dict[str, str]:
        """For a server-side web session store."""
        return {k: getattr(self, k) for k in ("url", "redirect_uri", "state", "nonce", "code_verifier")}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> PendingAuthorization:
        return cls(**{k: str(data[k]) for k in ("url", "redirect_uri", "state", "nonce", "code_verifier")})


def authorization_request(
    metadata: ProviderMetadata,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    acr_values: str,
    new_secret: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    extra: Mapping[str, str] | None = None,
) -> PendingAuthorization:
    """The authorization URL (code flow, PKCE S256, state, nonce, ``acr_values``; reference §11.2)."""
    state, nonce, verifier = new_secret(), new_secret(), new_secret() + new_secret()
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        nonce=nonce,
        acr_values=acr_values,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
        **dict(extra or {}),
    )
    return PendingAuthorization(url, redirect_uri, state, nonce, verifier)


def callback_code(callback_url: str, pending: PendingAuthorization) -> str:
    """The authorization code of a redirect back from PSC, after checking it answers ``pending``.

    Raises:
        PscCallbackError: wrong ``state`` (forged or stale redirect), an ``error`` answer, or no code.
    """
    parts = urlsplit(callback_url)
    expected = urlsplit(pending.redirect_uri)
    if (parts.scheme, parts.netloc, parts.path) != (expected.scheme, expected.netloc, expected.path):
        raise PscCallbackError("the callback URL is not the redirect URI of this sign-in")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    state = params.get("state", "")
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise PscCallbackError("the callback's state is not the one of this sign-in (forged or stale redirect)")
    if "error" in params:
        error = provider_text(params["error"])
        detail = provider_text(params.get("error_description", ""))
        raise PscCallbackError(f"Pro Santé Connect refused the sign-in: {error}" + (f" ({detail})" if detail else ""))
    code = params.get("code")
    if not code:
        raise PscCallbackError("the callback carries no authorization code")
    return code


def code_token_request(
    metadata: ProviderMetadata, credentials: ClientCredentials, code: str, pending: PendingAuthorization
) -> HttpRequest:
    """Exchange an authorization code (with the PKCE verifier)."""
    form = prepare_token_request(
        "authorization_code", code=code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier
    )
    return _token_post(metadata, credentials, dict(parse_qsl(form)))


def refresh_request(metadata: ProviderMetadata, credentials: ClientCredentials, refresh_token: str) -> HttpRequest:
    return _token_post(metadata, credentials, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def _token_post(metadata: ProviderMetadata, credentials: ClientCredentials, form: Mapping[str, str]) -> HttpRequest:
    url = metadata.endpoint("token_endpoint", mtls=credentials.uses_tls)
    return credentials.apply(url, form, metadata.token_endpoint)


def ciba_request(
    metadata: ProviderMetadata,
    credentials: ClientCredentials,
    *,
    login_hint: str,
    binding_message: str,
    channel: Channel,
    scope: str,
    acr_values: str,
) -> HttpRequest:
    """The CIBA backchannel authentication request (PSC adds ``channel`` CARD | MOBILE; reference §11.2)."""
    url = metadata.endpoint("backchannel_authentication_endpoint", mtls=credentials.uses_tls)
    form = {
        "scope": scope,
        "acr_values": acr_values,
        "login_hint": login_hint,
        "binding_message": binding_message,
        "channel": channel,
    }
    return credentials.apply(url, form, metadata.token_endpoint)


@dataclass(frozen=True, slots=True, repr=False)
class CibaStarted:
    """A CIBA request the professional must now approve (on the card reader or the e-CPS app).

    Attributes:
        auth_req_id: the request id (secret; needed only to poll).
        binding_message: the code shown to the user, to compare with what the app shows.
        expires_in, interval: seconds.
    """

    auth_req_id: str
    binding_message: str
    expires_in: int
    interval: int

    def __repr__(self) -> str:
        return f"CibaStarted(binding_message={self.binding_message!r}, expires_in={self.expires_in})"


def parse_ciba_started(answer: HttpAnswer, binding_message: str) -> CibaStarted:
    document = parse_json(answer, "CIBA answer")
    raise_for_oauth_error(answer.status, document)
    auth_req_id, expires_in = document.get("auth_req_id"), document.get("expires_in")
    if not isinstance(auth_req_id, str) or not auth_req_id or not isinstance(expires_in, int):
        raise PscError("the CIBA answer lacks auth_req_id or expires_in")
    interval = document.get("interval", 5)
    return CibaStarted(auth_req_id, binding_message, expires_in, interval if isinstance(interval, int) else 5)


def ciba_poll_request(metadata: ProviderMetadata, credentials: ClientCredentials, auth_req_id: str) -> HttpRequest:
    return _token_post(metadata, credentials, {"grant_type": CIBA_GRANT, "auth_req_id": auth_req_id})


def exchange_request(
    settings: TokenExchangeSettings, credentials: ClientCredentials, subject_token: str
) -> HttpRequest:
    """RFC 8693 token exchange of the PSC access token at the DMP side's authorisation server (§11.5)."""
    form = {
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": subject_token,
        "subject_token_type": settings.subject_token_type,
    }
    optional = {
        "scope": settings.scope,
        "audience": settings.audience,
        "resource": settings.resource,
        "subject_issuer": settings.subject_issuer,
    }
    form.update({k: v for k, v in optional.items() if v})
    return credentials.apply(settings.token_endpoint, form, settings.token_endpoint)


def introspection_request(
    metadata: ProviderMetadata, credentials: ClientCredentials, token: str, hint: str | None = None
) -> HttpRequest:
    url = metadata.endpoint("introspection_endpoint", mtls=credentials.uses_tls)
    form = {"token": token, **({"token_type_hint": hint} if hint else {})}
    return credentials.apply(url, form, metadata.token_endpoint)


def userinfo_request(metadata: ProviderMetadata, access_token: str, *, mtls: bool) -> HttpRequest:
    url = metadata.endpoint("userinfo_endpoint", mtls=mtls)
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json, application/jwt"}
    return HttpRequest("GET", url, headers)


def end_session_url(
    metadata: ProviderMetadata,
    *,
    id_token_hint: str,
    client_id: str,
    post_logout_redirect_uri: str | None = None,
    state: str | None = None,
) -> str:
    """The RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0; reference §11.2)."""
    params = {"id_token_hint": id_token_hint, "client_id": client_id}
    if post_logout_redirect_uri:
        params["post_logout_redirect_uri"] = post_logout_redirect_uri
    if state:
        params["state"] = state
    base = metadata.endpoint("end_session_endpoint", mtls=False)
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


@dataclass(frozen=True, slots=True, repr=False)
class TokenSet:
    """A token endpoint answer (times are relative: ``expires_in`` seconds). Never printed."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    id_token: str | None = None
    scope: str | None = None
    issued_token_type: str | None = None

    def __repr__(self) -> str:
        return f"TokenSet(expires_in={self.expires_in}, refresh_expires_in={self.refresh_expires_in})"


def parse_token_set(answer: HttpAnswer, *, refreshing: bool = False) -> TokenSet:
    """Read a token answer; OAuth errors become typed errors (``invalid_grant`` on refresh: sign in again)."""
    document = parse_json(answer, "token answer")
    if refreshing and document.get("error") == "invalid_grant":
        raise PscSignInRequired("the Pro Santé Connect session has expired or was ended: sign in again")
    raise_for_oauth_error(answer.status, document)
    access, token_type, expires_in = (
        document.get("access_token"),
        document.get("token_type"),
        document.get("expires_in"),
    )
    if not isinstance(access, str) or not access:
        raise PscError("the token answer has no access_token")
    if not isinstance(token_type, str) or token_type.lower() not in ("bearer", "n_a"):
        raise PscError("the token answer is not a Bearer token")
    if not isinstance(expires_in, int) or expires_in <= 0:
        raise PscError("the token answer has no valid expires_in")
    return TokenSet(
        access_token=access,
        expires_in=expires_in,
        refresh_token=_optional_str(document, "refresh_token"),
        refresh_expires_in=_optional_int(document, "refresh_expires_in"),
        id_token=_optional_str(document, "id_token"),
        scope=_optional_str(document, "scope"),
        issued_token_type=_optional_str(document, "issued_token_type"),
    )


def _optional_str(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) and value else None


def _optional_int(document: Mapping[str, Any], key: str) -> int | None:
    value = document.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_ERRORS: Final[Mapping[str, type[PscProviderError]]] = {
    "access_denied": PscAccessDenied,
    "unauthorized_client": PscAccessDenied,
    "expired_token": PscRequestExpired,
}


def raise_for_oauth_error(status: int, document: Mapping[str, Any]) -> None:
    """Raise the typed error of an OAuth error answer (RFC 6749 §5.2, CIBA §11, RFC 8693 §2.2.2)."""
    if "error" not in document and 200 <= status < 300:
        return
    error = provider_text(document.get("error") or f"http_{status}")
    description = provider_text(document.get("error_description", ""))
    kind = _ERRORS.get(error, PscProviderError)
    message = f"Pro Santé Connect answered {error}" + (f": {description}" if description else "")
    raise kind(message, error=error, status_code=status)


def parse_json(answer: HttpAnswer, what: str) -> dict[str, Any]:
    """A JSON object answer (bounded), or a clear error; HTTP errors with OAuth bodies stay readable."""
    if len(answer.body) > _MAX_ANSWER:
        raise PscError(f"the provider's {what} is larger than {_MAX_ANSWER} bytes")
    try:
        document = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        raise PscError(f"the provider's {what} is not JSON (HTTP {answer.status})") from None
    if not isinstance(document, dict):
        raise PscError(f"the provider's {what} is not a JSON object (HTTP {answer.status})")
    return document
