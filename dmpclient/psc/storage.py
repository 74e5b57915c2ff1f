"""Keeping a PSC session between two runs of a command-line program (``dmp psc login`` / ``whoami``).

Choice (documented in docs/psc.md): a JSON file holding only a :class:`SavedSession` — the refresh
token, its expiry, the ID token (logout hint), and whom they belong to — in the user's cache
directory (``$XDG_CACHE_HOME/dmpclient/psc-session.json``, else ``~/.cache/…``), created with mode
0600 in a 0700 directory, refused if anyone else can read it, deleted by ``logout`` and once expired.
No access token is stored (it lives 2 minutes). Risk: whoever can read the file as this user can act
as the professional until the refresh token expires (30 minutes at PSC) or logout is run.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from dmpclient.psc.errors import PscError
from dmpclient.psc.session import SavedSession

__all__ = ["SessionFile", "default_session_path"]

_FIELDS: Final = ("issuer", "client_id", "refresh_token", "refresh_expires_at", "id_token")


def default_session_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/dmpclient/psc-session.json`` (``~/.cache`` when unset)."""
    env = os.environ if env is None else env
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dmpclient" / "psc-session.json"


class SessionFile:
    """An owner-only file holding one :class:`SavedSession`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_session_path()

    def save(self, saved: SavedSession) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = json.dumps({name: getattr(saved, name) for name in _FIELDS}).encode()
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, self.path)

    def load(self, now: float) -> SavedSession | None:
        """The saved session, or ``None`` when there is none or it has expired (the file is then removed)."""
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PscError(f"{self.path} is readable by other users: delete it and sign in again")
        try:
            data = json.loads(self.path.read_bytes())
            saved = SavedSession(
                issuer=str(data["issuer"]),
                client_id=str(data["client_id"]),
                refresh_token=str(data["refresh_token"]),
                refresh_expires_at=float(data["refresh_expires_at"]),
                id_token=str(data["id_token"]),
            )
        except (ValueError, KeyError, TypeError):
            self.delete()
            return None
        if now >= saved.refresh_expires_at:
            self.delete()
            return None
        return saved

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
