"""The local journal of submissions (SQLite, WAL): resume an interrupted feed, never send a document twice.

Two tables (the journal model of reference §13.5, restricted to feeding):

* ``documents`` — one row per document uniqueId: its state, the ids of the submission that carries it
  (submission set and signature uniqueIds, submission time: sending them again makes an identical
  re-submission), its content hash, its versioning (setId, versionNumber, typeCode), its author and legal
  authenticator, and who sent it (the VIHF subject, its kind, the mode);
* ``events`` — append-only, one row per attempt (TD, outcome, error code, the same facts), from which the
  Ségur indicators are queries (one successful version per document).

States: ``sending`` is written (and committed) *before* the request leaves; ``succeeded`` / ``failed``
(nothing was registered: safe to send again, with new ids) / ``unknown`` (sent, outcome not learned) after.
A document found ``sending`` or ``unknown`` is resumed by asking the registry first, with the same ids.
The journal is local and holds the patient's INS (the indicators need it); it is never logged.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Final, Self

from pydantic import BaseModel, ConfigDict

from dmpclient.errors import DmpConfigError
from dmpclient.feeding.origin import Origin
from dmpclient.transactions.feeding import SubmissionIds, SubmittedDocument

__all__ = ["FeedJournal", "JournalEntry", "JournalState"]

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS documents (
        unique_id TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('sending', 'unknown', 'succeeded', 'failed')),
        source TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        patient_ins TEXT NOT NULL,
        submission_set_unique_id TEXT,
        signature_unique_id TEXT,
        submission_time TEXT,
        set_id TEXT,
        version_number INTEGER,
        type_code TEXT,
        author_id TEXT,
        author_kind TEXT,
        legal_authenticator_id TEXT,
        sender_id TEXT,
        sender_kind TEXT,
        mode TEXT,
        error_code TEXT,
        error_message TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    ) STRICT""",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        td TEXT NOT NULL,
        outcome TEXT NOT NULL,
        error_code TEXT,
        unique_id TEXT NOT NULL,
        set_id TEXT,
        version_number INTEGER,
        type_code TEXT,
        patient_ins TEXT NOT NULL,
        submission_set_unique_id TEXT,
        author_id TEXT,
        author_kind TEXT,
        legal_authenticator_id TEXT,
        sender_id TEXT,
        sender_kind TEXT,
        sender_role TEXT,
        structure_id TEXT,
        mode TEXT
    ) STRICT""",
    "CREATE INDEX IF NOT EXISTS events_by_document ON events (unique_id, id)",
)


class JournalState(StrEnum):
    """Where a document stands."""

    SENDING = "sending"
    UNKNOWN = "unknown"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JournalEntry(BaseModel):
    """A document's row of the journal."""

    model_config = ConfigDict(frozen=True)

    unique_id: str
    state: JournalState
    source: str
    content_sha256: str
    ids: SubmissionIds | None
    attempts: int
    error_code: str | None = None

    @property
    def resumable(self) -> bool:
        """Sent before, outcome unknown: ask the registry, then send the same ids only if absent."""
        return self.state in (JournalState.SENDING, JournalState.UNKNOWN) and self.ids is not None


def _ts(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


class FeedJournal:
    """The journal file (thread-safe: one connection, one lock; each write is one transaction).

    Args:
        path: the SQLite file (created with its directory).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")  # WAL: committed rows survive kill -9 of the client
            self._db.execute("PRAGMA busy_timeout = 10000")
            with self._db:
                for statement in _SCHEMA:
                    self._db.execute(statement)
        except sqlite3.Error as exc:
            raise DmpConfigError(f"the feed journal {self.path} cannot be opened: {exc}", field="journal") from None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def entry(self, unique_id: str) -> JournalEntry | None:
        """The journal's row for a document uniqueId."""
        with self._lock:
            row = self._db.execute(
                "SELECT unique_id, state, source, content_sha256, submission_set_unique_id, signature_unique_id, "
                "submission_time, attempts, error_code FROM documents WHERE unique_id = ?",
                (unique_id,),
            ).fetchone()
        if row is None:
            return None
        ids = None
        if row[4] and row[5] and row[6]:
            ids = SubmissionIds(
                submission_set_unique_id=row[4],
                signature_unique_id=row[5],
                submission_time=dt.datetime.fromisoformat(row[6]),
            )
        return JournalEntry(
            unique_id=row[0],
            state=JournalState(row[1]),
            source=row[2],
            content_sha256=row[3],
            ids=ids,
            attempts=row[7],
            error_code=row[8],
        )

    def sending(
        self,
        document: SubmittedDocument,
        *,
        source: str,
        content_sha256: str,
        patient_ins: str,
        ids: SubmissionIds,
        origin: Origin,
        now: dt.datetime,
    ) -> None:
        """Record, before sending, that this document is about to leave with these ids (committed)."""
        values = {
            "unique_id": document.unique_id,
            "state": JournalState.SENDING.value,
            "source": source,
            "content_sha256": content_sha256,
            "patient_ins": patient_ins,
            "submission_set_unique_id": ids.submission_set_unique_id,
            "signature_unique_id": ids.signature_unique_id,
            "submission_time": _ts(ids.submission_time),
            "set_id": document.set_id,
            "version_number": document.version_number,
            "type_code": document.type_code,
            "author_id": document.author_id,
            "author_kind": document.author_kind,
            "legal_authenticator_id": document.legal_authenticator_id,
            "sender_id": origin.sender_id,
            "sender_kind": origin.sender_kind.value,
            "mode": origin.mode,
            "updated_at": _ts(now),
        }
        columns = ", ".join(values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values if name != "unique_id")
        with self._lock, self._db:
            self._db.execute(
                f"INSERT INTO documents ({columns}, attempts) VALUES ({', '.join('?' * len(values))}, 1) "  # noqa: S608
                f"ON CONFLICT (unique_id) DO UPDATE SET {updates}, attempts = attempts + 1, error_code = NULL, "
                "error_message = NULL",
                tuple(values.values()),
            )

    def finish(
        self,
        document: SubmittedDocument,
        state: JournalState,
        *,
        patient_ins: str,
        submission_set_unique_id: str | None,
        origin: Origin,
        now: dt.datetime,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """Record the outcome of an attempt: the document's state and one event (one transaction)."""
        with self._lock, self._db:
            self._db.execute(
                "UPDATE documents SET state = ?, error_code = ?, error_message = ?, updated_at = ? WHERE unique_id = ?",
                (state.value, error_code, (error_message or "")[:500] or None, _ts(now), document.unique_id),
            )
            self._db.execute(
                "INSERT INTO events (at, td, outcome, error_code, unique_id, set_id, version_number, type_code, "
                "patient_ins, submission_set_unique_id, author_id, author_kind, legal_authenticator_id, sender_id, "
                "sender_kind, sender_role, structure_id, mode) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _ts(now),
                    "TD2.1",
                    state.value,
                    error_code,
                    document.unique_id,
                    document.set_id,
                    document.version_number,
                    document.type_code,
                    patient_ins,
                    submission_set_unique_id,
                    document.author_id,
                    document.author_kind,
                    document.legal_authenticator_id,
                    origin.sender_id,
                    origin.sender_kind.value,
                    origin.sender_role,
                    origin.structure_id,
                    origin.mode,
                ),
            )

    def counts(self) -> dict[str, int]:
        """Documents by state."""
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM documents GROUP BY state").fetchall()
        return {str(state): int(count) for state, count in rows}

    def events(self) -> Iterator[dict[str, object]]:
        """Every attempt, oldest first (for indicators and audits)."""
        with self._lock:
            cursor = self._db.execute("SELECT * FROM events ORDER BY id")
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        for row in rows:
            yield dict(zip(names, row, strict=True))
