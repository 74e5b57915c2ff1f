"""Keeping a PSC session between two runs of a command-line program (``dmp psc login`` / ``whoami``).

Choice (documented in docs/psc.md): a JSON file holding only a :class:`SavedSession` — the refresh
token, its expiry, the ID token (logout hint), whom it signs in, the provider and client — in the user's
cache directory (``$XDG_CACHE_HOME/dmpclient/psc-session.json``, else ``~/.cache/…``). No access token is
stored (it lives 2 minutes). Risk: whoever can read the file as this user can act as the professional
until the refresh token expires (30 minutes at PSC) or logout is run.

What keeps others out (POSIX): the directory is created 0700, and an existing one must belong to the
user and be writable by nobody else; the file is written to a fresh ``mkstemp`` file (``O_EXCL``,
0600) in that directory, synced, then renamed over the old one, so no one can pre-create, link or
half-read it. Loading refuses a symbolic link (``O_NOFOLLOW``), a file of another owner, and a file
group or others may access: :class:`~dmpclient.psc.errors.PscStorageError` says what to fix.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from dmpclient.psc.errors import PscStorageError
from dmpclient.psc.session import SavedSession

__all__ = ["SessionFile", "default_session_path"]

_FIELDS: Final = ("issuer", "client_id", "refresh_token", "refresh_expires_at", "id_token", "subject")
_MAX_FILE: Final = 256 * 1024
_OTHERS: Final = stat.S_IRWXG | stat.S_IRWXO
_OTHERS_WRITE: Final = stat.S_IWGRP | stat.S_IWOTH


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
        """Replace the file atomically with ``saved`` (mode 0600, in a directory only the user can write).

        Raises:
            PscStorageError: the directory is not safe (another owner, writable by others) or not writable.
        """
        data = json.dumps({name: getattr(saved, name) for name in _FIELDS}, allow_nan=False).encode()
        try:
            _private_directory(self.path.parent)
            _replace(self.path, data)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise PscStorageError(f"cannot write {self.path} ({reason}): choose another path (--session)") from None

    def load(self, now: float) -> SavedSession | None:
        """The saved session, or ``None`` when there is none or it has expired (the file is then removed).

        Raises:
            PscStorageError: the file is a symbolic link, belongs to another user or others may access it.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if os.path.islink(self.path):
                raise PscStorageError(
                    f"{self.path} is a symbolic link, not the session file dmpclient wrote: delete it and sign in again"
                ) from None
            raise PscStorageError(f"cannot read {self.path} ({exc.strerror}): fix it or delete it") from None
        with os.fdopen(fd, "rb") as handle:
            _check_private_file(self.path, os.fstat(handle.fileno()))
            raw = handle.read(_MAX_FILE + 1)
        saved = _decode(raw)
        if saved is None or now >= saved.refresh_expires_at:
            self.delete()
            return None
        return saved

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _private_directory(directory: Path) -> None:
    """Create ``directory`` 0700, or check that an existing one is the user's and writable by nobody else."""
    try:
        directory.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    else:
        os.chmod(directory, 0o700)  # the umask may have removed bits, never added: make it exact
        return
    info = os.stat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise PscStorageError(f"{directory} is not a directory: choose another session path (--session)")
    if info.st_uid != os.geteuid():
        raise PscStorageError(
            f"{directory} belongs to another user: keep the PSC session in a directory of yours (--session)"
        )
    if info.st_mode & _OTHERS_WRITE:
        raise PscStorageError(
            f"other users can write to {directory}: run `chmod go-w {directory}` "
            "or keep the PSC session in a private directory (--session)"
        )


def _replace(path: Path, data: bytes) -> None:
    """Write a fresh, unguessable 0600 file beside ``path``, sync it, rename it over ``path``."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _check_private_file(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise PscStorageError(f"{path} is not a regular file: delete it and sign in again")
    if info.st_uid != os.geteuid():
        raise PscStorageError(f"{path} belongs to another user: delete it and sign in again")
    if info.st_mode & _OTHERS:
        raise PscStorageError(f"{path} is accessible to other users: delete it and sign in again")


def _decode(raw: bytes) -> SavedSession | None:
    """The session a file holds, or ``None`` when it is not one this version wrote (then signed in again)."""
    if len(raw) > _MAX_FILE:
        return None
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
        saved = SavedSession(
            issuer=str(data["issuer"]),
            client_id=str(data["client_id"]),
            refresh_token=str(data["refresh_token"]),
            refresh_expires_at=float(data["refresh_expires_at"]),
            id_token=str(data["id_token"]),
            subject=str(data["subject"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    return saved if math.isfinite(saved.refresh_expires_at) else None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (the new name is in the directory's data)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
