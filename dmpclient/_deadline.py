"""The total time budget of one call (connect, send, wait, read every byte, retries included).

Per-read timeouts reset on every byte: a server trickling one byte a second would keep a call open
forever. A :class:`Deadline` bounds the whole call: the synchronous transport caps every socket operation
(connect, TLS handshake, each write and each read) to the time left, the asynchronous one cancels the exchange.
"""

from __future__ import annotations

import time

from dmpclient.errors import DmpTimeoutError

__all__ = ["Deadline"]


class Deadline:
    """A point in time (monotonic clock) by which a call must be over.

    Args:
        seconds: the budget (``timeouts.total``, or ``deadline=`` on the call).
    """

    __slots__ = ("_end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self._end

    def bound(self, timeout: float) -> float:
        """``timeout`` shortened so that it cannot outlast the deadline (at least 1 ms)."""
        return max(0.001, min(timeout, self.remaining()))

    def check(self, during: str) -> None:
        """Raise :class:`DmpTimeoutError` if the budget ran out.

        Args:
            during: what was going on, for the message (``"reading the response"``).
        """
        if self.expired:
            raise self.error(during)

    def error(self, during: str) -> DmpTimeoutError:
        """The error saying which budget ran out and how to change it."""
        return DmpTimeoutError(
            f"the call deadline of {self.seconds:g} s ran out while {during} (timeouts.total in the "
            "configuration, or deadline= on the call)"
        )
