"""The Pro Santé Connect flows as generators: they yield the HTTP exchanges (and waits) they need.

A flow is pure: it yields :class:`~dmpclient.psc.protocol.HttpRequest` or :class:`Sleep` and receives
the :class:`~dmpclient.psc.protocol.HttpAnswer` (or ``None`` after a sleep). The sync and async clients
(:mod:`dmpclient.psc.client`) only drive them, so both behave identically and tests can drive them
with recorded answers. Discovery and the JWKS are fetched once per :class:`Provider` (the JWKS again
when a token names an unknown ``kid``: key rotation).
"""

from __future__ import annotations

import dmpclient.psc._require  # noqa: F401  (first: a clear error without the psc extra)

# isort: split

import secrets
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urlencode

from dmpclient.psc.config import PscConfig
from dmpclient.psc.errors import PscError, PscProviderError, PscRequestExpired, PscTokenError
from dmpclient.psc.identity import PscIdentity
from dmpclient.psc.profile import TokenExchangeSettings
from dmpclient.psc.protocol import (
    Channel,
    CibaStarted,
    ClientCredentials,
    HttpAnswer,
    HttpRequest,
    PendingAuthorization,
    ProviderMetadata,
    TokenSet,
    callback_code,
    ciba_poll_request,
    ciba_request,
    code_token_request,
    exchange_request,
    introspection_request,
    parse_ciba_started,
    parse_json,
    parse_metadata,
    parse_token_set,
    raise_for_oauth_error,
    refresh_request,
    userinfo_request,
)
from dmpclient.psc.tokens import ProviderKeys, Verified, validate_id_token, validate_userinfo_jwt

__all__ = ["Flow", "Provider", "SignedIn", "Sleep"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait before the next step (CIBA polling)."""

    seconds: float


Flow = Generator[HttpRequest | Sleep, HttpAnswer | None, T]

#: CIBA §11: on ``slow_down`` the interval grows by 5 s for this and later polls.
_SLOW_DOWN_STEP = 5


@dataclass(frozen=True, slots=True, repr=False)
class SignedIn:
    """The outcome of a sign-in: tokens, whom the validated ID token names (``sub``), the professional, when."""

    tokens: TokenSet
    subject: str
    identity: PscIdentity
    obtained_at: float

    def __repr__(self) -> str:
        return f"SignedIn({self.identity!r})"


class Provider:
    """One PSC provider as seen by one client: configuration, credentials, cached metadata and keys."""

    def __init__(self, config: PscConfig, credentials: ClientCredentials, clock: Callable[[], float]) -> None:
        self.config = config
        self.credentials = credentials
        self.clock = clock
        self._metadata: ProviderMetadata | None = None
        self._keys: ProviderKeys | None = None

    def now(self) -> int:
        return int(self.clock())

    def metadata(self) -> Flow[ProviderMetadata]:
        if self._metadata is None:
            answer = yield HttpRequest("GET", self.config.discovery_url, {"Accept": "application/json"})
            self._metadata = parse_metadata(_answer(answer), self.config.issuer_url)
        return self._metadata

    def keys(self, *, refresh: bool = False) -> Flow[ProviderKeys]:
        if self._keys is None or refresh:
            metadata = yield from self.metadata()
            answer = _answer((yield HttpRequest("GET", metadata.jwks_uri, {"Accept": "application/json"})))
            self._keys = ProviderKeys(parse_json(answer, "JWKS"))
        return self._keys

    def with_keys(self, check: Callable[[ProviderKeys], Verified]) -> Flow[Verified]:
        """Run a token check; on an unknown ``kid``, fetch the JWKS once more (rotation) and retry."""
        keys = yield from self.keys()
        try:
            return check(keys)
        except PscTokenError as exc:
            if exc.rule != "unknown_key":
                raise
        keys = yield from self.keys(refresh=True)
        return check(keys)

    # --- token endpoint -------------------------------------------------------------------------

    def token(self, request: HttpRequest, *, refreshing: bool = False) -> Flow[TokenSet]:
        answer = yield request
        return parse_token_set(_answer(answer), refreshing=refreshing)

    def signed_in(self, tokens: TokenSet, nonce: str | None) -> Flow[SignedIn]:
        """Validate the ID token, fetch UserInfo, check both name the same ``sub`` (OIDC Core §5.3.4)."""
        if tokens.id_token is None:
            raise PscError("the provider returned no ID token: is 'openid' in psc.scope?")
        verified = yield from self._id_token(tokens.id_token, nonce=nonce, acr=self.config.acr_values)
        return (yield from self._identified(tokens, str(verified.claims["sub"])))

    def resumed(self, refresh_token: str, subject: str, id_token_hint: str) -> Flow[SignedIn]:
        """A saved session again: refresh (a new ID token is checked as in :meth:`refresh`), read UserInfo.

        The identity was validated when the session was saved, so the saved ID token (often expired by
        now) is not validated again: it stays the logout hint when the refresh answer carries no new one.
        """
        tokens = yield from self.refresh(refresh_token, subject)
        if tokens.id_token is None:
            tokens = replace(tokens, id_token=id_token_hint or None)
        return (yield from self._identified(tokens, subject))

    def _identified(self, tokens: TokenSet, subject: str) -> Flow[SignedIn]:
        """UserInfo of the access token, which must describe ``subject`` (OIDC Core §5.3.4)."""
        claims = yield from self.userinfo(tokens.access_token)
        if claims.get("sub") != subject:
            raise PscTokenError("UserInfo describes another subject than the ID token", rule="subject")
        return SignedIn(tokens, subject, PscIdentity(claims), self.clock())

    def _id_token(self, id_token: str, *, nonce: str | None, acr: str | None) -> Flow[Verified]:
        return (
            yield from self.with_keys(
                lambda keys: validate_id_token(
                    id_token,
                    keys,
                    issuer=self.config.issuer_url,
                    client_id=self.config.client_id,
                    nonce=nonce,
                    now=self.now(),
                    leeway=self.config.leeway,
                    acr=acr,
                )
            )
        )

    # --- flows ----------------------------------------------------------------------------------

    def finish_code(self, callback_url: str, pending: PendingAuthorization) -> Flow[SignedIn]:
        code = callback_code(callback_url, pending)
        metadata = yield from self.metadata()
        tokens = yield from self.token(code_token_request(metadata, self.credentials, code, pending))
        return (yield from self.signed_in(tokens, pending.nonce))

    def start_ciba(self, login_hint: str, channel: Channel, binding_message: str | None) -> Flow[CibaStarted]:
        metadata = yield from self.metadata()
        message = binding_message or f"{secrets.randbelow(100):02d}"
        request = ciba_request(
            metadata,
            self.credentials,
            login_hint=login_hint,
            binding_message=message,
            channel=channel,
            scope=self.config.scope,
            acr_values=self.config.acr_values,
        )
        answer = yield request
        return parse_ciba_started(_answer(answer), message)

    def wait_ciba(self, started: CibaStarted) -> Flow[SignedIn]:
        """Poll the token endpoint every ``interval`` s until approval, refusal or expiry (CIBA §7.3, §11)."""
        metadata = yield from self.metadata()
        interval, deadline = max(started.interval, 1), self.clock() + started.expires_in
        while True:
            yield Sleep(interval)
            if self.clock() > deadline:
                raise PscRequestExpired("the CIBA request expired before approval: start again", error="expired_token")
            try:
                tokens = yield from self.token(ciba_poll_request(metadata, self.credentials, started.auth_req_id))
            except PscProviderError as exc:
                if exc.error == "authorization_pending":
                    continue
                if exc.error == "slow_down":
                    interval += _SLOW_DOWN_STEP
                    continue
                raise
            return (yield from self.signed_in(tokens, None))

    def refresh(self, refresh_token: str, subject: str | None = None) -> Flow[TokenSet]:
        """New tokens; an ID token in the answer is validated before anyone uses it (OIDC Core §12.2).

        It must be signed by the provider for this client (``iss``, ``aud``, ``azp``, ``exp``, ``iat``) and,
        when ``subject`` is given, name that ``sub``. No nonce (none is sent on refresh) and no ``acr``
        check: the authentication level is the original sign-in's, checked then.
        """
        metadata = yield from self.metadata()
        request = refresh_request(metadata, self.credentials, refresh_token)
        tokens = yield from self.token(request, refreshing=True)
        if tokens.id_token is not None:
            verified = yield from self._id_token(tokens.id_token, nonce=None, acr=None)
            if subject is not None and verified.claims.get("sub") != subject:
                raise PscTokenError("the refreshed ID token names another subject than the session", rule="subject")
        return tokens

    def userinfo(self, access_token: str) -> Flow[dict[str, Any]]:
        """UserInfo as JSON, or as a signed JWT (validated: issuer, audience, signature)."""
        metadata = yield from self.metadata()
        answer = _answer((yield userinfo_request(metadata, access_token, mtls=self.credentials.uses_tls)))
        if answer.content_type.split(";")[0].strip().lower() == "application/jwt":
            if answer.status != 200:
                raise PscError(f"UserInfo answered HTTP {answer.status}")
            token = answer.body.decode("ascii", errors="replace").strip()
            verified = yield from self.with_keys(
                lambda keys: validate_userinfo_jwt(
                    token, keys, issuer=self.config.issuer_url, client_id=self.config.client_id, now=self.now()
                )
            )
            return dict(verified.claims)
        document = parse_json(answer, "UserInfo answer")
        raise_for_oauth_error(answer.status, document)
        return document

    def introspect(self, token: str, hint: str | None = None) -> Flow[dict[str, Any]]:
        metadata = yield from self.metadata()
        answer = _answer((yield introspection_request(metadata, self.credentials, token, hint)))
        document = parse_json(answer, "introspection answer")
        raise_for_oauth_error(answer.status, document)
        return document

    def exchange(
        self, settings: TokenExchangeSettings, credentials: ClientCredentials, subject_token: str
    ) -> Flow[TokenSet]:
        return (yield from self.token(exchange_request(settings, credentials, subject_token)))

    def end_session(self, id_token: str) -> Flow[None]:
        """RP-initiated logout without a browser: a form POST, so the ID token never sits in a logged URL."""
        metadata = yield from self.metadata()
        form = urlencode({"id_token_hint": id_token, "client_id": self.config.client_id})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html, application/json"}
        request = HttpRequest("POST", metadata.endpoint("end_session_endpoint", mtls=False), headers, form)
        answer = _answer((yield request))
        if answer.status >= 400:
            raise PscError(f"the provider's logout endpoint answered HTTP {answer.status}")


def _answer(answer: HttpAnswer | None) -> HttpAnswer:
    if answer is None:  # pragma: no cover - a driver bug
        raise RuntimeError("the flow driver sent no answer to an HTTP step")
    return answer
