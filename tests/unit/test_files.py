"""Owner-only atomic writes: what a planted file or link cannot change."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dmpclient.files import write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    write_private(target, b"secret")
    assert (target.read_bytes(), _mode(target)) == (b"secret", 0o600)


def test_an_existing_readable_file_becomes_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_private(target, b"new")
    assert (target.read_bytes(), _mode(target)) == (b"new", 0o600)


def test_a_link_at_the_destination_is_replaced_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"untouched")
    target = tmp_path / "session.json"
    target.symlink_to(elsewhere)
    write_private(target, b"secret")
    assert elsewhere.read_bytes() == b"untouched"
    assert not target.is_symlink()
    assert (target.read_bytes(), _mode(target)) == (b"secret", 0o600)


def test_nothing_is_left_beside_it_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_private(target, "not bytes")  # type: ignore[arg-type]  # fails after the temporary file exists
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["key.pem"]
