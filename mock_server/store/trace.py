"""The access trace ("historique des accès" of the DMP): one entry per admitted or refused call."""

from __future__ import annotations

from mock_server.store import rows as _rows
from mock_server.store.database import Database
from mock_server.store.records import TraceEntry

__all__ = ["TraceStore"]


class TraceStore(Database):
    """Append-only access trace."""

    def record_access(self, entry: TraceEntry) -> int:
        """Append a trace entry; returns its id."""
        params = _rows.trace_params(entry)
        columns = ", ".join(params)
        placeholders = ", ".join(f":{name}" for name in params)
        with self.transaction():
            cursor = self._execute(f"INSERT INTO access_trace ({columns}) VALUES ({placeholders})", params)  # noqa: S608
        return int(cursor.lastrowid or 0)

    def access_trace(self, *, patient: str | None = None, limit: int = 100) -> list[TraceEntry]:
        """The most recent trace entries first, optionally for one patient."""
        if patient is None:
            rows = self._query("SELECT * FROM access_trace ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._query(
                "SELECT * FROM access_trace WHERE patient_ins = ? ORDER BY id DESC LIMIT ?", (patient, limit)
            )
        return [_rows.trace(row) for row in rows]
