"""The Pro Santé Connect clients: :class:`PscClient` (sync) and :class:`AsyncPscClient`, over httpx.

This package is an HTTP client of its own (the provider is not the DMP): like ``dmpclient._client`` it
imports httpx, and only here. Both clients drive the same pure flows (:mod:`dmpclient.psc.flows`);
they differ only in awaiting. TLS: the provider's certificate is checked against the system store (or
``psc.ca_bundle``); with ``tls_client_auth`` the structure's certificate (ORG AUTH_CLI) is presented.
"""

from __future__ import annotations

import dmpclient.psc._require  # noqa: F401  (first: a clear error without the psc extra)

# isort: split

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from dmpclient.config import DmpConfig
from dmpclient.errors import DmpConfigError, DmpConnectError, DmpTimeoutError, DmpTlsError, DmpTransportError
from dmpclient.psc.config import PscConfig
from dmpclient.psc.flows import Flow, Provider, Sleep
from dmpclient.psc.profile import ClientAuthMethod, TokenExchangeSettings
from dmpclient.psc.protocol import (
    Channel,
    CibaStarted,
    ClientCredentials,
    HttpAnswer,
    HttpRequest,
    PendingAuthorization,
    ProviderMetadata,
    TokenSet,
    authorization_request,
    end_session_url,
)
from dmpclient.security.credentials import Credential
from dmpclient.security.tls import diagnose_tls_failure, web_client_context

if TYPE_CHECKING:
    from dmpclient.psc.session import AsyncPscSession, PscSession

__all__ = ["AsyncPscClient", "PscClient"]

T = TypeVar("T")
_MAX_ANSWER = 1024 * 1024


def _credentials(
    config: PscConfig, method: ClientAuthMethod, client_id: str, env: Mapping[str, str] | None
) -> ClientCredentials:
    if method.startswith("client_secret"):
        return ClientCredentials(client_id, method, secret=config.client_secret(env))
    if method == "private_key_jwt":
        return ClientCredentials(client_id, method, private_key=_jwt_key(config.jwt_key), key_id=config.jwt_key_id)
    return ClientCredentials(client_id, method)


def _jwt_key(path: Path | None) -> RSAKey:
    """The ``private_key_jwt`` signing key: an unencrypted PEM RSA key (authlib signs RS256).

    Raises:
        DmpConfigError: the file is missing, unreadable, encrypted, not PEM or not RSA (the message names
            the file, never its content).
    """
    if path is None or not path.is_file():
        raise DmpConfigError("psc.jwt_key: the private_key_jwt key file does not exist", field="psc.jwt_key")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise DmpConfigError(f"psc.jwt_key: cannot read {path}: {exc.strerror}", field="psc.jwt_key") from None
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise DmpConfigError(
            f"psc.jwt_key: {path} is encrypted; give an unencrypted PEM key (kept mode 0600)", field="psc.jwt_key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise DmpConfigError(f"psc.jwt_key: {path} is not a PEM private key", field="psc.jwt_key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DmpConfigError(
            f"psc.jwt_key: {path} holds a {type(key).__name__}; private_key_jwt needs an RSA key (RS256)",
            field="psc.jwt_key",
        )
    return RSAKey.import_key(key)


def _needs_tls(config: PscConfig) -> bool:
    exchange = config.dmp.token_exchange
    return config.auth_method == "tls_client_auth" or (
        exchange is not None and exchange.auth_method == "tls_client_auth"
    )


def _transport_error(exc: httpx.RequestError, request: HttpRequest) -> DmpTransportError:
    host = httpx.URL(request.url).host
    if isinstance(exc, httpx.TimeoutException):
        return DmpTimeoutError(f"Pro Santé Connect ({host}) did not answer in time")
    diagnosis = diagnose_tls_failure(exc, in_handshake=isinstance(exc, httpx.ConnectError))
    if diagnosis is not None:
        return DmpTlsError(f"TLS with Pro Santé Connect ({host}) failed: {diagnosis.detail}; check psc.ca_bundle")
    return DmpConnectError(f"cannot reach Pro Santé Connect ({host}): {type(exc).__name__}")


class _Base:
    """What both clients share: configuration, credentials, the provider state, the URL builders."""

    def __init__(
        self,
        config: PscConfig,
        *,
        tls: Credential | None,
        env: Mapping[str, str] | None,
        clock: Callable[[], float],
    ) -> None:
        if _needs_tls(config) and tls is None:
            raise DmpConfigError(
                "psc: tls_client_auth needs the structure's TLS certificate (DmpConfig credentials.tls)",
                field="psc.auth_method",
            )
        self.config = config
        self.tls = tls
        self.provider = Provider(config, _credentials(config, config.auth_method, config.client_id, env), clock)
        exchange = config.dmp.token_exchange
        self.exchange_credentials = (
            _credentials(config, exchange.auth_method, exchange.client_id or config.client_id, env)
            if exchange
            else None
        )

    @classmethod
    def from_dmp_config(cls, config: DmpConfig, psc: PscConfig, **options: Any) -> Self:
        """A client using the DMP configuration's TLS credential (the structure's certificate) when needed."""
        tls = config.load_tls_credential() if _needs_tls(psc) else None
        return cls(psc, tls=tls, **options)

    def _http_options(self) -> dict[str, Any]:
        return {
            "verify": web_client_context(self.tls if _needs_tls(self.config) else None, self.config.ca_bundle),
            "timeout": self.config.timeout,
            "follow_redirects": False,
            "trust_env": False,
            "headers": {"User-Agent": "dmpclient-psc"},
        }

    def _pending(
        self, metadata: ProviderMetadata, redirect_uri: str | None, extra: Mapping[str, str]
    ) -> PendingAuthorization:
        uri = redirect_uri or self.config.redirect_uri
        if not uri:
            raise DmpConfigError("psc.redirect_uri: give the redirect URI registered at PSC", field="psc.redirect_uri")
        return authorization_request(
            metadata,
            client_id=self.config.client_id,
            redirect_uri=uri,
            scope=self.config.scope,
            acr_values=self.config.acr_values,
            extra=extra,
        )

    def _logout_url(self, metadata: ProviderMetadata, id_token: str, post_logout_redirect_uri: str | None) -> str:
        return end_session_url(
            metadata,
            id_token_hint=id_token,
            client_id=self.config.client_id,
            post_logout_redirect_uri=post_logout_redirect_uri,
        )

    def _exchange_flow(self, subject_token: str) -> Flow[TokenSet]:
        settings: TokenExchangeSettings | None = self.config.dmp.token_exchange
        if settings is None or self.exchange_credentials is None:
            raise DmpConfigError("psc.dmp.token_exchange is not configured", field="psc.dmp.token_exchange")
        return self.provider.exchange(settings, self.exchange_credentials, subject_token)


class PscClient(_Base):
    """Synchronous Pro Santé Connect client (one pooled httpx client; thread-safe).

    Args:
        config: the ``[psc]`` settings.
        tls: the structure's TLS credential, for ``tls_client_auth`` (see :meth:`from_dmp_config`).
        env: where the client secret variable is read (default ``os.environ``).
        http_client: an ``httpx.Client`` to use instead of building one (the caller closes it).
        clock: seconds since the epoch (tests move it); sleep: how CIBA polling waits.
    """

    def __init__(
        self,
        config: PscConfig,
        *,
        tls: Credential | None = None,
        env: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(config, tls=tls, env=env, clock=clock)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(**self._http_options())
        self._sleep = sleep

    def run(self, flow: Flow[T]) -> T:
        """Drive a flow: perform its HTTP steps and waits, return its result."""
        answer: HttpAnswer | None = None
        try:
            while True:
                step = flow.send(answer)
                if isinstance(step, Sleep):
                    self._sleep(step.seconds)
                    answer = None
                else:
                    answer = self._send(step)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def _send(self, request: HttpRequest) -> HttpAnswer:
        try:
            with self._http.stream(
                request.method, request.url, headers=dict(request.headers), content=request.body
            ) as r:
                body = bytearray()
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > _MAX_ANSWER:
                        break
                return HttpAnswer(r.status_code, r.headers.get("content-type", ""), bytes(body))
        except httpx.RequestError as exc:
            raise _transport_error(exc, request) from None

    # --- discovery -------------------------------------------------------------------------------

    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document (fetched once)."""
        return self.run(self.provider.metadata())

    # --- authorization code (web and desktop) ----------------------------------------------------

    def begin_sign_in(self, redirect_uri: str | None = None, **extra: str) -> PendingAuthorization:
        """Where to send the browser (keep the returned object, server-side, until the callback)."""
        return self._pending(self.metadata(), redirect_uri, extra)

    def finish_sign_in(self, callback_url: str, pending: PendingAuthorization) -> PscSession:
        """Handle the redirect back: check state, redeem the code (PKCE), validate the ID token, UserInfo."""
        from dmpclient.psc.session import PscSession  # noqa: PLC0415 - session imports this module

        return PscSession(self, self.run(self.provider.finish_code(callback_url, pending)))

    def sign_in_with_browser(
        self, *, open_browser: Callable[[str], object] | None = None, timeout: float = 300.0, port: int = 0
    ) -> PscSession:
        """Desktop sign-in (RFC 8252): a loopback redirect on 127.0.0.1 and the system browser."""
        from dmpclient.psc.loopback import LoopbackReceiver  # noqa: PLC0415
        from dmpclient.psc.session import PscSession  # noqa: PLC0415

        with LoopbackReceiver(port=port) as receiver:
            pending = self.begin_sign_in(receiver.redirect_uri)
            receiver.open(pending.url, open_browser)
            callback = receiver.wait(timeout)
            return PscSession(self, self.run(self.provider.finish_code(callback, pending)))

    # --- CIBA (no browser: card reader or e-CPS app) ---------------------------------------------

    def start_ciba(
        self, login_hint: str, *, channel: Channel = "MOBILE", binding_message: str | None = None
    ) -> CibaStarted:
        """Ask PSC to authenticate ``login_hint`` (national PS id) out of band; show ``binding_message``."""
        return self.run(self.provider.start_ciba(login_hint, channel, binding_message))

    def wait_ciba(self, started: CibaStarted) -> PscSession:
        """Poll until the professional approves (``interval``, ``slow_down``); raise on refusal or expiry."""
        from dmpclient.psc.session import PscSession  # noqa: PLC0415

        return PscSession(self, self.run(self.provider.wait_ciba(started)))

    def sign_in_ciba(
        self,
        login_hint: str,
        *,
        channel: Channel = "MOBILE",
        binding_message: str | None = None,
        on_started: Callable[[CibaStarted], object] | None = None,
    ) -> PscSession:
        """:meth:`start_ciba`, tell the caller (to show the binding message), then :meth:`wait_ciba`."""
        started = self.start_ciba(login_hint, channel=channel, binding_message=binding_message)
        if on_started is not None:
            on_started(started)
        return self.wait_ciba(started)

    # --- tokens ----------------------------------------------------------------------------------

    def refresh(self, refresh_token: str, *, subject: str | None = None) -> TokenSet:
        """New tokens from a refresh token (:class:`PscSignInRequired` once it has expired).

        A new ID token in the answer is validated (:class:`PscTokenError` otherwise) and, with ``subject``
        (the signed-in ``sub``), must name it.
        """
        return self.run(self.provider.refresh(refresh_token, subject))

    def userinfo(self, access_token: str) -> dict[str, Any]:
        """The UserInfo claims (JSON or a signed JWT, validated)."""
        return self.run(self.provider.userinfo(access_token))

    def introspect(self, token: str, hint: str | None = None) -> dict[str, Any]:
        """RFC 7662 introspection (``active``, ``exp``, ``SubjectNameID`` for access tokens…)."""
        return self.run(self.provider.introspect(token, hint))

    def exchange_token(self, subject_token: str) -> TokenSet:
        """RFC 8693 exchange of a PSC access token at ``psc.dmp.token_exchange`` (reference §11.5)."""
        return self.run(self._exchange_flow(subject_token))

    def end_session_url(self, id_token: str, post_logout_redirect_uri: str | None = None) -> str:
        """Where to send the browser to end the PSC session (RP-initiated logout)."""
        return self._logout_url(self.metadata(), id_token, post_logout_redirect_uri)

    def end_session(self, id_token: str) -> None:
        """End the PSC session without a browser (desktop, CLI): call the logout endpoint directly."""
        self.run(self.provider.end_session(id_token))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncPscClient(_Base):
    """Asynchronous twin of :class:`PscClient` (same arguments, awaited; no loopback browser helper)."""

    def __init__(
        self,
        config: PscConfig,
        *,
        tls: Credential | None = None,
        env: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        super().__init__(config, tls=tls, env=env, clock=clock)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(**self._http_options())
        self._sleep = sleep

    async def run(self, flow: Flow[T]) -> T:
        answer: HttpAnswer | None = None
        try:
            while True:
                step = flow.send(answer)
                if isinstance(step, Sleep):
                    await self._sleep(step.seconds)
                    answer = None
                else:
                    answer = await self._send(step)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def _send(self, request: HttpRequest) -> HttpAnswer:
        try:
            async with self._http.stream(
                request.method, request.url, headers=dict(request.headers), content=request.body
            ) as r:
                body = bytearray()
                async for chunk in r.aiter_bytes():
                    body += chunk
                    if len(body) > _MAX_ANSWER:
                        break
                return HttpAnswer(r.status_code, r.headers.get("content-type", ""), bytes(body))
        except httpx.RequestError as exc:
            raise _transport_error(exc, request) from None

    async def metadata(self) -> ProviderMetadata:
        return await self.run(self.provider.metadata())

    async def begin_sign_in(self, redirect_uri: str | None = None, **extra: str) -> PendingAuthorization:
        return self._pending(await self.metadata(), redirect_uri, extra)

    async def finish_sign_in(self, callback_url: str, pending: PendingAuthorization) -> AsyncPscSession:
        from dmpclient.psc.session import AsyncPscSession  # noqa: PLC0415

        return AsyncPscSession(self, await self.run(self.provider.finish_code(callback_url, pending)))

    async def start_ciba(
        self, login_hint: str, *, channel: Channel = "MOBILE", binding_message: str | None = None
    ) -> CibaStarted:
        return await self.run(self.provider.start_ciba(login_hint, channel, binding_message))

    async def wait_ciba(self, started: CibaStarted) -> AsyncPscSession:
        from dmpclient.psc.session import AsyncPscSession  # noqa: PLC0415

        return AsyncPscSession(self, await self.run(self.provider.wait_ciba(started)))

    async def sign_in_ciba(
        self,
        login_hint: str,
        *,
        channel: Channel = "MOBILE",
        binding_message: str | None = None,
        on_started: Callable[[CibaStarted], object] | None = None,
    ) -> AsyncPscSession:
        started = await self.start_ciba(login_hint, channel=channel, binding_message=binding_message)
        if on_started is not None:
            on_started(started)
        return await self.wait_ciba(started)

    async def refresh(self, refresh_token: str, *, subject: str | None = None) -> TokenSet:
        return await self.run(self.provider.refresh(refresh_token, subject))

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        return await self.run(self.provider.userinfo(access_token))

    async def introspect(self, token: str, hint: str | None = None) -> dict[str, Any]:
        return await self.run(self.provider.introspect(token, hint))

    async def exchange_token(self, subject_token: str) -> TokenSet:
        return await self.run(self._exchange_flow(subject_token))

    async def end_session_url(self, id_token: str, post_logout_redirect_uri: str | None = None) -> str:
        return self._logout_url(await self.metadata(), id_token, post_logout_redirect_uri)

    async def end_session(self, id_token: str) -> None:
        await self.run(self.provider.end_session(id_token))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
