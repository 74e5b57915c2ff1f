"""A bounded pool of SQLite connections shared by the threads of the mock (see :mod:`mock_server.store`).

A thread checks a connection out for one unit of work (a transaction, or a single query) and gives it
back; nested check-outs on the same thread reuse the connection it holds. Connections therefore do not
follow threads: anyio recycles idle worker threads after 10 s, and thread-local connections would leak
one per recycled thread until the store is closed.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """At most ``size`` connections, opened on demand by ``connect`` and reused (most recent first).

    Args:
        connect: opens and configures one connection (usable from any thread).
        size: the most connections ever open at once.
        wait_seconds: how long a thread waits for a free connection when all are checked out.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], *, size: int, wait_seconds: float) -> None:
        if size < 1:
            raise ValueError("a connection pool needs at least one connection")
        self._connect = connect
        self._size = size
        self._wait_seconds = wait_seconds
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._open: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._held = threading.local()

    @property
    def open_count(self) -> int:
        """Connections currently open (idle or checked out), never more than ``size``."""
        with self._lock:
            return len(self._open)

    @contextmanager
    def checkout(self) -> Iterator[sqlite3.Connection]:
        """The connection this thread holds, or a pooled one held until the block ends."""
        held: sqlite3.Connection | None = getattr(self._held, "connection", None)
        if held is not None:
            yield held
            return
        connection = self._acquire()
        self._held.connection = connection
        try:
            yield connection
        finally:
            self._held.connection = None
            self._release(connection)

    def close(self) -> None:
        """Close the idle connections now and the checked-out ones when they are given back."""
        with self._lock:
            self._open.clear()
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def _acquire(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._open) < self._size:
                connection = self._connect()
                self._open.append(connection)
                return connection
        try:
            return self._idle.get(timeout=self._wait_seconds)
        except queue.Empty:
            raise sqlite3.OperationalError(
                f"no free database connection within {self._wait_seconds:g} s (pool of {self._size})"
            ) from None

    def _release(self, connection: sqlite3.Connection) -> None:
        if connection.in_transaction:  # a failed COMMIT or ROLLBACK: never hand out an open transaction
            connection.rollback()
        with self._lock:
            pooled = any(c is connection for c in self._open)
        if pooled:
            self._idle.put(connection)
        else:
            connection.close()
