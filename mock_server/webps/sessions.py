"""Short web PS sessions opened by an accepted TD0.10 entry: an unguessable cookie → the authenticated caller.

In memory (a session dies with the server); at most ``max_sessions`` open, expired ones purged on the way.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass, field
from typing import Final

from mock_server.context import Caller

__all__ = ["COOKIE", "Session", "Sessions"]

#: The session cookie: ``Secure; HttpOnly; SameSite=Strict``, path ``/AccesDirect``.
COOKIE: Final = "dmp_webps_session"


@dataclass(frozen=True, slots=True)
class Session:
    """A professional's web PS session (who, in which access mode, until when)."""

    token: str
    caller: Caller
    expires: dt.datetime


@dataclass
class Sessions:
    """The open sessions, by cookie value."""

    ttl: dt.timedelta = dt.timedelta(minutes=15)
    max_sessions: int = 10_000
    _open: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, caller: Caller, now: dt.datetime) -> Session:
        """A new session for ``caller`` (the oldest is dropped when too many are open)."""
        session = Session(secrets.token_urlsafe(32), caller, now + self.ttl)
        with self._lock:
            self._purge(now)
            if len(self._open) >= self.max_sessions:
                self._open.pop(next(iter(self._open)))
            self._open[session.token] = session
        return session

    def get(self, token: str | None, now: dt.datetime) -> Session | None:
        """The live session of a cookie value, or ``None``."""
        if not token:
            return None
        with self._lock:
            session = self._open.get(token)
            if session is not None and session.expires <= now:
                del self._open[token]
                return None
            return session

    def _purge(self, now: dt.datetime) -> None:
        for token in [t for t, s in self._open.items() if s.expires <= now]:
            del self._open[token]
