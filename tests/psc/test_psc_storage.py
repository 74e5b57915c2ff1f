"""The saved-session file keeps other users out: atomic 0600 writes, no links followed, owner checked.

These tests plant what another local user could (a link or a loose file at a predictable name, a shared
directory, a file of theirs) and check that the refresh token neither leaks nor is read from there.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from dmpclient.psc import PscStorageError, SavedSession, SessionFile

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")


def saved_session(expires_in: float = 1800) -> SavedSession:
    return SavedSession(
        issuer="https://auth.example/auth/realms/esante-wallet",
        client_id="my-lps",
        refresh_token="refresh-token-value",
        refresh_expires_at=time.time() + expires_in,
        id_token="id.token.value",
        subject="f:1:899900063480",
    )


def private_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    return directory


def test_a_link_planted_at_the_temporary_name_is_not_followed(tmp_path: Path) -> None:
    directory = private_dir(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (directory / "psc-session.tmp").symlink_to(victim)
    SessionFile(directory / "psc-session.json").save(saved_session())
    assert victim.read_text() == "keep me"
    assert (directory / "psc-session.tmp").is_symlink()  # left alone


def test_a_loose_file_at_the_temporary_name_does_not_lend_its_mode(tmp_path: Path) -> None:
    directory = private_dir(tmp_path)
    loose = directory / "psc-session.tmp"
    loose.write_text("")
    loose.chmod(0o644)
    store = SessionFile(directory / "psc-session.json")
    store.save(saved_session())
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in directory.iterdir()) == ["psc-session.json", "psc-session.tmp"]  # no leftover


def test_the_directory_is_created_private_and_the_file_is_standard_json(tmp_path: Path) -> None:
    store = SessionFile(tmp_path / "a" / "cache" / "psc-session.json")
    store.save(saved_session())
    assert store.path.parent.stat().st_mode & 0o777 == 0o700
    assert store.path.stat().st_mode & 0o777 == 0o600
    document = json.loads(store.path.read_text())
    assert document["refresh_token"] == "refresh-token-value"
    loaded = store.load(time.time())
    assert loaded is not None
    assert loaded.refresh_token == "refresh-token-value"


def test_a_directory_others_can_write_to_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    store = SessionFile(shared / "psc-session.json")
    with pytest.raises(PscStorageError, match="chmod go-w") as caught:
        store.save(saved_session())
    assert "refresh-token-value" not in str(caught.value)
    assert list(shared.iterdir()) == []


def test_an_existing_private_directory_is_used_as_it_is(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir()
    directory.chmod(0o755)  # listable, not writable, by others: the 0600 file is what protects the token
    store = SessionFile(directory / "psc-session.json")
    store.save(saved_session())
    assert store.load(time.time()) is not None
    assert directory.stat().st_mode & 0o777 == 0o755


def test_a_symbolic_link_is_not_loaded(tmp_path: Path) -> None:
    elsewhere = SessionFile(private_dir(tmp_path) / "real.json")
    elsewhere.save(saved_session())
    link = tmp_path / "link.json"
    link.symlink_to(elsewhere.path)
    with pytest.raises(PscStorageError, match="symbolic link"):
        SessionFile(link).load(time.time())
    assert elsewhere.path.exists()


def test_a_file_others_can_read_is_not_loaded(tmp_path: Path) -> None:
    store = SessionFile(private_dir(tmp_path) / "psc-session.json")
    store.save(saved_session())
    store.path.chmod(0o640)
    with pytest.raises(PscStorageError, match="other users: delete it"):
        store.load(time.time())


@as_root
def test_a_file_of_another_user_is_not_loaded(tmp_path: Path) -> None:
    store = SessionFile(private_dir(tmp_path) / "psc-session.json")
    store.save(saved_session())
    os.chown(store.path, NOBODY, NOBODY)
    with pytest.raises(PscStorageError, match="belongs to another user"):
        store.load(time.time())


@as_root
def test_a_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    directory = private_dir(tmp_path)
    os.chown(directory, NOBODY, NOBODY)
    with pytest.raises(PscStorageError, match="belongs to another user"):
        SessionFile(directory / "psc-session.json").save(saved_session())


@pytest.mark.parametrize("expiry", ["Infinity", "NaN", '"soon"', "null"])
def test_a_session_without_a_finite_expiry_is_dropped(tmp_path: Path, expiry: str) -> None:
    store = SessionFile(private_dir(tmp_path) / "psc-session.json")
    fields = '"issuer": "i", "client_id": "c", "refresh_token": "r", "id_token": "t", "subject": "s"'
    store.path.write_text(f'{{{fields}, "refresh_expires_at": {expiry}}}')
    store.path.chmod(0o600)
    assert store.load(time.time()) is None
    assert not store.path.exists()


def test_an_endless_session_cannot_be_written(tmp_path: Path) -> None:
    store = SessionFile(private_dir(tmp_path) / "psc-session.json")
    with pytest.raises(ValueError, match="JSON"):
        store.save(saved_session(expires_in=float("inf")))
    assert not store.path.exists()
    assert list(store.path.parent.iterdir()) == []


def test_a_path_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    store = SessionFile(tmp_path / "a-file" / "cache" / "psc-session.json")
    with pytest.raises(PscStorageError, match=r"cannot write .*Not a directory.*--session"):
        store.save(saved_session())
