"""Warnings for requests accepted although they deviate from the official form (issue 4 §2).

The mock is liberal in what it accepts, but says so: each distinct deviation is logged once per process
at WARNING, later occurrences at DEBUG, so that a client repeating it on every call does not flood the
logs. The texts come partly from the request (header names), so only a bounded number is remembered;
past that bound new texts are logged at DEBUG too.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

__all__ = ["WarnOnce", "warn_nonconforming"]

_MAX_REMEMBERED: Final = 256


class WarnOnce:
    """Log each distinct text once at WARNING, then at DEBUG (thread-safe, bounded memory)."""

    def __init__(self, logger: logging.Logger, *, max_remembered: int = _MAX_REMEMBERED) -> None:
        self._logger = logger
        self._max = max_remembered
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            first = text not in self._seen and len(self._seen) < self._max
            if first:
                self._seen.add(text)
        self._logger.log(logging.WARNING if first else logging.DEBUG, "accepted a non-conforming request: %s", text)


#: The process-wide de-duplicating logger of the app and the gate.
warn_nonconforming: Final = WarnOnce(logging.getLogger("mock_server"))
