"""Files holding secrets or health data: written so that only their owner can read them, and whole or not at all.

A fresh ``mkstemp`` file beside the destination (``O_EXCL``, mode 0600: no planted file or link is followed or
reused), synced, then renamed over the destination, and the rename synced: a crash leaves the old file or the new
one, never half of one, and never a copy others can read.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["sync_directory", "write_private"]


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, readable by the owner only (0600), atomically and durably."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # mkstemp's mode already; said again for a umask-less platform
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    """Make a rename durable (the new name is in the directory's data)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
