"""A Pro Santé Connect session: tokens in memory, refreshed before they expire, shared safely.

PSC access tokens live 2 minutes, refresh tokens 30 minutes (reference §11.4); the SDK never relies on
those numbers but on each answer's ``expires_in`` / ``refresh_expires_in`` (:data:`DEFAULT_REFRESH_LIFETIME`
when the latter is missing), and refreshes when fewer than ``psc.refresh_margin`` seconds remain. When
the refresh token has expired (or the provider refuses it), :class:`~dmpclient.psc.errors.PscSignInRequired`
tells the application to sign the user in again. One lock serialises refreshes: :class:`PscSession`
(threads) and :class:`AsyncPscSession` (asyncio tasks of one loop). Tokens never appear in a ``repr``,
a log or an error message.

For DMP calls the session gives the :class:`~dmpclient.security.issuer.CallerIdentity` (VIHF) of the
chosen work situation and, when ``psc.dmp.token_exchange`` is configured, the
``Authorization: Bearer`` header of the exchanged token (:class:`HeaderProvider`).
"""

from __future__ import annotations

import dmpclient.psc._require  # noqa: F401  (first: a clear error without the psc extra)

# isort: split

import asyncio
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

import httpx

from dmpclient.psc.errors import PscError, PscSignInRequired, PscTokenError
from dmpclient.psc.flows import Flow, SignedIn
from dmpclient.psc.identity import PscIdentity, WorkSituationChoice
from dmpclient.psc.protocol import TokenSet
from dmpclient.security.issuer import CallerIdentity
from dmpclient.security.vihf_model import PurposeOfUse

if TYPE_CHECKING:
    from dmpclient.psc.client import AsyncPscClient, PscClient

__all__ = [
    "DEFAULT_REFRESH_LIFETIME",
    "AsyncHeaderProvider",
    "AsyncPscSession",
    "HeaderProvider",
    "PscSession",
    "SavedSession",
]

#: The refresh token's life when the provider does not say (no or zero ``refresh_expires_in``): PSC's 30
#: minutes (reference §11.4). A bound, so that a saved session always expires (and is stored as a number).
DEFAULT_REFRESH_LIFETIME: Final = 1800


@runtime_checkable
class HeaderProvider(Protocol):
    """Extra HTTP headers for each DMP call (PSC mode: the exchanged Bearer token; empty when not configured)."""

    def dmp_authorization_header(self) -> Mapping[str, str]: ...


@runtime_checkable
class AsyncHeaderProvider(Protocol):
    """The awaitable form of :class:`HeaderProvider`."""

    async def dmp_authorization_header(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True, repr=False)
class SavedSession:
    """What must survive between two runs of a command-line program: a refresh token, whom it signs in
    (``subject``: the ``sub`` of the ID token validated at sign-in) and the ID token (logout hint).

    Serialise it only to owner-only storage (see :mod:`dmpclient.psc.storage`); it is a credential
    for the rest of the refresh token's life (30 minutes at PSC).
    """

    issuer: str
    client_id: str
    refresh_token: str
    refresh_expires_at: float
    id_token: str
    subject: str

    def __repr__(self) -> str:
        return f"SavedSession(issuer={self.issuer!r}, client_id={self.client_id!r})"


class _State:
    """The tokens and their deadlines (absolute times, from the answers' relative lifetimes)."""

    def __init__(self, signed_in: SignedIn, margin: int) -> None:
        self.margin = margin
        self.identity: PscIdentity = signed_in.identity
        self.subject = signed_in.subject
        self.id_token = signed_in.tokens.id_token or ""
        self.ended = False
        self.refresh_token: str | None = None
        self.refresh_expires_at = 0.0
        self._exchanged: tuple[str, float] | None = None
        self.update(signed_in.tokens, signed_in.obtained_at)

    def update(self, tokens: TokenSet, now: float) -> None:
        self.access_token = tokens.access_token
        self.access_expires_at = now + tokens.expires_in
        if tokens.refresh_token:  # kept as is when a refresh answer carries none
            self.refresh_token = tokens.refresh_token
            self.refresh_expires_at = now + (tokens.refresh_expires_in or DEFAULT_REFRESH_LIFETIME)
        if tokens.id_token:
            self.id_token = tokens.id_token

    def fresh_access(self, now: float) -> str | None:
        self._check_open()
        return self.access_token if now < self.access_expires_at - self.margin else None

    def usable_refresh(self, now: float) -> str:
        self._check_open()
        if self.refresh_token is None or now >= self.refresh_expires_at:
            self.ended = True
            raise PscSignInRequired("the Pro Santé Connect session has expired: sign in again")
        return self.refresh_token

    def exchanged(self, now: float, margin: int) -> str | None:
        if self._exchanged is None or now >= self._exchanged[1] - margin:
            return None
        return self._exchanged[0]

    def set_exchanged(self, tokens: TokenSet, now: float) -> str:
        self._exchanged = (tokens.access_token, now + tokens.expires_in)
        return tokens.access_token

    def _check_open(self) -> None:
        if self.ended:
            raise PscSignInRequired("the Pro Santé Connect session has ended: sign in again")

    def end(self) -> None:
        self.ended = True
        self.access_token, self.refresh_token, self.id_token, self._exchanged = "", None, "", None

    def saved(self, issuer: str, client_id: str, now: float) -> SavedSession:
        refresh = self.usable_refresh(now)
        return SavedSession(issuer, client_id, refresh, self.refresh_expires_at, self.id_token, self.subject)

    def describe(self, now: float) -> str:
        state = "ended" if self.ended else f"access token valid {max(0, int(self.access_expires_at - now))} s"
        return f"({self.identity!r}, {state})"


class _Common:
    _state: _State
    _clock: Callable[[], float]

    @property
    def identity(self) -> PscIdentity:
        """The signed-in professional (UserInfo claims)."""
        return self._state.identity

    @property
    def ended(self) -> bool:
        return self._state.ended

    def caller_identity(
        self, work_situation: WorkSituationChoice = None, *, purpose: PurposeOfUse = PurposeOfUse.NORMAL
    ) -> CallerIdentity:
        """The DMP caller (VIHF) for the chosen work situation (default: ``psc.work_situation``, else the first)."""
        config = self._config()
        choice = work_situation if work_situation is not None else config.work_situation
        return self._state.identity.caller_identity(choice, profile=config.dmp, purpose=purpose)

    def _config(self) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._state.describe(self._clock())}"


class PscSession(_Common):
    """A signed-in professional's PSC session for synchronous code (thread-safe).

    Obtained from :meth:`PscClient.finish_sign_in`, :meth:`PscClient.sign_in_ciba`,
    :meth:`PscClient.sign_in_with_browser` or :meth:`restore`.
    """

    def __init__(self, client: PscClient, signed_in: SignedIn) -> None:
        self._client = client
        self._clock = client.provider.clock
        self._state = _State(signed_in, client.config.refresh_margin)
        self._lock = threading.RLock()

    def _config(self) -> Any:
        return self._client.config

    @classmethod
    def restore(cls, client: PscClient, saved: SavedSession) -> PscSession:
        """Resume a saved session: refresh now (a new ID token is validated), read UserInfo again.

        The saved ID token is not validated again (it has usually expired): the identity was checked
        at sign-in, and the refresh answer and UserInfo must name the same ``sub``.
        """
        _check_saved(client.config.issuer_url, client.config.client_id, saved, client.provider.clock())
        return cls(client, client.run(_resumed(client, saved)))

    def access_token(self) -> str:
        """A PSC access token valid for at least ``refresh_margin`` seconds (refreshing it if needed)."""
        with self._lock:
            token = self._state.fresh_access(self._clock())
            if token is not None:
                return token
            refresh = self._state.usable_refresh(self._clock())
            try:
                tokens = self._client.refresh(refresh, subject=self._state.subject)
            except (PscSignInRequired, PscTokenError):
                self._state.end()
                raise
            self._state.update(tokens, self._clock())
            return self._state.access_token

    def userinfo(self) -> dict[str, Any]:
        """Fresh UserInfo claims."""
        return self._client.userinfo(self.access_token())

    def dmp_authorization_header(self) -> Mapping[str, str]:
        """``{"Authorization": "Bearer <exchanged token>"}`` when token exchange is configured, else ``{}``."""
        settings = self._client.config.dmp.token_exchange
        if settings is None:
            return {}
        with self._lock:
            token = self._state.exchanged(self._clock(), settings.refresh_margin)
            if token is None:
                exchanged = self._client.exchange_token(self.access_token())
                token = self._state.set_exchanged(exchanged, self._clock())
        return {"Authorization": f"Bearer {token}"}

    def httpx_auth(self) -> httpx.Auth:
        """An ``httpx.Auth`` adding :meth:`dmp_authorization_header` to every request of an httpx client."""
        return _HeaderAuth(self)

    def save(self) -> SavedSession:
        """What to persist to resume later (raises :class:`PscSignInRequired` if nothing is left to save)."""
        with self._lock:
            config = self._client.config
            return self._state.saved(config.issuer_url, config.client_id, self._clock())

    def logout(self) -> None:
        """End the session at PSC (RP-initiated logout with the ID token hint) and forget the tokens."""
        with self._lock:
            id_token = self._state.id_token
            self._state.end()
        if id_token:
            self._client.end_session(id_token)


class AsyncPscSession(_Common):
    """The asyncio twin of :class:`PscSession` (one lock per session; share it among the tasks of one loop)."""

    def __init__(self, client: AsyncPscClient, signed_in: SignedIn) -> None:
        self._client = client
        self._clock = client.provider.clock
        self._state = _State(signed_in, client.config.refresh_margin)
        self._lock = asyncio.Lock()

    def _config(self) -> Any:
        return self._client.config

    @classmethod
    async def restore(cls, client: AsyncPscClient, saved: SavedSession) -> AsyncPscSession:
        _check_saved(client.config.issuer_url, client.config.client_id, saved, client.provider.clock())
        return cls(client, await client.run(_resumed(client, saved)))

    async def access_token(self) -> str:
        async with self._lock:
            return await self._access_token_locked()

    async def _access_token_locked(self) -> str:
        """:meth:`access_token` for a caller holding the lock (``asyncio.Lock`` is not re-entrant)."""
        token = self._state.fresh_access(self._clock())
        if token is not None:
            return token
        refresh = self._state.usable_refresh(self._clock())
        try:
            tokens = await self._client.refresh(refresh, subject=self._state.subject)
        except (PscSignInRequired, PscTokenError):
            self._state.end()
            raise
        self._state.update(tokens, self._clock())
        return self._state.access_token

    async def userinfo(self) -> dict[str, Any]:
        return await self._client.userinfo(await self.access_token())

    async def dmp_authorization_header(self) -> Mapping[str, str]:
        settings = self._client.config.dmp.token_exchange
        if settings is None:
            return {}
        async with self._lock:  # as in the sync session: concurrent tasks share one exchange
            token = self._state.exchanged(self._clock(), settings.refresh_margin)
            if token is None:
                exchanged = await self._client.exchange_token(await self._access_token_locked())
                token = self._state.set_exchanged(exchanged, self._clock())
        return {"Authorization": f"Bearer {token}"}

    def httpx_auth(self) -> httpx.Auth:
        return _HeaderAuth(self)

    async def logout(self) -> None:
        async with self._lock:
            id_token = self._state.id_token
            self._state.end()
        if id_token:
            await self._client.end_session(id_token)


def _check_saved(issuer: str, client_id: str, saved: SavedSession, now: float) -> None:
    if (saved.issuer, saved.client_id) != (issuer, client_id):
        raise PscError("the saved session belongs to another PSC provider or client: sign in again")
    if now >= saved.refresh_expires_at:
        raise PscSignInRequired("the saved Pro Santé Connect session has expired: sign in again")


def _resumed(client: PscClient | AsyncPscClient, saved: SavedSession) -> Flow[SignedIn]:
    return client.provider.resumed(saved.refresh_token, saved.subject, saved.id_token)


class _HeaderAuth(httpx.Auth):
    """httpx authentication adding the session's DMP header (sync or async session)."""

    def __init__(self, session: PscSession | AsyncPscSession) -> None:
        self._session = session

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not isinstance(self._session, PscSession):
            raise PscError("an async PSC session needs an httpx.AsyncClient")
        request.headers.update(self._session.dmp_authorization_header())
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> Any:
        session = self._session
        headers = (
            await session.dmp_authorization_header()
            if isinstance(session, AsyncPscSession)
            else await asyncio.to_thread(session.dmp_authorization_header)
        )
        request.headers.update(headers)
        yield request
