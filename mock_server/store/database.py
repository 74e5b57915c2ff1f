"""SQLite persistence of the mock DMP: patients, authorisations, registry/repository, access trace.

Durability choices (stdlib :mod:`sqlite3`):

* WAL journal + one ``BEGIN IMMEDIATE`` transaction per request (:meth:`Store.transaction`): a request's
  writes are all visible or none are, even if the process is killed mid-way (the uncommitted WAL frames
  are ignored on reopen).
* ``synchronous=NORMAL`` by default: in WAL mode a committed transaction has been written to the OS
  before ``COMMIT`` returns, so it survives ``kill -9`` of the server; only a power loss or OS crash may
  lose the last commits (never corrupt the file). ``FULL`` (fsync at every commit) is available for
  storage that must survive power loss, at a cost in latency.
* Connections: a bounded pool (``pool_size``, :mod:`mock_server.store.pool`). A thread checks a connection
  out for one transaction or one query (SQLite connections must not be used by two threads at once)
  and gives it back, so worker threads may come and go without leaking connections. Repository methods
  join the caller's open transaction (as a savepoint) or run in their own.
* Writers: the app serialises the writers of its process with an in-process lock, which wakes the next
  writer at once, whereas SQLite's busy handler polls with sleeps of up to 100 ms. ``busy_timeout``
  still bounds waits on the file lock held by another process (``dmp mock seed`` or ``reset`` while a
  server runs) and on a free pooled connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, Literal, Self

from dmpclient.errors import DmpValidationError
from mock_server.store.migrations import migrate
from mock_server.store.pool import ConnectionPool

__all__ = ["DATABASE_FILENAME", "Database", "database_path"]

#: File name of the store inside the mock's data directory.
DATABASE_FILENAME: Final = "dmp-mock.sqlite3"
_TABLES: Final = (
    "access_trace",
    "associations",
    "documents",
    "submission_sets",
    "contents",
    "authorisations",
    "patients",
)


def database_path(data_dir: Path) -> Path:
    """Where the store lives in a data directory (``dmp mock … --data DIR``)."""
    return data_dir / DATABASE_FILENAME


class Database:
    """The SQLite file, its connection pool and transactions; the aggregate stores build on it."""

    def __init__(self, path: Path, *, synchronous: str, busy_timeout_ms: int, pool_size: int) -> None:
        self.path = path
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._pool = ConnectionPool(self._connect, size=pool_size, wait_seconds=busy_timeout_ms / 1000)
        self._local = threading.local()

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_ms: int = 10_000,
        pool_size: int = 8,
    ) -> Self:
        """Open (creating if needed) the store at ``path`` and apply pending migrations.

        Args:
            pool_size: the most SQLite connections open at once (threads beyond it wait for one).
        """
        if synchronous not in ("NORMAL", "FULL"):
            raise DmpValidationError("synchronous: NORMAL or FULL", field="synchronous")
        if pool_size < 1:
            raise DmpValidationError("pool_size: at least 1", field="pool_size")
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms, pool_size=pool_size)
        try:
            with store._pool.checkout() as connection:
                migrate(connection)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close the pooled connections (call once, when the server stops)."""
        self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms:d}")
        except BaseException:
            connection.close()
            raise
        return connection

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection for raw SQL (maintenance, benchmarks); the open transaction's one if any."""
        with self._pool.checkout() as connection:
            yield connection

    @property
    def open_connections(self) -> int:
        """SQLite connections open now (at most ``pool_size``)."""
        return self._pool.open_count

    @property
    def schema_version(self) -> int:
        return int(self._query("PRAGMA user_version")[0][0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: ``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception.

        Nested calls (a repository method inside a request's transaction) are savepoints: a failed inner
        unit is undone even if the caller catches its exception and the outer transaction commits.
        """
        with self._pool.checkout() as connection:
            depth: int = getattr(self._local, "depth", 0)
            if depth:
                begin, commit, rollback = f"SAVEPOINT s{depth}", f"RELEASE s{depth}", f"ROLLBACK TO s{depth}"
            else:
                begin, commit, rollback = "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"
            connection.execute(begin)
            self._local.depth = depth + 1
            try:
                yield
                connection.execute(commit)
            except BaseException:
                if connection.in_transaction:
                    connection.execute(rollback)
                    if depth:
                        connection.execute(commit)
                raise
            finally:
                self._local.depth = depth

    def _query(self, sql: str, params: Sequence[object] | dict[str, object] = ()) -> list[sqlite3.Row]:
        with self._pool.checkout() as connection:
            return connection.execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[object] | dict[str, object] = ()) -> sqlite3.Cursor:
        """A write statement; call it inside :meth:`transaction` (the cursor stays on that connection)."""
        with self._pool.checkout() as connection:
            return connection.execute(sql, params)

    # --- maintenance ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe every row (the schema stays)."""
        with self.transaction():
            for table in _TABLES:
                self._execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def counts(self) -> dict[str, int]:
        """Row count of every table."""
        return {table: int(self._query(f"SELECT count(*) FROM {table}")[0][0]) for table in _TABLES}  # noqa: S608
